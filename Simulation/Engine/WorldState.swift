/// Little-endian bytes of a world's whole state (a recording's keyframe), written field by field in a fixed order.
public struct StateWriter {
    public private(set) var bytes: [UInt8] = []

    public init() {}

    public mutating func write(_ value: UInt64) {
        for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: value >> UInt64(shift))) }
    }
    public mutating func write(_ value: Int64) { write(UInt64(bitPattern: value)) }
    public mutating func write(_ value: UInt32) { write(UInt64(value)) }
    public mutating func write(_ value: Int) { write(Int64(value)) }
    public mutating func write(_ value: Fixed) { write(value.raw) }
    public mutating func write(_ vector: FixedVector) {
        write(vector.x)
        write(vector.y)
    }
    public mutating func write(_ text: String) {
        let utf8 = Array(text.utf8)
        write(UInt64(utf8.count))
        bytes.append(contentsOf: utf8)
    }
}

/// Reads what `StateWriter` wrote. Total: a read past the end or a length over the limit gives nil, never a trap.
public struct StateReader {
    private let bytes: [UInt8]
    private var position = 0

    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// True when every byte was read.
    public var isAtEnd: Bool { position == bytes.count }

    public mutating func readUInt64() -> UInt64? {
        guard bytes.count - position >= 8 else { return nil }
        var value: UInt64 = 0
        for offset in 0..<8 { value |= UInt64(bytes[position + offset]) << UInt64(offset * 8) }
        position += 8
        return value
    }
    public mutating func readInt64() -> Int64? { readUInt64().map { Int64(bitPattern: $0) } }
    public mutating func readUInt32() -> UInt32? { readUInt64().flatMap { UInt32(exactly: $0) } }
    /// An integer within `range`, nil outside it.
    public mutating func readInt(in range: ClosedRange<Int>) -> Int? {
        guard let value = readInt64(), value >= Int64(range.lowerBound), value <= Int64(range.upperBound) else { return nil }
        return Int(value)
    }
    public mutating func readFixed() -> Fixed? { readInt64().map(Fixed.init(raw:)) }
    public mutating func readVector() -> FixedVector? {
        guard let x = readFixed(), let y = readFixed() else { return nil }
        return FixedVector(x: x, y: y)
    }
    public mutating func readString(maxBytes: Int) -> String? {
        guard let count = readUInt64(), count <= UInt64(maxBytes), bytes.count - position >= Int(count) else { return nil }
        let slice = bytes[position..<position + Int(count)]
        position += Int(count)
        return String(validating: slice, as: UTF8.self)
    }
}

extension DeterministicRandom {
    /// The generator's four state words (to save and restore a world exactly).
    public var stateWords: [UInt64] { [s0, s1, s2, s3] }

    /// A generator at exactly these state words; nil unless there are four and not all zero (a stuck xoshiro).
    public init?(stateWords words: [UInt64]) {
        guard words.count == 4, words.contains(where: { $0 != 0 }) else { return nil }
        self.init(seed: 0)
        (s0, s1, s2, s3) = (words[0], words[1], words[2], words[3])
    }
}

extension EntityStore {
    /// Writes every slot (generation, and the value if live) and the free list, so a restored store hands out the
    /// same ids in the same order.
    public func write(to writer: inout StateWriter, value: (Value, inout StateWriter) -> Void) {
        writer.write(slots.count)
        for slot in slots {
            writer.write(slot.generation)
            if let live = slot.value {
                writer.write(UInt64(1))
                value(live, &writer)
            } else {
                writer.write(UInt64(0))
            }
        }
        writer.write(freeSlots.count)
        for index in freeSlots { writer.write(index) }
    }

    /// A store read back; nil when the bytes do not describe one within `capacity`.
    public init?(from reader: inout StateReader, capacity: Int, value: (inout StateReader) -> Value?) {
        guard capacity > 0, let slotCount = reader.readInt(in: 0...capacity) else { return nil }
        self.init(capacity: capacity)
        for _ in 0..<slotCount {
            guard let generation = reader.readUInt32(), let isLive = reader.readUInt64(), isLive <= 1 else { return nil }
            var live: Value?
            if isLive == 1 {
                guard let decoded = value(&reader) else { return nil }
                live = decoded
                liveCount += 1
            }
            slots.append(Slot(generation: generation, value: live))
        }
        guard let freeCount = reader.readInt(in: 0...slotCount) else { return nil }
        for _ in 0..<freeCount {
            guard let index = reader.readUInt32(), Int(index) < slotCount, slots[Int(index)].value == nil else { return nil }
            freeSlots.append(index)
        }
    }
}

/// The header every game's state starts with: a state version, the seed, the tick and the random generator, so a
/// game's `encodeState`/`restore` write and check them one way.
extension StateWriter {
    /// Writes the header fields.
    public mutating func writeHeader(version: UInt64, seed: UInt64, tick: UInt32, random: DeterministicRandom) {
        write(version)
        write(seed)
        write(tick)
        for word in random.stateWords { write(word) }
    }
}

extension StateReader {
    /// Reads the header `StateWriter.writeHeader` wrote; nil when the version differs or anything is missing.
    public mutating func readHeader(version: UInt64) -> (seed: UInt64, tick: UInt32, random: DeterministicRandom)? {
        guard readUInt64() == version, let seed = readUInt64(), let tick = readUInt32() else { return nil }
        var words: [UInt64] = []
        for _ in 0..<4 {
            guard let word = readUInt64() else { return nil }
            words.append(word)
        }
        guard let random = DeterministicRandom(stateWords: words) else { return nil }
        return (seed, tick, random)
    }
}

/// A game's settings as the bytes recordings store: each setting a raw 64-bit integer, little-endian, in the game's
/// fixed order. The game then checks the values (`Game.decodeConfig` must refuse what it cannot run).
public enum SettingsBytes {
    /// The bytes of `values`.
    public static func encode(_ values: [Int64]) -> [UInt8] {
        values.flatMap { value in (0..<8).map { UInt8(truncatingIfNeeded: value >> ($0 * 8)) } }
    }

    /// Exactly `count` values back from `bytes`; nil for any other length.
    public static func decode(_ bytes: [UInt8], count: Int) -> [Int64]? {
        guard bytes.count == count * 8 else { return nil }
        return (0..<count).map { index in (0..<8).reduce(Int64(0)) { $0 | Int64(bytes[index * 8 + $1]) << ($1 * 8) } }
    }
}
