/// Close status codes (RFC 6455 §7.4) that this implementation sends or names.
public enum WebSocketCloseCode: Sendable, Equatable {
    /// 1000: the purpose of the connection is fulfilled.
    public static let normalClosure: UInt16 = 1000
    /// 1001: the server is shutting down, or the peer went idle.
    public static let goingAway: UInt16 = 1001
    /// 1002: the peer broke the framing protocol.
    public static let protocolError: UInt16 = 1002
    /// 1003: a data type this endpoint cannot accept (e.g. text on a binary-only endpoint).
    public static let unsupportedData: UInt16 = 1003
    /// 1005: no status in the close frame (never sent on the wire).
    public static let noStatusReceived: UInt16 = 1005
    /// 1006: closed without a close frame (never sent on the wire).
    public static let abnormalClosure: UInt16 = 1006
    /// 1007: a text message that is not UTF-8.
    public static let invalidPayload: UInt16 = 1007
    /// 1008: the message breaks this endpoint's policy (e.g. rate limits).
    public static let policyViolation: UInt16 = 1008
    /// 1009: a frame or message over the size limit.
    public static let messageTooBig: UInt16 = 1009
    /// 1011: the server hit an unexpected condition.
    public static let internalError: UInt16 = 1011

    /// True if `code` may appear in a close frame received from a peer (§7.4.1, §7.4.2 and the IANA registry:
    /// 1000–1003, 1007–1014, and the 3000–4999 ranges for libraries and applications).
    public static func isValidOnWire(_ code: UInt16) -> Bool {
        switch code {
        case 1000...1003, 1007...1014, 3000...4999: return true
        default: return false
        }
    }
}
