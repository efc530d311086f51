/// A 64-bit hash of a world's state, fed field by field in a fixed order. Two runs hash equal iff (with
/// overwhelming probability) they computed the same state, so recordings can detect the first divergent tick.
public struct StateHasher: Sendable {
    /// The hash so far.
    public private(set) var value: UInt64 = 0x243F_6A88_85A3_08D3

    /// A hasher at its fixed starting value.
    public init() {}

    /// Mixes in 64 bits.
    public mutating func combine(_ word: UInt64) {
        var z = (value ^ word) &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        value = z ^ (z >> 31)
    }

    /// Mixes in a signed integer.
    public mutating func combine(_ integer: Int64) { combine(UInt64(bitPattern: integer)) }
    /// Mixes in a fixed-point number.
    public mutating func combine(_ number: Fixed) { combine(number.raw) }
    /// Mixes in a vector.
    public mutating func combine(_ vector: FixedVector) {
        combine(vector.x)
        combine(vector.y)
    }
    /// Mixes in an entity id.
    public mutating func combine(_ id: EntityID) { combine(UInt64(id.index) << 32 | UInt64(id.generation)) }
    /// Mixes in a string's UTF-8 bytes and length.
    public mutating func combine(_ text: String) {
        combine(UInt64(text.utf8.count))
        var word: UInt64 = 0
        var shift: UInt64 = 0
        for byte in text.utf8 {
            word |= UInt64(byte) << shift
            shift += 8
            if shift == 64 {
                combine(word)
                word = 0
                shift = 0
            }
        }
        if shift > 0 { combine(word) }
    }
}
