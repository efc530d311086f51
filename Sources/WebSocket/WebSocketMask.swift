/// Client-to-server masking (RFC 6455 §5.3).
public enum WebSocketMask {
    /// A fresh, unpredictable masking key from the system's secure generator (getrandom on Linux).
    public static func randomKey() -> UInt32 {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }

    /// 64 unpredictable bits (resume tokens and the like).
    public static func randomToken() -> UInt64 {
        var generator = SystemRandomNumberGenerator()
        return generator.next()
    }

    /// XORs `bytes` in place with `key` (the four key bytes as they appear on the wire, loaded little-endian),
    /// starting at `offset` within the payload. Applying it twice restores the bytes.
    public static func apply(key: UInt32, to bytes: UnsafeMutableRawBufferPointer, offset: Int) {
        guard let base = bytes.baseAddress else { return }
        let rotation = UInt32((offset & 3) * 8)
        let rotated = rotation == 0 ? key : (key >> rotation) | (key << (32 - rotation))
        let wide = UInt64(rotated) | UInt64(rotated) << 32
        var index = 0
        let count = bytes.count
        while index + 8 <= count {
            let word = (base + index).loadUnaligned(as: UInt64.self) ^ wide.littleEndian
            (base + index).storeBytes(of: word, as: UInt64.self)
            index += 8
        }
        while index < count {
            let keyByte = UInt8(truncatingIfNeeded: rotated >> UInt32((index & 3) * 8))
            base.storeBytes(of: base.load(fromByteOffset: index, as: UInt8.self) ^ keyByte, toByteOffset: index, as: UInt8.self)
            index += 1
        }
    }
}
