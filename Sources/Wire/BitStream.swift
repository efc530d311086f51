/// One side of a serialize function: the same code writes (`BitWriter`), reads (`BitReader`) or measures
/// (`BitMeasurer`) a message, so encoder and decoder cannot disagree. Every field declares its bounds at the
/// call; readers check them and fail with a `WireError` naming the field.
public protocol BitStream {
    /// True for `BitReader`: the serialize function fills in its values.
    var isReading: Bool { get }
    /// Reads or writes the low `bitCount` bits of `value` (1...64).
    mutating func serializeBits(_ value: inout UInt64, bitCount: Int, field: StaticString) throws(WireError)
    /// Pads to a byte boundary with zero bits (readers require the padding to be zero).
    mutating func alignToByte(field: StaticString) throws(WireError)
    /// Bits written, read or counted so far.
    var bitsProcessed: Int { get }
}

/// The number of bits needed to store every value in `0...span`.
@inlinable
public func bitsRequired(forSpan span: UInt64) -> Int { span == 0 ? 0 : 64 - span.leadingZeroBitCount }

extension BitStream {
    /// A Bool as one bit.
    @inlinable
    public mutating func serialize(_ value: inout Bool, field: StaticString) throws(WireError) {
        var bits: UInt64 = value ? 1 : 0
        try serializeBits(&bits, bitCount: 1, field: field)
        value = bits != 0
    }

    /// An integer in `range`, stored in exactly as many bits as the range needs.
    @inlinable
    public mutating func serialize<Value: FixedWidthInteger>(_ value: inout Value, in range: ClosedRange<Value>,
                                                            field: StaticString) throws(WireError) {
        let span = UInt64(truncatingIfNeeded: Int64(range.upperBound) &- Int64(range.lowerBound))
        let bitCount = bitsRequired(forSpan: span)
        if !isReading {
            guard range.contains(value) else { throw .outOfRange(field: "\(field)", value: Int64(value)) }
        }
        guard bitCount > 0 else {
            value = range.lowerBound
            return
        }
        var bits = UInt64(truncatingIfNeeded: Int64(value) &- Int64(range.lowerBound))
        try serializeBits(&bits, bitCount: bitCount, field: field)
        if isReading {
            guard bits <= span else { throw .outOfRange(field: "\(field)", value: Int64(range.lowerBound) &+ Int64(bitPattern: bits)) }
            value = Value(truncatingIfNeeded: Int64(range.lowerBound) &+ Int64(bitPattern: bits))
        }
    }

    /// An unsigned value in its full width (ticks, sequence numbers, tokens).
    @inlinable
    public mutating func serialize<Value: FixedWidthInteger & UnsignedInteger>(_ value: inout Value, field: StaticString) throws(WireError) {
        var bits = UInt64(truncatingIfNeeded: value)
        try serializeBits(&bits, bitCount: Value.bitWidth, field: field)
        value = Value(truncatingIfNeeded: bits)
    }

    /// A UTF-8 string of at most `maxBytes` bytes: a length, then the bytes (byte-aligned).
    public mutating func serialize(_ value: inout String, maxBytes: Int, field: StaticString) throws(WireError) {
        var bytes = Array(value.utf8)
        if !isReading && bytes.count > maxBytes { throw .invalidString(field: "\(field)") }
        var count = bytes.count
        try serialize(&count, in: 0...maxBytes, field: field)
        try alignToByte(field: field)
        if isReading { bytes = [UInt8](repeating: 0, count: count) }
        for index in 0..<count {
            var bits = UInt64(bytes[index])
            try serializeBits(&bits, bitCount: 8, field: field)
            bytes[index] = UInt8(truncatingIfNeeded: bits)
        }
        if isReading {
            guard let text = String(validating: bytes, as: UTF8.self) else { throw .invalidString(field: "\(field)") }
            value = text
        }
    }
}

/// Writes fields into bytes, least significant bit first within each byte. Bits collect in a 64-bit word that is
/// stored whole when full: one store per 64 bits, not one per byte (snapshot encoding is the server's hot loop).
public struct BitWriter: BitStream {
    /// Whole words written so far, little-endian bit order.
    private(set) var words: [UInt64] = []
    /// Bits not yet in `words` (fewer than 64), in the low bits.
    private(set) var pending: UInt64 = 0
    private(set) var pendingBits = 0

