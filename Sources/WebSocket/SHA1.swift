/// SHA-1 (FIPS 180-4), needed only for the RFC 6455 accept key. Not for security-sensitive uses.
public struct SHA1: Sendable {
    private var state: (UInt32, UInt32, UInt32, UInt32, UInt32) =
        (0x6745_2301, 0xEFCD_AB89, 0x98BA_DCFE, 0x1032_5476, 0xC3D2_E1F0)
    private var block = [UInt8](repeating: 0, count: 64)
    private var blockFill = 0
    private var totalBytes: UInt64 = 0

    /// A fresh hash state.
    public init() {}

    /// The 20-byte digest of `bytes`.
    public static func hash<Bytes: Sequence>(_ bytes: Bytes) -> [UInt8] where Bytes.Element == UInt8 {
        var sha = SHA1()
        sha.update(bytes)
        return sha.finish()
    }

    /// Adds `bytes` to the message.
    public mutating func update<Bytes: Sequence>(_ bytes: Bytes) where Bytes.Element == UInt8 {
        for byte in bytes {
            block[blockFill] = byte
            blockFill += 1
            totalBytes &+= 1
            if blockFill == 64 {
                compressBlock()
                blockFill = 0
            }
        }
    }

    /// Pads the message and returns the digest; the state is spent afterwards.
    public mutating func finish() -> [UInt8] {
        let messageBits = totalBytes &* 8
        update(CollectionOfOne(0x80))
        while blockFill != 56 { update(CollectionOfOne(0)) }
        for shift in stride(from: 56, through: 0, by: -8) {
            update(CollectionOfOne(UInt8(truncatingIfNeeded: messageBits >> UInt64(shift))))
        }
        var digest: [UInt8] = []
        digest.reserveCapacity(20)
        for word in [state.0, state.1, state.2, state.3, state.4] {
            digest.append(UInt8(truncatingIfNeeded: word >> 24))
            digest.append(UInt8(truncatingIfNeeded: word >> 16))
            digest.append(UInt8(truncatingIfNeeded: word >> 8))
            digest.append(UInt8(truncatingIfNeeded: word))
        }
        return digest
    }

    private mutating func compressBlock() {
        // The 80-word message schedule lives on the stack: a handshake hashes two blocks and should not allocate.
        state = withUnsafeTemporaryAllocation(of: UInt32.self, capacity: 80) { w in
            block.withUnsafeBufferPointer { bytes in
                for i in 0..<16 {
                    w[i] = UInt32(bytes[4 * i]) << 24 | UInt32(bytes[4 * i + 1]) << 16
                        | UInt32(bytes[4 * i + 2]) << 8 | UInt32(bytes[4 * i + 3])
                }
            }
            for i in 16..<80 {
                let x = w[i - 3] ^ w[i - 8] ^ w[i - 14] ^ w[i - 16]
                w[i] = (x << 1) | (x >> 31)
            }
            var (a, b, c, d, e) = state
            for i in 0..<80 {
                let f: UInt32
                let k: UInt32
                switch i {
                case 0..<20: f = (b & c) | (~b & d); k = 0x5A82_7999
                case 20..<40: f = b ^ c ^ d; k = 0x6ED9_EBA1
                case 40..<60: f = (b & c) | (b & d) | (c & d); k = 0x8F1B_BCDC
                default: f = b ^ c ^ d; k = 0xCA62_C1D6
                }
                let temp = ((a << 5) | (a >> 27)) &+ f &+ e &+ k &+ w[i]
                e = d
                d = c
                c = (b << 30) | (b >> 2)
                b = a
                a = temp
            }
            return (state.0 &+ a, state.1 &+ b, state.2 &+ c, state.3 &+ d, state.4 &+ e)
        }
    }
}
