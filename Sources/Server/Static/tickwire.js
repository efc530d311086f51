// tickwire.js — the browser side of the tickwire.v1 wire protocol (docs/protocol.md), mirroring Sources/Wire:
// bit streams (least significant bit first), the messages, and the schema-driven entity delta decoder.
// Checked against Tests/WireVectors/wire-vectors.json by tools/web/wire-vectors.test.mjs, like the Swift side.

export const SUBPROTOCOL = "tickwire.v1";
export const NAME_BYTES_MAX = 32;
export const CHAT_BYTES_MAX = 200;
export const REASON_BYTES_MAX = 120;
export const TICK_RATE_MAX = 240;

/** A decoding failure: which field, and why. */
export class WireError extends Error {
  constructor(kind, field) {
    super(`${kind}: ${field}`);
    this.kind = kind;
    this.field = field;
  }
}

/** Bits needed for every value in 0...span (span < 2^32). */
export function bitsRequired(span) {
  return span === 0 ? 0 : 32 - Math.clz32(span);
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Writes fields into bytes, least significant bit first. */
export class BitWriter {
  constructor() {
    this.bytes = [];
    this.current = 0;
    this.used = 0;
  }

  /** The low `count` (0...32) bits of a non-negative integer. */
  bits(value, count) {
    for (let written = 0; written < count; ) {
      const take = Math.min(8 - this.used, count - written);
      const chunk = Math.floor(value / 2 ** written) % 2 ** take;
      this.current |= chunk << this.used;
      this.used += take;
      written += take;
      if (this.used === 8) this.flushByte();
    }
  }

  flushByte() {
    this.bytes.push(this.current & 0xff);
    this.current = 0;
    this.used = 0;
  }

  bool(value) { this.bits(value ? 1 : 0, 1); }
  u8(value) { this.bits(value, 8); }
  u16(value) { this.bits(value, 16); }
  u32(value) { this.bits(value >>> 0, 32); }
  u64(value) {
    const big = BigInt.asUintN(64, BigInt(value));
    this.bits(Number(big & 0xffffffffn), 32);
    this.bits(Number(big >> 32n), 32);
  }
  range(value, lo, hi, field) {
    if (!Number.isInteger(value) || value < lo || value > hi) throw new WireError("out of range", field);
    this.bits(value - lo, bitsRequired(hi - lo));
  }
  align() { if (this.used > 0) this.flushByte(); }
  string(text, maxBytes, field) {
    const bytes = encoder.encode(text);
    if (bytes.length > maxBytes) throw new WireError("string too long", field);
    this.range(bytes.length, 0, maxBytes, field);
    this.align();
    for (const byte of bytes) this.u8(byte);
  }
  finish() {
    this.align();
    return Uint8Array.from(this.bytes);
  }
}

/** Reads fields back; every read is bounds-checked and throws `WireError` on garbage. */
export class BitReader {
  constructor(bytes) {
    this.bytes = bytes;
    this.position = 0;
  }

  get remaining() { return this.bytes.length * 8 - this.position; }

  bits(count, field) {
    if (this.remaining < count) throw new WireError("truncated", field);
    let value = 0;
    for (let produced = 0; produced < count; ) {
      const byte = this.bytes[this.position >> 3];
      const offset = this.position & 7;
      const take = Math.min(8 - offset, count - produced);
      value += ((byte >> offset) & ((1 << take) - 1)) * 2 ** produced;
      produced += take;
      this.position += take;
    }
    return value;
  }

  bool(field) { return this.bits(1, field) === 1; }
  u8(field) { return this.bits(8, field); }
  u16(field) { return this.bits(16, field); }
  u32(field) { return this.bits(32, field); }
  u64(field) {
    const low = BigInt(this.bits(32, field));
    return (BigInt(this.bits(32, field)) << 32n) | low;
  }
  range(lo, hi, field) {
    const value = lo + this.bits(bitsRequired(hi - lo), field);
    if (value > hi) throw new WireError("out of range", field);
    return value;
  }
  align(field) {
    const padding = (8 - (this.position & 7)) & 7;
    if (padding > 0 && this.bits(padding, field) !== 0) throw new WireError("non-zero padding", field);
  }
  string(maxBytes, field) {
    const length = this.range(0, maxBytes, field);
    this.align(field);
    const bytes = new Uint8Array(length);
    for (let index = 0; index < length; index++) bytes[index] = this.u8(field);
    try {
      return decoder.decode(bytes);
    } catch {
      throw new WireError("invalid UTF-8", field);
    }
  }
  finish() {
    this.align("end");
    if (this.remaining !== 0) throw new WireError("trailing bytes", "end");
  }
}

// MARK: Messages

/** Encodes a client message: {type: "join"|"input"|"ping"|"chat"|"leave", ...}. */
export function encodeClientMessage(message, inputBitCount) {
  const w = new BitWriter();
  switch (message.type) {
    case "join":
      w.u8(1);
      w.string(message.name, NAME_BYTES_MAX, "name");
      w.bool(message.resumeToken != null);
      if (message.resumeToken != null) w.u64(message.resumeToken);
      break;
    case "input":
      w.u8(2);
      w.u32(message.sequence);
      w.bool(message.acknowledgedTick != null);
      if (message.acknowledgedTick != null) w.u32(message.acknowledgedTick);
      w.bits(Number(message.bits), inputBitCount);
      break;
    case "ping":
      w.u8(3);
      w.u64(message.clientTimeUs);
      break;
    case "chat":
      w.u8(4);
      w.string(message.text, CHAT_BYTES_MAX, "chat text");
      break;
    case "leave":
      w.u8(5);
      break;
    default:
      throw new WireError("unknown message", message.type);
  }
  return w.finish();
}

/**
 * Reads a server message's fixed part. For a snapshot, `reader` is left at the byte-aligned start of the entity
 * delta: pass it to `EntityDeltaDecoder.decode`.
 */
export function readServerMessage(reader) {
  const type = reader.u8("message type");
  switch (type) {
    case 1:
      return {
        type: "welcome", player: reader.u16("player"), tickRateHz: reader.range(1, TICK_RATE_MAX, "tick rate"),
        snapshotRateHz: reader.range(1, TICK_RATE_MAX, "snapshot rate"), serverTick: reader.u32("server tick"),
        worldWidthRaw: reader.u32("world width"), worldHeightRaw: reader.u32("world height"), resumeToken: reader.u64("resume token"),
      };
    case 2: {
      const tick = reader.u32("tick");
      const hasBaseline = reader.bool("has baseline");
      const baselineTick = hasBaseline ? (tick - reader.range(1, 4095, "baseline distance")) >>> 0 : null;
      const lastProcessedInput = reader.u32("last processed input");
      reader.align("delta");
      return { type: "snapshot", tick, baselineTick, lastProcessedInput };
    }
    case 3:
      return { type: "pong", clientTimeUs: reader.u64("client time"), serverTimeUs: reader.u64("server time"), serverTick: reader.u32("server tick") };
    case 4:
      return { type: "chat", player: reader.u16("chat player"), name: reader.string(NAME_BYTES_MAX, "chat name"), text: reader.string(CHAT_BYTES_MAX, "chat text") };
    case 5:
      return { type: "kick", reason: reader.range(0, 5, "kick reason"), text: reader.string(REASON_BYTES_MAX, "kick text") };
    case 6:
      return { type: "roster", player: reader.u16("roster player"), name: reader.string(NAME_BYTES_MAX, "roster name") };
    default:
      throw new WireError("unknown message type", String(type));
  }
}

// MARK: Entities

/** Arena's entity schema, as Simulation/Arena/Arena.swift declares it (positions in 1/16 world unit). */
const COORDINATE_MAX = 1048575; // 20 bits: a world up to 65,536 units across
export const ARENA_SCHEMA = [
  { name: "player", fields: [["x", 0, COORDINATE_MAX, 11], ["y", 0, COORDINATE_MAX, 11], ["aim", 0, 65535, 10], ["health", 0, 255, 0],
                            ["score", 0, 65535, 0], ["alive", 0, 1, 0], ["player", 0, 65535, 0]] },
  { name: "projectile", fields: [["originX", 0, COORDINATE_MAX, 0], ["originY", 0, COORDINATE_MAX, 0], ["aim", 0, 65535, 0], ["spawnTick", 0, 65535, 0]] },
  { name: "obstacle", fields: [["minX", 0, COORDINATE_MAX, 0], ["minY", 0, COORDINATE_MAX, 0], ["maxX", 0, COORDINATE_MAX, 0], ["maxY", 0, COORDINATE_MAX, 0]] },
];

/** Decodes snapshot entity deltas against a baseline (see "Entity delta" in docs/protocol.md). */
export class EntityDeltaDecoder {
  constructor(schema = ARENA_SCHEMA, { countMax = 4096, indexLimit = 65536 } = {}) {
    this.schema = schema;
    this.countMax = countMax;
    this.indexLimit = indexLimit;
  }

  /** Entities are {index, generation, kind, fields: number[]}; the result is sorted by index. */
  decode(reader, baseline) {
    const byIndex = new Map(baseline.map((entity) => [entity.index, entity]));
    const removeCount = reader.range(0, this.countMax, "removes");
    let previous = -1;
    for (let n = 0; n < removeCount; n++) {
      previous = this.indexGap(reader, previous);
      if (!byIndex.delete(previous)) throw new WireError("remove of an unknown entity", String(previous));
    }
    const createCount = reader.range(0, this.countMax, "creates");
    previous = -1;
    for (let n = 0; n < createCount; n++) {
      previous = this.indexGap(reader, previous);
      const generation = reader.u32("generation");
      const kind = reader.range(0, this.schema.length - 1, "kind");
      const fields = this.schema[kind].fields.map(([name, lo, hi]) => reader.range(lo, hi, name));
      if (byIndex.has(previous)) throw new WireError("create over a live entity", String(previous));
      byIndex.set(previous, { index: previous, generation, kind, fields });
    }
    const updateCount = reader.range(0, this.countMax, "updates");
    previous = -1;
    for (let n = 0; n < updateCount; n++) {
      previous = this.indexGap(reader, previous);
      const old = byIndex.get(previous);
      if (!old) throw new WireError("update of an unknown entity", String(previous));
      const fields = old.fields.slice();
      this.schema[old.kind].fields.forEach(([name, lo, hi, smallDeltaBits], position) => {
        if (!reader.bool("field changed")) return;
        if (smallDeltaBits > 0 && reader.bool("small delta")) {
          const reach = 2 ** (smallDeltaBits - 1);
          const value = fields[position] + reader.range(-reach, reach - 1, "delta");
          if (value < lo || value > hi) throw new WireError("delta result out of range", name);
          fields[position] = value;
        } else {
          fields[position] = reader.range(lo, hi, name);
        }
      });
      byIndex.set(previous, { ...old, fields });
    }
    if (byIndex.size > this.countMax) throw new WireError("too many entities", String(byIndex.size));
    return [...byIndex.values()].sort((a, b) => a.index - b.index);
  }

  indexGap(reader, previous) {
    let index;
    if (reader.bool("index gap")) index = previous + 1;
    else if (reader.bool("index gap")) index = previous + 1 + reader.range(1, 16, "index gap");
    else if (reader.bool("index gap")) index = previous + 1 + reader.range(17, 272, "index gap");
    else {
      index = reader.range(0, this.indexLimit - 1, "index");
      if (index <= previous) throw new WireError("index not ascending", String(index));
    }
    if (index >= this.indexLimit) throw new WireError("index out of range", String(index));
    return index;
  }
}

/**
 * A client's side of snapshots: decodes each against the baseline it names, keeps what it decoded for
 * `keepTicks` (to serve as later baselines), and remembers the newest tick (to acknowledge in inputs).
 */
export class SnapshotTracker {
  constructor({ decoder = new EntityDeltaDecoder(), keepTicks = 240 } = {}) {
    this.decoder = decoder;
    this.keepTicks = keepTicks;
    this.baselines = new Map();
    this.newestTick = null;
  }

  /** Decodes the snapshot whose header was just read; null if its baseline is one we never had. */
  receive(header, reader) {
    const baseline = header.baselineTick === null ? [] : this.baselines.get(header.baselineTick);
    if (baseline === undefined) return null;
    const entities = this.decoder.decode(reader, baseline);
    reader.finish();
    this.baselines.set(header.tick, entities);
    for (const tick of this.baselines.keys()) if (header.tick - tick > this.keepTicks) this.baselines.delete(tick);
    if (this.newestTick === null || header.tick > this.newestTick) this.newestTick = header.tick;
    return entities;
  }

  reset() {
    this.baselines.clear();
    this.newestTick = null;
  }
}

// MARK: Arena

/** Arena's 21 input bits: 0 up, 1 down, 2 left, 3 right, 4 shoot, 5-20 aim (65,536 steps a turn). */
export function arenaInputBits({ up = false, down = false, left = false, right = false, shoot = false, aim = 0 }) {
  return (up ? 1 : 0) | (down ? 2 : 0) | (left ? 4 : 0) | (right ? 8 : 0) | (shoot ? 16 : 0) | ((aim & 0xffff) << 5);
}
export const ARENA_INPUT_BITS = 21;
