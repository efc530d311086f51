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

    /// The documented defaults.
    public init() {}
}
