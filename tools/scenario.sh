#!/usr/bin/env bash
# tools/scenario.sh SCENARIO.json [BINARY]
# Starts a release `tickwire serve` on a free loopback port, runs `tickwire bots --scenario` against it (room
# "scenario"), stops the server, and exits with the swarm's status: non-zero when a threshold broke.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCENARIO="${1:?usage: tools/scenario.sh SCENARIO.json [BINARY]}"
BIN="${2:-$ROOT/.build/release/tickwire}"
if [ ! -x "$BIN" ]; then (cd "$ROOT" && swift build -c release --product tickwire); fi
source "$ROOT/tools/lib/serve.sh"
# The swarm is one load generator on this machine (hundreds of connections from 127.0.0.1): exempt from the
# per-address limits, which tools/adversary/ checks.
start_tickwire "$BIN" --exempt-address 127.0.0.1
LOG="$SERVER_LOG"
set +e
"$BIN" bots --url "ws://127.0.0.1:$PORT/rooms/scenario" --scenario "$SCENARIO" --json "${TMPDIR:-/tmp}/tickwire-scenario.json" \
  | tee "$LOG.report"
status=${PIPESTATUS[0]}
set -e
held=$(grep -c '^    ok ' "$LOG.report" || true)
broken=$(grep -c '^    BROKEN ' "$LOG.report" || true)
echo "scenario $(basename "$SCENARIO" .json): $held passed, $broken failed"
exit "$status"
