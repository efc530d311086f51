/// Builds frames. Servers send unmasked frames; clients pass a fresh `maskKey` for every frame.
public enum WebSocketFrameEncoder {
    /// The longest header: 2 bytes, an 8-byte length and a 4-byte mask key.
    public static let headerBytesMax = 14

    /// The header length for a payload of `payloadLength` bytes.
    @inlinable
    public static func headerLength(payloadLength: Int, masked: Bool) -> Int {
        (payloadLength < 126 ? 2 : payloadLength <= 0xFFFF ? 4 : 10) + (masked ? 4 : 0)
    }

    /// Writes a frame header at `destination` (room for `headerBytesMax` bytes); returns its length.
    @inlinable
    public static func writeHeader(to destination: UnsafeMutableRawPointer, opcode: WebSocketOpcode, fin: Bool = true,
                                   payloadLength: Int, maskKey: UInt32? = nil) -> Int {
        precondition(payloadLength >= 0)
        destination.storeBytes(of: (fin ? 0x80 : 0) | opcode.rawValue, toByteOffset: 0, as: UInt8.self)
        let maskBit: UInt8 = maskKey == nil ? 0 : 0x80
        var length: Int
        if payloadLength < 126 {
            destination.storeBytes(of: maskBit | UInt8(payloadLength), toByteOffset: 1, as: UInt8.self)
            length = 2
        } else if payloadLength <= 0xFFFF {
            destination.storeBytes(of: maskBit | 126, toByteOffset: 1, as: UInt8.self)
            destination.storeBytes(of: UInt16(payloadLength).bigEndian, toByteOffset: 2, as: UInt16.self)
            length = 4
        } else {
            destination.storeBytes(of: maskBit | 127, toByteOffset: 1, as: UInt8.self)
            destination.storeBytes(of: UInt64(payloadLength).bigEndian, toByteOffset: 2, as: UInt64.self)
            length = 10
        }
        if let maskKey {
            destination.storeBytes(of: maskKey.littleEndian, toByteOffset: length, as: UInt32.self)
            length += 4
        }
        return length
    }

    /// A whole frame as new bytes (payload masked when `maskKey` is given). Build a broadcast once with this
    /// and write the same bytes to every recipient.
    public static func frame(opcode: WebSocketOpcode, payload: UnsafeRawBufferPointer, fin: Bool = true,
                             maskKey: UInt32? = nil) -> [UInt8] {
        let headerLength = headerLength(payloadLength: payload.count, masked: maskKey != nil)
        return [UInt8](unsafeUninitializedCapacity: headerLength + payload.count) { buffer, initialized in
            let base = UnsafeMutableRawPointer(buffer.baseAddress!)
            let written = writeHeader(to: base, opcode: opcode, fin: fin, payloadLength: payload.count, maskKey: maskKey)
            if let source = payload.baseAddress, !payload.isEmpty {
                (base + written).copyMemory(from: source, byteCount: payload.count)
            }
            if let maskKey {
                WebSocketMask.apply(key: maskKey, to: UnsafeMutableRawBufferPointer(start: base + written, count: payload.count), offset: 0)
            }
            initialized = written + payload.count
        }
    }

    /// A whole frame from an array payload.
    public static func frame(opcode: WebSocketOpcode, payload: [UInt8], fin: Bool = true, maskKey: UInt32? = nil) -> [UInt8] {
        payload.withUnsafeBytes { frame(opcode: opcode, payload: $0, fin: fin, maskKey: maskKey) }
    }

    /// A close payload: the code big-endian, then the reason cut to fit 125 bytes on a character boundary.
    public static func closePayload(code: UInt16, reason: String) -> [UInt8] {
        var payload = [UInt8(code >> 8), UInt8(code & 0xFF)]
        var reasonBytes = 0
        for scalar in reason.unicodeScalars {
            let scalarBytes = String(scalar).utf8.count
            guard reasonBytes + scalarBytes <= 123 else { break }
            payload.append(contentsOf: String(scalar).utf8)
            reasonBytes += scalarBytes
        }
        return payload
    }
}
