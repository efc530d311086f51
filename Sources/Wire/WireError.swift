/// Why bytes could not be decoded (or a value could not be encoded). Decoders return these, never trap.
public enum WireError: Error, Equatable, Sendable {
    /// The message ended before a field did.
    case truncated(field: String)
    /// A field's value is outside its declared range.
    case outOfRange(field: String, value: Int64)
    /// A string field is not UTF-8, or longer than its limit in bytes.
    case invalidString(field: String)
    /// Bytes left after the message's last field.
    case trailingBytes(Int)
    /// An unknown message type byte.
    case unknownMessageType(UInt8)
}