    /// An empty writer with room for `capacity` bytes.
    public init(capacity: Int = 64) { words.reserveCapacity((capacity + 7) / 8) }

    public var isReading: Bool { false }

    /// Bits written so far.
    public var bitCount: Int { words.count &* 64 &+ pendingBits }
    public var bitsProcessed: Int { bitCount }

    /// The bytes written so far, the last one zero-padded.
    public var bytes: [UInt8] {
        var copy = self
        return copy.finish()
    }

    /// Appends the low `bitCount` bits of `value` (1...64).
    @inline(__always)
    public mutating func write(_ value: UInt64, bitCount: Int) {
        precondition(bitCount >= 1 && bitCount <= 64)
        let masked = bitCount == 64 ? value : value & ((1 &<< UInt64(bitCount)) &- 1)
        pending |= masked &<< UInt64(pendingBits)
        let total = pendingBits &+ bitCount
        if total >= 64 {
            words.append(pending)
            pending = pendingBits == 0 ? 0 : masked &>> UInt64(64 &- pendingBits)
            pendingBits = total &- 64
        } else {
            pendingBits = total
        }
    }

    /// Appends `bitCount` bits held in `source` words (least significant first), as another writer's `words`
    /// left them: pre-encoded pieces are copied into many messages this way.
    @inline(__always)
    public mutating func write(words source: UnsafeBufferPointer<UInt64>, bitCount: Int) {
        var remaining = bitCount
        var index = 0
        while remaining >= 64 {
            write(source[index], bitCount: 64)
            index &+= 1
            remaining &-= 64
        }
        if remaining > 0 { write(source[index], bitCount: remaining) }
    }

    /// Appends everything `other` wrote (bit for bit, without its padding).
    public mutating func write(_ other: BitWriter) {
        other.words.withUnsafeBufferPointer { write(words: $0, bitCount: other.words.count &* 64) }
        if other.pendingBits > 0 { write(other.pending, bitCount: other.pendingBits) }
    }

    /// Empties the writer and keeps its storage.
    public mutating func removeAll() {
        words.removeAll(keepingCapacity: true)
        pending = 0
        pendingBits = 0
    }

    @inline(__always)
    public mutating func serializeBits(_ value: inout UInt64, bitCount: Int, field: StaticString) throws(WireError) {
        write(value, bitCount: bitCount)
    }

    public mutating func alignToByte(field: StaticString) throws(WireError) {
        let aligned = (pendingBits &+ 7) & ~7
        if aligned == 64 {
            words.append(pending)
            pending = 0
            pendingBits = 0
        } else {
            pendingBits = aligned
        }
    }

    /// The finished bytes (pads the last byte with zeros).
    public mutating func finish() -> [UInt8] {
        try? alignToByte(field: "end")
        let byteCount = finishedByteCount
        return [UInt8](unsafeUninitializedCapacity: byteCount) { buffer, initialized in
            storeFinished(into: UnsafeMutableRawBufferPointer(UnsafeMutableBufferPointer(rebasing: buffer[0..<byteCount])))
            initialized = byteCount
        }
    }

    /// Appends the finished bytes (the last one zero-padded) to `bytes`: a caller reusing one array allocates nothing.
    public mutating func finish(appendingTo bytes: inout [UInt8]) {
        try? alignToByte(field: "end")
        let start = bytes.count, byteCount = finishedByteCount
        bytes.append(contentsOf: repeatElement(0, count: byteCount))
        bytes.withUnsafeMutableBytes { storeFinished(into: UnsafeMutableRawBufferPointer(rebasing: $0[start..<(start &+ byteCount)])) }
    }

    /// Bytes in the finished message, once aligned.
    private var finishedByteCount: Int { words.count &* 8 &+ pendingBits / 8 }

    /// Stores the aligned bits into `raw` (exactly `finishedByteCount` bytes).
    private func storeFinished(into raw: UnsafeMutableRawBufferPointer) {
        words.withUnsafeBufferPointer { source in
            // Words are stored in the machine's order; the wire is little-endian bytes.
            for (index, word) in source.enumerated() {
                raw.storeBytes(of: word.littleEndian, toByteOffset: index &* 8, as: UInt64.self)
            }
        }
        withUnsafeBytes(of: pending.littleEndian) { tailBytes in
            for index in 0..<(raw.count &- words.count &* 8) { raw[words.count &* 8 &+ index] = tailBytes[index] }
        }
    }
}

