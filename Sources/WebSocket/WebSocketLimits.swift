/// Size limits for what a peer may send. Exceeding either closes the connection with 1009.
public struct WebSocketLimits: Sendable, Equatable {
    /// Default for `frameBytesMax` (`--max-frame-bytes`): 1 MiB.
    public static let frameBytesMaxDefault = 1 << 20
    /// Default for `messageBytesMax` (`--max-message-bytes`): 1 MiB.
    public static let messageBytesMaxDefault = 1 << 20

    /// Largest payload of a single frame, checked from the header before anything is allocated.
    public var frameBytesMax: Int
    /// Largest message, all fragments together.
    public var messageBytesMax: Int

    /// Limits with the documented defaults.
    public init(frameBytesMax: Int = frameBytesMaxDefault, messageBytesMax: Int = messageBytesMaxDefault) {
        self.frameBytesMax = frameBytesMax
        self.messageBytesMax = messageBytesMax
    }
}
