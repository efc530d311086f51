#!/usr/bin/env bash
# How many players one core holds: a release server pinned to CPU 0, a bot swarm pinned to CPU 1, Arena at 60 Hz.
# Four server series: one room with interest management and snapshots at 60 Hz; the same at 20 Hz; rooms of 10
# players at 60 Hz; rooms of 10 at 20 Hz (the shape of Colyseus's published 1,000-2,000 clients per vCPU at a 20 Hz
# patch rate).
# Each run ramps the bots up, lets them settle, then measures a steady window: server CPU per client-tick, tick
# duration p50/p99/max (max: the highest histogram bucket in the window), overruns (ticks that started a whole
# period late), delivery, bytes per client per second, CPU 0 steal time (the VM host running someone else),
# and the bots' own CPU (a saturated load generator must not pass for a slow server).
#
#   tools/bench/capacity.sh                 # every series (about 25 minutes)
#   tools/bench/capacity.sh --series rooms  # one series: room60, room20, rooms, rooms20, watchers or swarm
#
# The watchers and swarm series measure the load generator instead: player bots in one room at 20 Hz snapshots
# (64 for watchers, 10 for swarm), and N spectator bots (--watch) that each decode every snapshot of the whole room,
# all in one bot process on CPU 1. Spectators with the same acknowledged baseline share one encode on the server, so
# the server stays light. Watchers send their inputs 3 ticks a write; swarm 12 (5 writes a second), so its bots'
# core goes almost all to reading and decoding snapshots: its "bots µs per snapshot" is the load generator's cost.
#   tools/bench/capacity.sh --window 10     # seconds measured per run after ramp-up [10]
#   tools/bench/capacity.sh --ramp-rate 150 # bots joining per second during ramp-up [150]; a faster crowd is a
#                                           # join-storm test, not a capacity test
#   tools/bench/capacity.sh --series room20 --sizes "750 1000"   # only these N
#   tools/bench/capacity.sh --baseline /tmp/old/tickwire   # each N also with that server binary, right after (same
#                                           # bots): rows "<series>@baseline" and a CPU ratio, since this host's speed
#                                           # drifts by 20% within an hour and only a same-sitting ratio compares builds
#
# A run holds when every bot joined, no tick overran and delivery is at least 99.9% (over the whole run, the ramp
# included; "delivery in window" is the measured window's alone, from the swarm's timeline). A series stops at its first
# run that does not hold. Results: a table on stdout and in .build/capacity/results.md.
set -euo pipefail
cd "$(dirname "$0")/../.."

SERIES="room60 room20 rooms rooms20 watchers swarm"
WINDOW_S=10
RAMP_BOTS_PER_S=150
while [ $# -gt 0 ]; do
  case "$1" in
    --series) SERIES=$2; shift 2 ;;
    --window) WINDOW_S=$2; shift 2 ;;
    --ramp-rate) RAMP_BOTS_PER_S=$2; shift 2 ;;
    --sizes) SIZES=$2; shift 2 ;;
    --baseline) BASELINE_BINARY=$2; shift 2 ;;
    *) echo "unknown argument $1" >&2; exit 2 ;;
  esac
done

swift build -c release --product tickwire >/dev/null
BINARY=.build/release/tickwire
OUT=.build/capacity
mkdir -p "$OUT"
CLOCK_TICKS=$(getconf CLK_TCK)

cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }
# Time the hypervisor gave CPU 0 to someone else (steal), in clock ticks: a stall we did not cause.
steal_ticks() { awk '$1 == "cpu0" {print $9}' /proc/stat; }

