#!/usr/bin/env bash
# tools/bench/fanout.sh [--repeat N] [--tests fanout,echo,idle] [--conns N] [--hz F] [--size S] [--baseline BINARY]
#
# Tickwire against the syscall floor (../shared/bench/rawfanout, a minimal C epoll server) in the same sitting:
# repetitions interleave floor and Tickwire, each server pinned to CPU 0 and the neutral C load client to CPU 1
# (../shared/bench/run-fanout.sh). Tickwire runs as a release build with one event loop (the floor is
# single-threaded) and its production defaults otherwise, using its benchmark endpoint (--bench-broadcast-hz).
# Prints the medians of both and the ratios Tickwire / floor:
#   fanout: server CPU ns per delivered message (target <= 1.1x), delivered / expected (target >= 0.999)
#   echo:   round-trip p50 / p99 (target p50 <= 1.2x)
#   idle:   RSS growth per idle connection (target <= 2 KiB)
# With --baseline BINARY (another build of tickwire), that build runs too, interleaved, and the last column is this
# build over it: what a change costs, measured in the same sitting.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
BENCH="${BENCH_DIR:-$ROOT/../shared/bench}"
REPEAT=3 TESTS=fanout,echo,idle CONNS=1000 HZ=60 SIZE=100 BASELINE=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --repeat) REPEAT=$2; shift 2;; --tests) TESTS=$2; shift 2;; --conns) CONNS=$2; shift 2;;
    --hz) HZ=$2; shift 2;; --size) SIZE=$2; shift 2;; --baseline) BASELINE=$2; shift 2;;
    *) sed -n '2,14p' "$0"; exit 2;;
  esac
done
[ -x "$BENCH/run-fanout.sh" ] || { echo "no benchmark harness at $BENCH" >&2; exit 2; }
make -s -C "$BENCH/loadclient" >/dev/null && make -s -C "$BENCH/rawfanout" >/dev/null
(cd "$ROOT" && swift build -c release --product tickwire 2>&1 | tail -1)
OUT="${TMPDIR:-/tmp}/tickwire-bench-$(date +%Y%m%d-%H%M%S)"
mkdir -p "$OUT"
# The load client is one process with thousands of connections from 127.0.0.1: no per-address limit for it.
exempt_flags() { "$1" serve --help | grep -q -- --exempt-address && echo "--exempt-address 127.0.0.1" || true; }
read -r -a EXEMPT <<<"$(exempt_flags "$ROOT/.build/release/tickwire")"
[ -n "$BASELINE" ] && read -r -a BASELINE_EXEMPT <<<"$(exempt_flags "$BASELINE")"
: >"$OUT/baseline.jsonl"
echo "results in $OUT; load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
for rep in $(seq 1 "$REPEAT"); do
  "$BENCH/run-fanout.sh" --name floor --port 19001 --tests "$TESTS" --conns "$CONNS" --hz "$HZ" --size "$SIZE" \
    --first-rep "$rep" --out "$OUT/floor.jsonl" -- "$BENCH/rawfanout/rawfanout" --port 19001 --size "$SIZE" --hz "$HZ" | grep -v '^#\|^floor '
  "$BENCH/run-fanout.sh" --name tickwire --port 19003 --tests "$TESTS" --conns "$CONNS" --hz "$HZ" --size "$SIZE" \
    --first-rep "$rep" --out "$OUT/tickwire.jsonl" -- "$ROOT/.build/release/tickwire" serve --host 127.0.0.1 --port 19003 \
    --loops 1 --echo-path /echo --bench-broadcast-hz "$HZ" --bench-broadcast-bytes "$SIZE" "${EXEMPT[@]}" | grep -v '^#\|^tickwire '
  if [ -n "$BASELINE" ]; then
    "$BENCH/run-fanout.sh" --name baseline --port 19005 --tests "$TESTS" --conns "$CONNS" --hz "$HZ" --size "$SIZE" \
      --first-rep "$rep" --out "$OUT/baseline.jsonl" -- "$BASELINE" serve --host 127.0.0.1 --port 19005 \
      --loops 1 --echo-path /echo --bench-broadcast-hz "$HZ" --bench-broadcast-bytes "$SIZE" "${BASELINE_EXEMPT[@]}" | grep -v '^#\|^baseline '
  fi
done
python3 - "$OUT/floor.jsonl" "$OUT/tickwire.jsonl" "$TESTS" "$OUT/baseline.jsonl" <<'PY'
import json, statistics, sys
def load(path):
    return [json.loads(line) for line in open(path) if line.strip()]
floor, tickwire, baseline = load(sys.argv[1]), load(sys.argv[2]), load(sys.argv[4])
def med(rows, test, key):
    values = [r[key] for r in rows if r["test"] == test and r.get(key) is not None]
    return statistics.median(values) if values else None
print("\n# medians over repetitions (same sitting, server on CPU 0, load client on CPU 1)")
print(f"{'metric':38} {'floor':>10} {'tickwire':>10} {'ratio':>7}" + (f" {'baseline':>10} {'vs base':>8}" if baseline else ""))
def row(label, test, key, fmt="{:.0f}"):
    a, b = med(floor, test, key), med(tickwire, test, key)
    if a is None or b is None: return
    line = f"{label:38} {fmt.format(a):>10} {fmt.format(b):>10} {b / a if a else float('nan'):>6.2f}x"
    c = med(baseline, test, key) if baseline else None
    if c is not None:
        line += f" {fmt.format(c):>10} {b / c if c else float('nan'):>7.3f}x"
    print(line)
row("fanout server CPU ns / delivered msg", "fanout", "server_ns_per_msg")
row("fanout delivered / expected", "fanout", "delivered_ratio", "{:.4f}")
row("fanout tick-to-delivery p50 us", "fanout", "lat_p50_us")
row("fanout tick-to-delivery p99 us", "fanout", "lat_p99_us")
row("fanout server RSS KiB", "fanout", "server_rss_kb_window_end")
row("echo RTT p50 us", "echo", "lat_p50_us", "{:.1f}")
row("echo RTT p99 us", "echo", "lat_p99_us", "{:.1f}")
row("idle RSS KiB per connection", "idle", "server_rss_kb_per_conn", "{:.2f}")
foreign = [r.get("foreign_cpu0", 0) for r in floor + tickwire]
# The server logs its tick lateness at shutdown, once per run, in the order the runs happened.
tests = sys.argv[3].split(",")
timer_lines = [line.split(" info ", 1)[-1].strip() for line in open(sys.argv[2] + ".server.log") if "benchmark broadcast on loop" in line]
for position, line in enumerate(timer_lines):
    print(f"tickwire timer during {tests[position % len(tests)]} run {position // len(tests) + 1}: {line.split(': ', 1)[-1]}")
print(f"foreign load on CPU 0 during runs: max {max(foreign):.2f}" if foreign else "")
PY
