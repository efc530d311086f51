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
source "$ROOT/tools/lib/serve.sh"
start_tickwire .build/release/tickwire --echo-path /echo \
  --max-message-bytes 67108864 --max-frame-bytes 67108864 --write-queue-max-bytes 134217728
set +e
"$AUTOBAHN/run.sh" "ws://127.0.0.1:$PORT/echo" "$@"
status=$?
set -e
exit $status
