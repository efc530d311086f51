/// A protocol violation by the peer. Each case carries the close code the connection must be failed with.
public enum WebSocketError: Error, Equatable, Sendable {
    /// RSV1-3 set without a negotiated extension.
    case reservedBitsSet
    /// Opcode 3-7 or B-F.
    case reservedOpcode(UInt8)
    /// A server received an unmasked frame (clients must mask).
    case unmaskedClientFrame
    /// A client received a masked frame (servers must not mask).
    case maskedServerFrame
    /// A control frame with FIN clear.
    case fragmentedControlFrame
    /// A control frame payload over 125 bytes.
    case controlFrameTooLong(Int)
    /// A 64-bit length with the most significant bit set.
    case invalidPayloadLength
    /// A continuation frame with no message to continue.
    case unexpectedContinuation
    /// A new text or binary frame while a fragmented message is unfinished.
    case expectedContinuation
    /// A frame payload over the frame limit (checked from the header, before allocating).
    case frameTooLarge(lengthBytes: UInt64, limitBytes: Int)
    /// The message so far would exceed the message limit.
    case messageTooLarge(limitBytes: Int)
    /// Text that is not valid UTF-8 (found as early as the invalid byte arrives).
    case invalidUTF8
    /// A close frame with a 1-byte payload.
    case closePayloadTooShort
    /// A close frame with a code that may not be sent.
    case invalidCloseCode(UInt16)
    /// A close reason that is not UTF-8.
    case invalidCloseReason

    /// The close code to fail the connection with.
    public var closeCode: UInt16 {
        switch self {
        case .frameTooLarge, .messageTooLarge: return WebSocketCloseCode.messageTooBig
        case .invalidUTF8, .invalidCloseReason: return WebSocketCloseCode.invalidPayload
        default: return WebSocketCloseCode.protocolError
        }
    }

    /// A short reason for the close frame (at most 123 bytes) and the log.
    public var reason: String {
        switch self {
        case .reservedBitsSet: return "reserved bits set without an extension"
        case .reservedOpcode(let opcode): return "reserved opcode \(opcode)"
        case .unmaskedClientFrame: return "client frames must be masked"
        case .maskedServerFrame: return "server frames must not be masked"
        case .fragmentedControlFrame: return "control frames must not be fragmented"
        case .controlFrameTooLong(let length): return "control frame of \(length) bytes (max 125)"
        case .invalidPayloadLength: return "64-bit payload length has its top bit set"
        case .unexpectedContinuation: return "continuation frame without a message"
        case .expectedContinuation: return "new message before the fragmented one ended"
        case .frameTooLarge(let length, let limit): return "frame of \(length) bytes over the limit of \(limit)"
        case .messageTooLarge(let limit): return "message over the limit of \(limit) bytes"
        case .invalidUTF8: return "text is not valid UTF-8"
        case .closePayloadTooShort: return "close frame payload of 1 byte"
        case .invalidCloseCode(let code): return "invalid close code \(code)"
        case .invalidCloseReason: return "close reason is not valid UTF-8"
        }
    }
}
