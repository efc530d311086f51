#!/usr/bin/env bash
# tools/test.sh — the whole test suite (the README's test command; CI runs it first).
#
#  1. Swift unit and end-to-end tests (swift test): WebSocket, Reactor, Server.
#  2. Interop with clients written elsewhere, against the real `tickwire` binary:
#     Python's `websockets` (installed here into .build/test-venv with pip) and Node's built-in WebSocket
#     (skipped with a message when node is absent).
# Everything binds 127.0.0.1 and stops what it starts. Exit status: non-zero if anything failed.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
status=0

echo "== swift test"
swift build --build-tests
swift test --skip-build --disable-swift-testing || status=1

echo "== interop: Python websockets client"
VENV="$ROOT/.build/test-venv"
if ! "$VENV/bin/python" -c 'import websockets' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install --disable-pip-version-check -q 'websockets==17.4'
fi
(cd tools/interop && "$VENV/bin/python" python_websockets_test.py "$ROOT/.build/debug/tickwire") || status=1

echo "== browser client: wire vectors (node --test)"
if command -v node >/dev/null 2>&1; then
  node --test tools/web/ || status=1
else
  echo "SKIP browser wire-vector tests: node is not installed"
fi

echo "== browser client: headless Chromium plays a room"
if ! command -v chromium >/dev/null 2>&1 && [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "installing chromium (apt-get)..."
  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium) >/tmp/tickwire-apt.log 2>&1 \
    || { echo "apt-get install chromium failed:"; tail -5 /tmp/tickwire-apt.log; }
fi
if command -v node >/dev/null 2>&1; then
  "$VENV/bin/python" tools/web/browser_test.py "$ROOT/.build/debug/tickwire" "$ROOT/.build/browser-test.png" || status=1
else
  echo "SKIP browser test: it needs node for its observer"
fi

echo "== interop: Node built-in WebSocket client"
if command -v node >/dev/null 2>&1; then
  major=$(node -p 'process.versions.node.split(".")[0]')
  flag=""; [ "$major" -lt 22 ] && flag="--experimental-websocket"
  (cd tools/interop && node $flag --no-warnings node_websocket_test.mjs "$ROOT/.build/debug/tickwire") || status=1
else
  echo "SKIP node interop: node is not installed (apt-get install nodejs to run it)"
fi

[ "$status" = 0 ] && echo "tools/test.sh: all suites passed" || echo "tools/test.sh: FAILED (see above)"
exit "$status"
