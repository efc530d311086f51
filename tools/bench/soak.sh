#!/usr/bin/env bash
# tools/bench/soak.sh [--minutes M] [--bots N] [--rooms K] [--churn P] [BINARY]
#
# Churn soak: a release server and a bot swarm (N bots over K rooms, P% of them leaving per minute: half drop their
# connection and resume, half leave and join again) for M minutes. Every minute it samples the server's RSS, fd count
# and tick figures from /proc and /metrics, then prints the samples and the verdict:
#   - RSS growth after the first 5 minutes (the last sample against the fifth) under 5%;
#   - fds flat (the last sample within 2% + 16 of the fifth);
#   - overruns (catch-up ticks, snapshots skipped) attributable to the server: with the bots' core not saturated.
# Defaults are the issue's: 30 minutes, 500 bots, 50 rooms, --churn 60. Server: one loop pinned to CPU 0, Arena at 60 Hz
# with 20 Hz snapshots (--snapshot-every 3); bots on CPU 1.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
MINUTES=30; BOTS=500; ROOMS=50; CHURN=60; BIN="$ROOT/.build/release/tickwire"
while [ $# -gt 0 ]; do
  case "$1" in
    --minutes) MINUTES=$2; shift 2 ;;
    --bots) BOTS=$2; shift 2 ;;
    --rooms) ROOMS=$2; shift 2 ;;
    --churn) CHURN=$2; shift 2 ;;
    -h|--help) sed -n 2,10p "$0"; exit 0 ;;
    *) BIN=$1; shift ;;
  esac
done
[ -x "$BIN" ] || (cd "$ROOT" && swift build -c release --product tickwire)
source "$ROOT/tools/lib/serve.sh"
start_tickwire "$BIN" --loops 1 --snapshot-every 3 --exempt-address 127.0.0.1 --max-connections 20000
taskset -acp 0 "$SERVER" >/dev/null
OUT="$(mktemp -d "${TMPDIR:-/tmp}/tickwire-soak.XXXXXX")"
echo "soak: $BOTS bots over $ROOMS rooms, --churn $CHURN, $MINUTES min; server pid $SERVER port $PORT; samples in $OUT/samples.tsv"
taskset -c 1 "$BIN" bots --url "ws://127.0.0.1:$PORT/rooms/soak" --bots "$BOTS" --rooms "$ROOMS" --churn "$CHURN" \
  --duration "${MINUTES}m" --json "$OUT/bots.json" >"$OUT/bots.txt" 2>&1 &
BOTS_PID=$!
trap 'kill $BOTS_PID 2>/dev/null; kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
metric() { grep -E "^$1 " "$OUT/metrics.txt" | awk '{print $2}' | head -1; }
printf "minute\trss_mib\tfds\tconnections\trooms\tplayers\tcatch_up_ticks\tsnapshots_skipped\ttick_lateness_max_us\tlateness_le_16667_share\n" >"$OUT/samples.tsv"
for minute in $(seq 1 "$MINUTES"); do
  sleep 60
  kill -0 "$SERVER" 2>/dev/null || { echo "server died"; exit 1; }
  curl -s --max-time 5 "http://127.0.0.1:$PORT/metrics" >"$OUT/metrics.txt" || python3 -c "
import socket,sys
s=socket.create_connection(('127.0.0.1',$PORT),5);s.sendall(b'GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n');d=b''
while True:
  c=s.recv(65536)
  if not c: break
  d+=c
sys.stdout.write(d.split(b'\r\n\r\n',1)[1].decode())" >"$OUT/metrics.txt"
  rss=$(awk '/VmRSS/ {printf "%.1f", $2/1024}' /proc/$SERVER/status)
  fds=$(ls /proc/$SERVER/fd | wc -l)
  within=$(grep -E '^tickwire_tick_lateness_us_bucket\{le="16667"\}' "$OUT/metrics.txt" | head -1 | awk '{print $2}')
  count=$(metric tickwire_tick_lateness_us_count)
  share=$(python3 -c "print('%.5f' % (${within:-0}/max(1,${count:-1})))")
  printf "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n" "$minute" "$rss" "$fds" "$(metric tickwire_connections_open)" "$(metric tickwire_rooms)" \
    "$(metric tickwire_players)" "$(metric tickwire_catch_up_ticks_total)" "$(metric tickwire_snapshots_skipped_total)" \
    "$(metric tickwire_tick_lateness_us_max)" "$share" | tee -a "$OUT/samples.tsv"
done
wait $BOTS_PID || true
tail -25 "$OUT/bots.txt"
python3 - "$OUT/samples.tsv" <<'PY'
import csv, sys
rows = [row for row in csv.DictReader(open(sys.argv[1]), delimiter="\t") if int(row["players"] or 0) > 0]
if len(rows) < 11:
    print("soak: fewer than 11 samples with the bots playing; no verdict"); sys.exit(0)
fifth, tenth, last = rows[4], rows[9], rows[-1]
def growth(a, b): return float(b["rss_mib"]) / float(a["rss_mib"]) - 1
fds_flat = int(last["fds"]) <= int(fifth["fds"]) * 1.02 + 16
print("soak: RSS %.1f MiB at minute 5, %.1f at minute 10, %.1f at minute %s: %+.1f%% after minute 5, %+.1f%% after minute 10"
      % (float(fifth["rss_mib"]), float(tenth["rss_mib"]), float(last["rss_mib"]), last["minute"], growth(fifth, last) * 100,
         growth(tenth, last) * 100))
print("soak: fds %s at minute 5, %s at minute %s (%s); catch-up ticks after minute 5: %d; skipped snapshots: %s"
      % (fifth["fds"], last["fds"], last["minute"], "flat" if fds_flat else "GREW",
         int(last["catch_up_ticks"]) - int(fifth["catch_up_ticks"]), last["snapshots_skipped"]))
ok = growth(fifth, last) < 0.05 and fds_flat
print("soak: %s (the issue's bound: RSS growth after minute 5 under 5%%, fds flat)" % ("passed" if ok else "FAILED"))
sys.exit(0 if ok else 1)
PY
