#!/usr/bin/env bash
# Runs InspIRCd 3 (`apt-get install -y inspircd`) with bench/inspircd.conf, for
# `loadgen irc`. Its pid file, logs and data go under DIR (default /tmp/inspircd-bench).
#
#   bench/inspircd.sh run [DIR]     # in the foreground; Ctrl-C stops it
#   bench/inspircd.sh start [DIR]   # in the background; returns once it listens on :6667
#   bench/inspircd.sh stop [DIR]
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
cmd=${1:-run}
dir=${2:-/tmp/inspircd-bench}
mkdir -p "$dir/data" "$dir/logs"
dir=$(cd "$dir" && pwd)
export INSPIRCD_BENCH_DIR=$dir

command -v inspircd >/dev/null || { echo "inspircd not installed: apt-get install -y inspircd" >&2; exit 1; }

# One descriptor per client: as many as this shell may have (65536 if allowed).
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"

args=(--config "$here/inspircd.conf" --nofork)
# It refuses to run as root unless told to; a benchmark box is often root-only.
[ "$(id -u)" = 0 ] && args+=(--runasroot)

case $cmd in
run)
    exec inspircd "${args[@]}"
    ;;
start)
    if [ -f "$dir/inspircd.pid" ] && kill -0 "$(cat "$dir/inspircd.pid")" 2>/dev/null; then
        echo "already running: pid $(cat "$dir/inspircd.pid")" >&2
        exit 1
    fi
    nohup inspircd "${args[@]}" >"$dir/stdout.log" 2>&1 &
    pid=$!
    for _ in $(seq 100); do
        if (exec 3<>/dev/tcp/127.0.0.1/6667) 2>/dev/null; then
            echo "inspircd listening on 127.0.0.1:6667, pid $pid, files in $dir"
            exit 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    echo "inspircd did not start; see $dir/stdout.log and $dir/logs/ircd.log" >&2
    cat "$dir/stdout.log" >&2
    exit 1
    ;;
stop)
    [ -f "$dir/inspircd.pid" ] || { echo "no pid file in $dir" >&2; exit 1; }
    pid=$(cat "$dir/inspircd.pid")
    kill "$pid" 2>/dev/null || { echo "not running (pid $pid)"; exit 0; }
    # It takes a moment to quit its users; wait, so a start right after finds the port free.
    for _ in $(seq 100); do
        kill -0 "$pid" 2>/dev/null || { echo "stopped pid $pid"; exit 0; }
        sleep 0.1
    done
    echo "pid $pid still running after 10 s" >&2
    exit 1
    ;;
*)
    echo "usage: $0 run|start|stop [DIR]" >&2
    exit 2
    ;;
esac
