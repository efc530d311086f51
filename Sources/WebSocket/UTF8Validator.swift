/// Streaming UTF-8 validation (RFC 3629): feed any split of the bytes; fails at the first byte that can
/// no longer begin or continue a valid sequence, so a bad fragment is caught before the message ends.
public struct UTF8Validator: Sendable, Equatable {
    private var continuationBytesNeeded: UInt8 = 0
    private var nextByteLowest: UInt8 = 0x80
    private var nextByteHighest: UInt8 = 0xBF

    /// A validator at the start of a text.
    public init() {}

    /// True when the text so far ends on a character boundary (a complete message is valid).
    public var isAtCharacterBoundary: Bool { continuationBytesNeeded == 0 }

    /// Validates the next bytes; false at the first invalid byte (the validator is then spent).
    public mutating func validate(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard let base = bytes.baseAddress else { return true }
        let count = bytes.count
        var index = 0
        while index < count {
            // Fast path: eight ASCII bytes at a time while no sequence is open.
            if continuationBytesNeeded == 0 {
                while index + 8 <= count,
                      (base + index).loadUnaligned(as: UInt64.self) & 0x8080_8080_8080_8080 == 0 {
                    index += 8
                }
                guard index < count else { break }
            }
            let byte = base.load(fromByteOffset: index, as: UInt8.self)
            index += 1
            if continuationBytesNeeded == 0 {
                switch byte {
                case 0x00...0x7F: continue
                case 0xC2...0xDF: begin(1, 0x80, 0xBF)
                case 0xE0: begin(2, 0xA0, 0xBF)            // no overlong 3-byte forms
                case 0xE1...0xEC, 0xEE...0xEF: begin(2, 0x80, 0xBF)
                case 0xED: begin(2, 0x80, 0x9F)            // no UTF-16 surrogates
                case 0xF0: begin(3, 0x90, 0xBF)            // no overlong 4-byte forms
                case 0xF1...0xF3: begin(3, 0x80, 0xBF)
                case 0xF4: begin(3, 0x80, 0x8F)            // nothing above U+10FFFF
                default: return false
                }
            } else {
                guard byte >= nextByteLowest && byte <= nextByteHighest else { return false }
                continuationBytesNeeded -= 1
                nextByteLowest = 0x80
                nextByteHighest = 0xBF
            }
        }
        return true
    }

    /// Validates an array of bytes.
    public mutating func validate(_ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { validate($0) }
    }

    private mutating func begin(_ needed: UInt8, _ lowest: UInt8, _ highest: UInt8) {
        continuationBytesNeeded = needed
        nextByteLowest = lowest
        nextByteHighest = highest
    }
}
