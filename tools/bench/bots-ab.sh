#!/usr/bin/env bash
# Two builds' bots against each other, at the same time: a release server pinned to CPU 0 (one room of 10 player
# bots, snapshots at 20 Hz) and two bot processes of N/2 spectators each, one per build, both pinned to CPU 1, so
# that the host's drift (20–40% within an hour here) moves both alike. Prints each process's CPU over the window
# and the ratio B/A; run it twice with the builds swapped.
#
#   tools/bench/bots-ab.sh 4000 /tmp/old/tickwire .build/release/tickwire   # N, build A, build B [server build]
set -euo pipefail
bots=${1:?N}; a=${2:?build A}; b=${3:?build B}; server_binary=${4:-$b}
window_s=15
log=$(mktemp)
taskset -c 0 "$server_binary" serve --host 127.0.0.1 --port 0 --loops 1 --snapshot-every 3 --room-players-max 10 \
  --room-spectators-max 20000 --max-connections 20000 --stuck-snapshots-max 600 2>"$log" &
server=$!
trap 'kill "$server" 2>/dev/null; wait "$server" 2>/dev/null; rm -f "$log"' EXIT
port=""
for _ in $(seq 100); do
  port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$' || true)
  [ -n "$port" ] && break
  sleep 0.1
done
[ -n "$port" ] || { echo "server did not start" >&2; exit 1; }
half=$((bots / 2)); ramp_s=$((bots / 300 + 2))
duration_s=$((ramp_s + 4 + window_s + 4))
taskset -c 1 "$server_binary" bots --url "ws://127.0.0.1:$port/rooms/ab" --bots 10 --threads 1 --duration "$((duration_s + 3))s" \
  --behaviour wander,chaser,shooter --input-batch 3 >/dev/null 2>&1 &
players=$!
sleep 1
spectators() {
  taskset -c 1 "$1" bots --url "ws://127.0.0.1:$port/rooms/ab" --bots "$half" --threads 1 --duration "${duration_s}s" \
    --ramp-up "${ramp_s}s" --behaviour wander --input-batch 12 --watch >/dev/null 2>&1 &
}
spectators "$a"; pid_a=$!
spectators "$b"; pid_b=$!
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
sleep $((ramp_s + 4))
a0=$(cpu_ticks "$pid_a"); b0=$(cpu_ticks "$pid_b"); start_s=$(date +%s.%N)
sleep "$window_s"
a1=$(cpu_ticks "$pid_a"); b1=$(cpu_ticks "$pid_b"); end_s=$(date +%s.%N)
wait "$pid_a" "$pid_b" "$players" || true
python3 -c "
hz, seconds = $(getconf CLK_TCK), $end_s - $start_s
a, b = ($a1 - $a0) / hz / seconds * 100, ($b1 - $b0) / hz / seconds * 100
print(f'$half spectators each: A {a:.1f}% of a core, B {b:.1f}%, B/A {b / a:.3f}')"
