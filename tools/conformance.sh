#!/usr/bin/env bash
# tools/conformance.sh — Autobahn|Testsuite (../shared/tools/autobahn) against a release `tickwire serve`.
# Limits are raised for the run only: section 9 sends messages of up to 16 MiB.
# usage: tools/conformance.sh [CASES]   (default: all of sections 1-7, 9, 10). Exit status is run.sh's.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
AUTOBAHN="${AUTOBAHN_DIR:-$ROOT/../shared/tools/autobahn}"
[ -x "$AUTOBAHN/run.sh" ] || { echo "conformance: no Autobahn harness at $AUTOBAHN" >&2; exit 2; }
cd "$ROOT"
swift build -c release --product tickwire
LOG="$(mktemp "${TMPDIR:-/tmp}/tickwire-conformance.XXXXXX.log")"
.build/release/tickwire serve --host 127.0.0.1 --port 0 --echo-path /echo \
  --max-message-bytes 67108864 --max-frame-bytes 67108864 --write-queue-max-bytes 134217728 2>"$LOG" &
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
"$AUTOBAHN/run.sh" "ws://127.0.0.1:$PORT/echo" "$@"
status=$?
set -e
exit $status
