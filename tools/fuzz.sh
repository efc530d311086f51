#!/usr/bin/env bash
# tools/fuzz.sh TARGET SECONDS [libFuzzer flags...]
#
# Builds a libFuzzer target (with AddressSanitizer) from Sources/WebSocket plus its file in tools/fuzz/ and runs
# it for SECONDS on one core. TARGET: frame-reader | http-parser (Sources/WebSocket) | client-messages (the server's
# game-message decoder) | snapshots (a bot's decoding of a hostile server's stream) | replay (recording files through
# re-simulation, seeded with tools/fuzz/seeds/replay/). The corpus persists in
# tools/fuzz/corpus-TARGET (git-ignored); crashes land in tools/fuzz/out/ as crash-* files. Exit status is
# non-zero when the fuzzer found a crash. The last lines of the log give executions (#N) and coverage.
# Example: tools/fuzz.sh frame-reader 600
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${1:-}"; SECONDS_TO_RUN="${2:-60}"; shift 2 || true
# Targets whose code spans several modules are compiled as one: the modules' sources are copied together and their
# imports of each other removed (they import nothing else but the standard library, Foundation and Glibc).
trap 'rm -rf "${TMPDIR:-/tmp}"/tickwire-fuzz-src.$$.*' EXIT
modules() {
  local dir; dir="$(mktemp -d "${TMPDIR:-/tmp}/tickwire-fuzz-src.$$.XXXXXX")"
  for module in "$@"; do cp "$ROOT/$module"/*.swift "$dir/"; done
  sed -i -E '/^import (Engine|Wire|Arena|Replay)$/d; /^@testable import/d' "$dir"/*.swift
  echo "$dir"
}
case "$TARGET" in
  frame-reader) SOURCES=("$ROOT"/Sources/WebSocket/*.swift "$ROOT/tools/fuzz/FrameReaderFuzz.swift" "$ROOT/Tests/WebSocketTests/ReaderHarness.swift") ;;
  http-parser) SOURCES=("$ROOT"/Sources/WebSocket/*.swift "$ROOT/tools/fuzz/HTTPParserFuzz.swift") ;;
  client-messages) SOURCES=("$(modules Simulation/Engine Sources/Wire)"/*.swift "$ROOT/tools/fuzz/ClientMessageFuzz.swift") ;;
  snapshots) SOURCES=("$(modules Simulation/Engine Sources/Wire Simulation/Arena)"/*.swift "$ROOT/tools/fuzz/SnapshotFuzz.swift") ;;
  replay) SOURCES=("$(modules Simulation/Engine Sources/Wire Simulation/Arena Sources/Replay)"/*.swift "$ROOT/tools/fuzz/ReplayFuzz.swift") ;;
  *) echo "usage: tools/fuzz.sh frame-reader|http-parser|client-messages|snapshots|replay SECONDS [libFuzzer flags]" >&2; exit 2 ;;
esac
MAX_LEN=4096; [ "$TARGET" = replay ] && MAX_LEN=65536
OUT="$ROOT/tools/fuzz/out"; CORPUS="$ROOT/tools/fuzz/corpus-$TARGET"; BIN="$OUT/fuzz-$TARGET"
mkdir -p "$OUT" "$CORPUS"
echo "building $TARGET (swiftc -sanitize=fuzzer,address -O)..."
swiftc -swift-version 6 -parse-as-library -O -sanitize=fuzzer,address -module-name FuzzTarget \
  "${SOURCES[@]}" -o "$BIN" 2>&1 | { grep -v "Cannot export local symbol" || true; }
# Seeds: the RFC 6455 §5.7 examples and a real upgrade request, so coverage starts deep.
printf '\x00\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58' > "$CORPUS/seed-masked-hello"
printf '\x00\x01\x83\x37\xfa\x21\x3d\x7f\x9f\x4d\x80\x82\x37\xfa\x21\x3d\x5b\x90' > "$CORPUS/seed-fragmented"
printf '\x01\x89\x05Hello\x8a\x05Hello\x82\x7e\x01\x00' > "$CORPUS/seed-client-ping"
printf 'GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, tickwire.v1\r\nSec-WebSocket-Version: 13\r\n\r\n' > "$CORPUS/seed-upgrade"
printf 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n' > "$CORPUS/seed-101"
printf '\x15\x01\x03Ada\x00' > "$CORPUS/seed-join"
printf '\x15\x04\x02gg' > "$CORPUS/seed-chat"
[ "$TARGET" = replay ] && cp "$ROOT"/tools/fuzz/seeds/replay/* "$CORPUS/" 2>/dev/null || true
echo "running $TARGET for $SECONDS_TO_RUN s..."
cd "$OUT"
set +e
"$BIN" "$CORPUS" -max_total_time="$SECONDS_TO_RUN" -max_len="$MAX_LEN" -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$OUT/" -print_final_stats=1 "$@" 2>&1 | tee "$OUT/$TARGET.log" | grep -E "^#[0-9]+ +(DONE|pulse)|ERROR|crash-|stat::number_of_executed_units|stat::peak_rss" 
status=${PIPESTATUS[0]}
set -e
crashes=$(find "$OUT" -maxdepth 1 -name "crash-*" | wc -l)
echo "$TARGET: exit $status, crash files in $OUT: $crashes"
exit "$status"