/// Reads fields back; every read is bounds-checked, so any byte string gives values or a `WireError`.
public struct BitReader: BitStream {
    private let bytes: [UInt8]
    private var bitPosition = 0

    /// A reader over `bytes`.
    public init(_ bytes: [UInt8]) { self.bytes = bytes }

    public var isReading: Bool { true }

    /// Bits not read yet.
    public var bitsRemaining: Int { bytes.count * 8 - bitPosition }
    public var bitsProcessed: Int { bitPosition }

    @inline(__always)
    public mutating func serializeBits(_ value: inout UInt64, bitCount: Int, field: StaticString) throws(WireError) {
        precondition(bitCount >= 1 && bitCount <= 64)
        let byteIndex = bitPosition >> 3
        if bitCount <= 56, byteIndex &+ 8 <= bytes.count {
            // One unaligned 64-bit load covers the field (offset ≤ 7 plus ≤ 56 bits, all inside the bytes): most
            // fields take this path, inlined into the decoder; the rest, and errors, go out of line.
            let word = UInt64(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: byteIndex, as: UInt64.self) })
            value = (word &>> UInt64(bitPosition & 7)) & ((1 &<< UInt64(bitCount)) &- 1)
            bitPosition &+= bitCount
            return
        }
        try serializeBitsNearTheEnd(&value, bitCount: bitCount, field: field)
    }

    /// `serializeBits` within 8 bytes of the end (or for more than 56 bits, or a message under 8 bytes), with the length
    /// check.
    @inline(never)
    private mutating func serializeBitsNearTheEnd(_ value: inout UInt64, bitCount: Int, field: StaticString) throws(WireError) {
        guard bitsRemaining >= bitCount else { throw .truncated(field: "\(field)") }
        if bitCount <= 56, bytes.count >= 8 {
            // The message's last 8 bytes as one word: the field lies inside it (every message ends here).
            let shift = bitPosition &- (bytes.count &- 8) &* 8
            let word = UInt64(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: bytes.count &- 8, as: UInt64.self) })
            value = (word &>> UInt64(shift)) & ((1 &<< UInt64(bitCount)) &- 1)
            bitPosition &+= bitCount
            return
        }
        var result: UInt64 = 0
        var produced = 0
        while produced < bitCount {
            let byte = UInt64(bytes[bitPosition >> 3])
            let offset = bitPosition & 7
            let take = min(8 - offset, bitCount - produced)
            let chunk = (byte >> UInt64(offset)) & ((1 << UInt64(take)) - 1)
            result |= chunk << UInt64(produced)
            produced += take
            bitPosition += take
        }
        value = result
    }

    public mutating func alignToByte(field: StaticString) throws(WireError) {
        let padding = (8 - bitPosition & 7) & 7
        guard padding > 0 else { return }
        var bits: UInt64 = 0
        try serializeBits(&bits, bitCount: padding, field: field)
        guard bits == 0 else { throw .outOfRange(field: "\(field) padding", value: Int64(bits)) }
    }

    /// Fails unless the message used every byte (trailing bits of the last byte must be zero padding).
    public mutating func finish() throws(WireError) {
        try alignToByte(field: "end")
        guard bitsRemaining == 0 else { throw .trailingBytes(bitsRemaining / 8) }
    }
}

/// Counts the bits a message would take, without writing anything.
public struct BitMeasurer: BitStream {
    /// Bits counted so far.
    public private(set) var bitCount = 0

    /// A measurer at zero.
    public init() {}

    public var isReading: Bool { false }

    @inline(__always)
    public mutating func serializeBits(_ value: inout UInt64, bitCount: Int, field: StaticString) throws(WireError) {
        self.bitCount += bitCount
    }

    public mutating func alignToByte(field: StaticString) throws(WireError) {
        bitCount = (bitCount + 7) & ~7
    }

    /// Whole bytes the message takes.
    public var byteCount: Int { (bitCount + 7) / 8 }
    public var bitsProcessed: Int { bitCount }
}
