#!/usr/bin/env python3
"""S5 baseline: SQLite's own single-row insert rate on Parlor's `messages` table.

One connection, WAL with synchronous=NORMAL (as Parlor runs it), one INSERT per transaction,
for SECS seconds, into the database Parlor's `persist` run left behind (same table, same
indexes). Usage: s5-sqlite-inserts.py PATH/TO/parlor.db [SECS]
"""
import sqlite3
import sys
import time
import uuid

path = sys.argv[1]
secs = float(sys.argv[2]) if len(sys.argv) > 2 else 10.0
db = sqlite3.connect(path, isolation_level=None)
db.execute("PRAGMA journal_mode=WAL")
db.execute("PRAGMA synchronous=NORMAL")
room_id, author_id = db.execute(
    "SELECT room_id, author_id FROM messages WHERE author_id IS NOT NULL LIMIT 1"
).fetchone()
body = "x" * 64
n = 0
start = time.monotonic()
stop = start + secs
while time.monotonic() < stop:
    db.execute("BEGIN")
    db.execute(
        "INSERT INTO messages (room_id, author_id, kind, body, client_id, created_at)"
        " VALUES (?, ?, 'text', ?, ?, ?)",
        (room_id, author_id, body, uuid.uuid4().hex, "2026-11-27 00:00:00+00:00"),
    )
    db.execute("COMMIT")
    n += 1
elapsed = time.monotonic() - start
print(f"sqlite3 single-row inserts: {n} in {elapsed:.1f} s = {n / elapsed:.0f}/s")
