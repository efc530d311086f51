# Sourced by tools/*.sh: start_tickwire BINARY [SERVE FLAGS...] starts `BINARY serve` on a free loopback port,
# sets SERVER (its pid) and PORT (read from its start-up log line, at most 20 s), and stops it when the script exits.
start_tickwire() {
  local binary=$1
  shift
  SERVER_LOG="$(mktemp "${TMPDIR:-/tmp}/tickwire-serve.XXXXXX.log")"
  "$binary" serve --host 127.0.0.1 --port 0 "$@" 2>"$SERVER_LOG" &
  SERVER=$!
  trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null || true' EXIT
  PORT=""
  for _ in $(seq 200); do
    PORT=$(grep -o 'listening on http://127.0.0.1:[0-9]*' "$SERVER_LOG" | grep -o '[0-9]*$' || true)
    [ -n "$PORT" ] && return 0
    kill -0 "$SERVER" 2>/dev/null || { cat "$SERVER_LOG"; exit 2; }
    sleep 0.1
  done
  echo "server did not start within 20 s" >&2
  cat "$SERVER_LOG"
  exit 2
}
