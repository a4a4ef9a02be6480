# Sourced by bench/s4.sh and bench/s8.sh: starts the release `parlor` (PARLOR names another
# binary) on SQLite at 127.0.0.1:3100 with its per-address limits raised, signs up one user,
# and fills one room with 50 messages. Leaves $base, $cookie, $room and $pid set.
parlor=${PARLOR:-target/release/parlor}
base=http://127.0.0.1:3100
dir=/tmp/s4-parlor
rm -rf "$dir"; mkdir -p "$dir"
ulimit -n "$(ulimit -Hn)"
RUST_LOG=warn "$parlor" serve --addr 127.0.0.1:3100 --data-dir "$dir" \
    --database-url "sqlite://$dir/parlor.db?mode=rwc" --auth-rate-burst 1000000 \
    --send-burst 1000000 --send-period-ms 1 --rate-search 100000000/1m \
    >"$dir.log" 2>&1 &
pid=$!
trap 'kill $pid 2>/dev/null' EXIT
for _ in $(seq 100); do curl -sf "$base/healthz" >/dev/null && break; sleep 0.1; done

json=(-H 'content-type: application/json' -H "origin: $base")
curl -sf -c "$dir/jar" "${json[@]}" "$base/api/auth/signup" -d '{"username":"bench","password":"bench-password-1"}' >/dev/null
cookie=$(awk '$6=="parlor_session" {print $6"="$7}' "$dir/jar")
room=$(curl -sf -b "$dir/jar" "${json[@]}" "$base/api/rooms/create" \
    -d '{"name":"Benchmark room","topic":"S4","join_policy":"open"}' | python3 -c 'import json,sys; print(json.load(sys.stdin)["room"]["id"])')
for i in $(seq 50); do
    curl -sf -b "$dir/jar" "${json[@]}" "$base/api/messages/send" \
        -d "{\"room_id\":\"$room\",\"client_id\":\"s4-$i\",\"body\":\"message $i of the S4 room, about sixty-four bytes long....\"}" >/dev/null
done

