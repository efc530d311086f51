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

/// Writes fields into bytes, least significant bit first within each byte.
public struct BitWriter: BitStream {
    /// The bytes written so far (the last one may be partly filled).
    public private(set) var bytes: [UInt8] = []
    private var scratch: UInt64 = 0
    private var scratchBits = 0

    /// An empty writer.
    public init(capacity: Int = 64) { bytes.reserveCapacity(capacity) }

    public var isReading: Bool { false }

    /// Bits written so far.
    public var bitCount: Int { bytes.count * 8 + scratchBits }
    public var bitsProcessed: Int { bitCount }

    public mutating func serializeBits(_ value: inout UInt64, bitCount: Int, field: StaticString) throws(WireError) {
        precondition(bitCount >= 1 && bitCount <= 64)
        let masked = bitCount == 64 ? value : value & ((1 << UInt64(bitCount)) - 1)
        var remaining = bitCount
        var pending = masked
        while remaining > 0 {
            let take = min(remaining, 64 - scratchBits)
            let chunk = take == 64 ? pending : pending & ((1 << UInt64(take)) - 1)
            scratch |= chunk << UInt64(scratchBits)
            scratchBits += take
            remaining -= take
            pending = take == 64 ? 0 : pending >> UInt64(take)
            while scratchBits >= 8 {
                bytes.append(UInt8(truncatingIfNeeded: scratch))
                scratch >>= 8
                scratchBits -= 8
            }
        }
    }

    public mutating func alignToByte(field: StaticString) throws(WireError) {
        if scratchBits > 0 {
            bytes.append(UInt8(truncatingIfNeeded: scratch))
            scratch = 0
            scratchBits = 0
        }
    }

    /// The finished bytes (pads the last byte with zeros).
    public mutating func finish() -> [UInt8] {
        try? alignToByte(field: "end")
        return bytes
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

    public mutating func serializeBits(_ value: inout UInt64, bitCount: Int, field: StaticString) throws(WireError) {
        precondition(bitCount >= 1 && bitCount <= 64)
        guard bitsRemaining >= bitCount else { throw .truncated(field: "\(field)") }
        let byteIndex = bitPosition >> 3
        if bitCount <= 56, byteIndex + 8 <= bytes.count {
            // One unaligned 64-bit load covers the field (offset ≤ 7 plus ≤ 56 bits): most fields take this path.
            let word = UInt64(littleEndian: bytes.withUnsafeBytes { $0.loadUnaligned(fromByteOffset: byteIndex, as: UInt64.self) })
            value = (word >> UInt64(bitPosition & 7)) & ((1 << UInt64(bitCount)) - 1)
            bitPosition += bitCount
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
