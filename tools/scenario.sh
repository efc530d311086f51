#!/usr/bin/env bash
# tools/scenario.sh SCENARIO.json [BINARY]
# Starts a release `tickwire serve` on a free loopback port, runs `tickwire bots --scenario` against it (room
# "scenario"), stops the server, and exits with the swarm's status: non-zero when a threshold broke.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCENARIO="${1:?usage: tools/scenario.sh SCENARIO.json [BINARY]}"
BIN="${2:-$ROOT/.build/release/tickwire}"
if [ ! -x "$BIN" ]; then (cd "$ROOT" && swift build -c release --product tickwire); fi
LOG="$(mktemp "${TMPDIR:-/tmp}/tickwire-scenario.XXXXXX.log")"
"$BIN" serve --host 127.0.0.1 --port 0 2>"$LOG" &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
PORT=""
for _ in $(seq 200); do
  PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$LOG" | grep -o '[0-9]*$' || true)
  [ -n "$PORT" ] && break
  kill -0 $SERVER 2>/dev/null || { cat "$LOG"; exit 2; }
  sleep 0.1
done
[ -n "$PORT" ] || { echo "server did not start" >&2; cat "$LOG"; exit 2; }
set +e
"$BIN" bots --url "ws://127.0.0.1:$PORT/rooms/scenario" --scenario "$SCENARIO" --json "${TMPDIR:-/tmp}/tickwire-scenario.json" \
  | tee "$LOG.report"
status=${PIPESTATUS[0]}
set -e
held=$(grep -c '^    ok ' "$LOG.report" || true)
broken=$(grep -c '^    BROKEN ' "$LOG.report" || true)
echo "scenario $(basename "$SCENARIO" .json): $held passed, $broken failed"
exit "$status"
