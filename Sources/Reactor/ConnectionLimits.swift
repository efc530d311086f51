/// Per-connection limits and timeouts of the transport. Every one has a flag in `tickwire serve`.
public struct ConnectionLimits: Sendable, Equatable {
    /// Unsent bytes above which a connection stops being writable (backpressure on): `--write-high-watermark-bytes`.
    public var writeHighWatermarkBytes = 256 * 1024
    /// Unsent bytes at or below which it becomes writable again: `--write-low-watermark-bytes`.
    public var writeLowWatermarkBytes = 64 * 1024
    /// Unsent bytes beyond which the peer is too slow and the connection is closed: `--write-queue-max-bytes`.
    public var writeQueueBytesMax = 8 * 1024 * 1024
    /// Time to send a complete opening handshake (and, for clients, to connect): `--handshake-timeout-ms`.
    public var handshakeTimeoutNs: UInt64 = 5_000_000_000
    /// Silence after which the server pings: `--ping-interval-ms`.
    public var pingIntervalNs: UInt64 = 10_000_000_000
    /// Silence after which the peer is considered gone and closed: `--idle-timeout-ms`.
    public var idleTimeoutNs: UInt64 = 30_000_000_000
    /// Time to wait for the peer's close frame and its end of TCP after we closed: `--close-timeout-ms`.
    public var closeTimeoutNs: UInt64 = 2_000_000_000
    /// Time a started WebSocket message (or frame) has to arrive whole: `--message-timeout-ms`. A peer that
    /// trickles a message, or opens a fragmented one and only ever sends empty fragments, is closed with 1008.
    public var messageTimeoutNs: UInt64 = 10_000_000_000
    /// Time an HTTP response (a page, a script) has to reach a peer before the connection is closed anyway:
    /// `--response-timeout-ms`. Bounds a reader that never reads, or reads a large file a byte at a time.
    public var responseTimeoutNs: UInt64 = 30_000_000_000
    /// Pongs written one by one for pings that arrive in one read; past it only the latest ping of that read is
    /// answered (RFC 6455 §5.5.3 allows answering only the most recent), so a ping flood costs a bounded number of
    /// writes per read.
    public var pongsPerReadMax = 16

    /// The documented defaults.
    public init() {}
}
