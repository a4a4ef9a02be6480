-- S5 baseline: PostgreSQL's own single-row insert rate on Parlor's `messages` table, one
-- INSERT per transaction (pgbench's default), into the database Parlor's `persist` run left
-- behind. Variables are passed as parameters with -M prepared:
--   pgbench -n -M prepared -c 50 -j 2 -T 10 -f bench/s5-pgbench-insert.sql \
--     -D room_id=ROOM -D author_id=USER DBNAME
\set n random(1, 2000000000)
INSERT INTO messages (room_id, author_id, kind, body, client_id, created_at)
VALUES (:room_id, :author_id, 'text', repeat('x', 64), 'pgb-' || :n || '-' || random(), now());
