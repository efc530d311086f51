// The browser client's wire code against the golden vectors the Swift tests also check (node --test).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";
import { BitReader, EntityDeltaDecoder, encodeClientMessage, readServerMessage, WireError } from "../../Sources/Server/Static/tickwire.js";

const vectors = JSON.parse(readFileSync(new URL("../../Tests/WireVectors/wire-vectors.json", import.meta.url), "utf8"));
const bytes = (hex) => Uint8Array.from(hex.match(/../g) ?? [], (pair) => parseInt(pair, 16));
const hex = (array) => [...array].map((byte) => byte.toString(16).padStart(2, "0")).join("");
/** The vector's JSON with 64-bit decimal strings as BigInt (as the decoder returns them). */
const withBigInts = (message) => Object.fromEntries(Object.entries(message).map(([key, value]) =>
  [key, ["resumeToken", "clientTimeUs", "serverTimeUs"].includes(key) && value !== null ? BigInt(value) : value]));

for (const vector of vectors.client) {
  test(`client ${vector.name} encodes to the golden bytes`, () => {
    const message = { ...vector.message, bits: vector.message.bits === undefined ? undefined : Number(vector.message.bits) };
    assert.equal(hex(encodeClientMessage(message, vectors.inputBitCount)), vector.hex);
  });
}

for (const vector of vectors.server) {
  test(`server ${vector.name} decodes from the golden bytes`, () => {
    const reader = new BitReader(bytes(vector.hex));
    assert.deepEqual(readServerMessage(reader), withBigInts(vector.message));
    reader.finish();
  });
}

for (const vector of vectors.snapshots) {
  test(`snapshot ${vector.name} decodes against its baseline`, () => {
    const reader = new BitReader(bytes(vector.hex));
    assert.deepEqual(readServerMessage(reader), { type: "snapshot", ...vector.header });
    assert.deepEqual(new EntityDeltaDecoder().decode(reader, vector.baseline), vector.entities);
    reader.finish();
  });
}

test("garbage gives WireError, never another exception", () => {
  let seed = 12345;
  const random = () => (seed = (seed * 1103515245 + 12345) % 2147483648) / 2147483648;
  for (let round = 0; round < 5000; round++) {
    const garbage = Uint8Array.from({ length: Math.floor(random() * 40) }, () => Math.floor(random() * 256));
    try {
      const reader = new BitReader(garbage);
      const message = readServerMessage(reader);
      if (message.type === "snapshot") new EntityDeltaDecoder().decode(reader, []);
    } catch (error) {
      assert.ok(error instanceof WireError, `unexpected ${error}`);
    }
  }
});

test("SnapshotTracker decodes the full snapshot, then the delta against it, and refuses unknown baselines", async () => {
  const { SnapshotTracker } = await import("../../Sources/Server/Static/tickwire.js");
  const tracker = new SnapshotTracker();
  const [full, delta] = vectors.snapshots;
  const read = (vector) => { const reader = new BitReader(bytes(vector.hex)); return [readServerMessage(reader), reader]; };
  assert.equal(tracker.receive(...read(delta)), null, "the delta's baseline is not known yet");
  assert.deepEqual(tracker.receive(...read(full)), full.entities);
  assert.deepEqual(tracker.receive(...read(delta)), delta.entities);
  assert.equal(tracker.newestTick, delta.header.tick);
});