# run SERIES N ROOMS SNAPSHOT_EVERY INPUT_BATCH [SERVER_BINARY]: one measured run; appends a row to $OUT/rows.tsv.
run() {
  local series=$1 bots=$2 rooms=$3 snapshot_every=$4 input_batch=$5 server_binary=${6:-$BINARY}
  local players_per_room=$(( (bots + rooms - 1) / rooms ))
  local ramp_s=$(( bots / RAMP_BOTS_PER_S + 2 )) settle_s=3
  local log="$OUT/$series-$bots-serve.log" json="$OUT/$series-$bots-bots.json"
  local watch=() side_players=0
  case "${series%@baseline}" in
    watchers) side_players=64 ;;
    swarm) side_players=10 ;;
  esac
  [ "$side_players" -gt 0 ] && players_per_room=$side_players
  # The bots are one load generator on this machine: no per-address limit for it (a build from before those
  # limits existed does not know the flag).
  local exempt=()
  "$server_binary" serve --help | grep -q -- --exempt-address && exempt=(--exempt-address 127.0.0.1)
  taskset -c 0 "$server_binary" serve --host 127.0.0.1 --port 0 --loops 1 --snapshot-every "$snapshot_every" \
    --room-players-max "$players_per_room" --room-spectators-max 20000 --max-connections 20000 --rooms-max 10000 \
    --stuck-snapshots-max 600 "${exempt[@]}" 2>"$log" &
  local server=$!
  local port=""
  for _ in $(seq 100); do
    port=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$log" | grep -o '[0-9]*$' || true)
    [ -n "$port" ] && break
    sleep 0.1
  done
  [ -n "$port" ] || { echo "server did not start" >&2; cat "$log" >&2; kill "$server"; return 1; }
  # The swarm outlives the window by a margin: an overloaded server answers /metrics late.
  local duration_s=$(( ramp_s + settle_s + WINDOW_S + 12 ))
  if [ "$side_players" -gt 0 ]; then
    watch=(--watch)
    taskset -c 1 "$BINARY" bots --url "ws://127.0.0.1:$port/rooms/cap" --bots "$side_players" --threads 1 --duration "$((duration_s + 2))s" \
      --behaviour wander,chaser,shooter --input-batch 3 >"$OUT/$series-$bots-players.txt" 2>&1 &
    sleep 1
  fi
  taskset -c 1 "$BINARY" bots --url "ws://127.0.0.1:$port/rooms/cap" --bots "$bots" --rooms "$rooms" --threads 1 \
    --duration "${duration_s}s" --ramp-up "${ramp_s}s" --behaviour wander --input-batch "$input_batch" --json "$json" \
    "${watch[@]}" >"$OUT/$series-$bots-bots.txt" 2>&1 &
  local swarm=$!
  sleep $(( ramp_s + settle_s ))
  local server0 swarm0 server1 swarm1 steal0 steal1 start_s end_s
  curl -s -m 5 "http://127.0.0.1:$port/metrics" >"$OUT/metrics-0.txt" || true
  server0=$(cpu_ticks "$server"); swarm0=$(cpu_ticks "$swarm"); steal0=$(steal_ticks); start_s=$(date +%s.%N)
  sleep "$WINDOW_S"
  server1=$(cpu_ticks "$server"); swarm1=$(cpu_ticks "$swarm"); steal1=$(steal_ticks); end_s=$(date +%s.%N)
  curl -s -m 5 "http://127.0.0.1:$port/metrics" >"$OUT/metrics-1.txt" || true
  local measured_s
  measured_s=$(python3 -c "print($end_s - $start_s)")
  wait "$swarm" || true
  kill -TERM "$server" 2>/dev/null; wait "$server" 2>/dev/null || true
  python3 - "$series" "$bots" "$rooms" "$snapshot_every" "$input_batch" "$measured_s" "$CLOCK_TICKS" "$((ramp_s + settle_s))" \
    "$((server1 - server0))" "$((swarm1 - swarm0))" "$((steal1 - steal0))" "$OUT/metrics-0.txt" "$OUT/metrics-1.txt" "$json" >>"$OUT/rows.tsv" <<'PY'
import json, re, sys
series, bots, rooms, every, batch, window, hz, window_start, server_ticks, swarm_ticks, steal_ticks, m0, m1, report = sys.argv[1:]
bots, rooms, every, window, hz = int(bots), int(rooms), int(every), float(window), float(hz)  # window: seconds between CPU reads
def metrics(path):
    values = {}
    for line in open(path):
        if line.startswith("#") or not line.strip(): continue
        name, value = line.rsplit(" ", 1)
        values[name] = float(value)
    return values
a, b = metrics(m0), metrics(m1)
def window_buckets(name):
    bounds = []
    for key in b:
        match = re.match(name + r'_bucket\{le="([^"]+)"\}', key)
        if match: bounds.append((float("inf") if match.group(1) == "+Inf" else float(match.group(1)), key))
    bounds.sort()
    return [(bound, b[key] - a.get(key, 0)) for bound, key in bounds]
def percentile(name, q):
    buckets = window_buckets(name)
    total = buckets[-1][1] if buckets else 0
    if total <= 0: return float("nan")
    for bound, cumulative in buckets:
        if cumulative >= q * total: return bound
    return float("inf")
period_us = 1e6 / 60
lateness = window_buckets("tickwire_tick_lateness_us")
if lateness and a:
    on_time = next(c for bound, c in lateness if bound >= period_us - 1)
    overruns = int(lateness[-1][1] - on_time)
else:
    overruns = "no /metrics answer within 5 s"  # the server was too busy to answer: it does not hold
