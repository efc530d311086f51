#!/usr/bin/env bash
# tools/fuzz.sh TARGET SECONDS [libFuzzer flags...]
#
# Builds a libFuzzer target (with AddressSanitizer) from Sources/WebSocket plus its file in tools/fuzz/ and runs
# it for SECONDS on one core. TARGET: frame-reader | http-parser. The corpus persists in
# tools/fuzz/corpus-TARGET (git-ignored); crashes land in tools/fuzz/out/ as crash-* files. Exit status is
# non-zero when the fuzzer found a crash. The last lines of the log give executions (#N) and coverage.
# Example: tools/fuzz.sh frame-reader 600
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET="${1:-}"; SECONDS_TO_RUN="${2:-60}"; shift 2 || true
case "$TARGET" in
  frame-reader) SOURCES=("$ROOT/tools/fuzz/FrameReaderFuzz.swift" "$ROOT/Tests/WebSocketTests/ReaderHarness.swift") ;;
  http-parser) SOURCES=("$ROOT/tools/fuzz/HTTPParserFuzz.swift") ;;
  *) echo "usage: tools/fuzz.sh frame-reader|http-parser SECONDS [libFuzzer flags]" >&2; exit 2 ;;
esac
OUT="$ROOT/tools/fuzz/out"; CORPUS="$ROOT/tools/fuzz/corpus-$TARGET"; BIN="$OUT/fuzz-$TARGET"
mkdir -p "$OUT" "$CORPUS"
echo "building $TARGET (swiftc -sanitize=fuzzer,address -O)..."
swiftc -swift-version 6 -parse-as-library -O -sanitize=fuzzer,address -module-name FuzzTarget \
  "$ROOT"/Sources/WebSocket/*.swift "${SOURCES[@]}" -o "$BIN" 2>&1 | { grep -v "Cannot export local symbol" || true; }
# Seeds: the RFC 6455 §5.7 examples and a real upgrade request, so coverage starts deep.
printf '\x00\x81\x85\x37\xfa\x21\x3d\x7f\x9f\x4d\x51\x58' > "$CORPUS/seed-masked-hello"
printf '\x00\x01\x83\x37\xfa\x21\x3d\x7f\x9f\x4d\x80\x82\x37\xfa\x21\x3d\x5b\x90' > "$CORPUS/seed-fragmented"
printf '\x01\x89\x05Hello\x8a\x05Hello\x82\x7e\x01\x00' > "$CORPUS/seed-client-ping"
printf 'GET /chat HTTP/1.1\r\nHost: server.example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: http://example.com\r\nSec-WebSocket-Protocol: chat, tickwire.v1\r\nSec-WebSocket-Version: 13\r\n\r\n' > "$CORPUS/seed-upgrade"
printf 'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n' > "$CORPUS/seed-101"
echo "running $TARGET for $SECONDS_TO_RUN s..."
cd "$OUT"
set +e
"$BIN" "$CORPUS" -max_total_time="$SECONDS_TO_RUN" -max_len=4096 -timeout=10 -rss_limit_mb=2048 \
  -artifact_prefix="$OUT/" -print_final_stats=1 "$@" 2>&1 | tee "$OUT/$TARGET.log" | grep -E "^#[0-9]+ +(DONE|pulse)|ERROR|crash-|stat::number_of_executed_units|stat::peak_rss" 
status=${PIPESTATUS[0]}
set -e
crashes=$(find "$OUT" -maxdepth 1 -name "crash-*" | wc -l)
echo "$TARGET: exit $status, crash files in $OUT: $crashes"
exit "$status"