server_cpu_s = int(server_ticks) / hz
swarm_cpu_s = int(swarm_ticks) / hz
client_ticks = bots * 60 * window
r = json.load(open(report))
snapshots_in_window = bots * 60 / every * window * r["deliveryRatio"]
# Delivery in the measured window alone, from the swarm's second-by-second timeline (the whole run's includes the ramp).
seconds = r["timeline"][int(window_start):int(window_start) + int(window)]
expected = sum(s["inRoom"] * 60 / every * s["seconds"] for s in seconds)
window_delivery = f"{sum(s['snapshotsPerSecond'] * s['seconds'] for s in seconds) / expected:.4f}" if expected else "n/a"
row = [series, bots, rooms, 60 // every, batch,
       f"{server_cpu_s / window * 100:.0f}%", f"{server_cpu_s * 1e6 / client_ticks:.2f}",
       f"{percentile('tickwire_tick_duration_us', 0.5):g}", f"{percentile('tickwire_tick_duration_us', 0.99):g}",
       f"≤{percentile('tickwire_tick_duration_us', 1.0):g}", overruns, f"{r['deliveryRatio']:.4f}", window_delivery,
       f"{r['bytesReceivedPerSecond'] / max(r['joined'], 1):.0f}", f"{swarm_cpu_s / window * 100:.0f}%",
       f"{swarm_cpu_s * 1e6 / max(snapshots_in_window, 1):.1f}", f"{int(steal_ticks) / hz / window * 100:.1f}%",
       f"{r['joined']}/{bots}", r["decodeErrors"]]
holds = r["joined"] == bots and overruns == 0 and not isinstance(overruns, str) and r["deliveryRatio"] >= 0.999 and r["decodeErrors"] == 0
print("\t".join(str(x) for x in row + ["yes" if holds else "no"]))
PY
  tail -n 1 "$OUT/rows.tsv"
}

: >"$OUT/rows.tsv"
: >"$OUT/ratios.txt"
printf 'series\tbots\trooms\tsnapshot Hz\tinput batch\tserver CPU\tµs per client-tick\ttick p50 µs\ttick p99 µs\ttick max µs\toverruns\tdelivery\tdelivery in window\tbytes/client/s\tbots CPU\tbots µs per snapshot\tCPU 0 steal\tjoined\tdecode errors\tholds\n'
for series in $SERIES; do
  case $series in
    room60) sizes="250 500 1000 2000 3000 5000"; every=1; batch=1; per_room=0 ;;
    room20) sizes="250 500 1000 2000 3000 5000 10000"; every=3; batch=3; per_room=0 ;;
    rooms)  sizes="250 500 1000 2000 3000 5000"; every=1; batch=1; per_room=10 ;;
    rooms20) sizes="500 1000 1500 2000 3000 5000"; every=3; batch=3; per_room=10 ;;
    watchers) sizes="1000 2000 3000 5000"; every=3; batch=3; per_room=0 ;;
    swarm) sizes="1000 2000 3000 4000 5000"; every=3; batch=12; per_room=0 ;;
    *) echo "unknown series $series" >&2; exit 2 ;;
  esac
  [ -n "${SIZES:-}" ] && sizes=$SIZES
  for bots in $sizes; do
    rooms=1
    [ "$per_room" -gt 0 ] && rooms=$(( bots / per_room ))
    run "$series" "$bots" "$rooms" "$every" "$batch"
    ours=$(tail -n 1 "$OUT/rows.tsv")
    if [ -n "${BASELINE_BINARY:-}" ]; then
      run "$series@baseline" "$bots" "$rooms" "$every" "$batch" "$BASELINE_BINARY"
      theirs=$(tail -n 1 "$OUT/rows.tsv")
      ratio=$(python3 -c "import sys; a, b = (float(r.split('\t')[5].rstrip('%')) for r in sys.argv[1:]); print(f'{a / b:.2f}' if b else 'n/a')" "$ours" "$theirs")
      echo "# $series $bots: server CPU $(echo "$ours" | cut -f6) against the baseline's $(echo "$theirs" | cut -f6): ratio $ratio"
      echo "$series $bots: server CPU ratio against the baseline $ratio" >>"$OUT/ratios.txt"
    fi
    # The series goes on while our build holds, whatever the baseline did.
    if [ "$(echo "$ours" | awk -F'\t' '{print $NF}')" != "yes" ]; then
      echo "# $series: stopped at $bots bots (it did not hold)"
      break
    fi
  done
done

{
  echo "| series | bots | rooms | snapshot Hz | input batch | server CPU | µs per client-tick | tick p50 µs | tick p99 µs | tick max µs | overruns | delivery | delivery in window | bytes/client/s | bots CPU | bots µs per snapshot | CPU 0 steal | joined | decode errors | holds |"
  echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
  sed 's/\t/ | /g; s/^/| /; s/$/ |/' "$OUT/rows.tsv"
  echo
  for series in $SERIES; do
    best=$(awk -F'\t' -v s="$series" '$1 == s && $NF == "yes" {n = $2} END {print n ? n : "none"}' "$OUT/rows.tsv")
    echo "- $series: largest N that holds: $best"
  done
  [ -s "$OUT/ratios.txt" ] && { echo; sed 's/^/- /' "$OUT/ratios.txt"; }
} >"$OUT/results.md"
echo
cat "$OUT/results.md"
