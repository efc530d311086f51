import Reactor
import Replay
import WebSocket

/// Everything `tickwire serve` can be told. Defaults are the documented ones (`tickwire serve --help`).
public struct ServerConfig: Sendable, Equatable {
    /// Address to listen on (an IP literal). Loopback by default; use 0.0.0.0 to accept remote players.
    public var host = "127.0.0.1"
    /// TCP port.
    public var port: UInt16 = 8080
    /// Event loops (threads); one per core by default.
    public var loopCount = EventLoopGroup.coreCount
    /// Path of the echo endpoint for conformance tests; off unless set.
    public var echoPath: String?
    /// Benchmark endpoint: every client on `benchBroadcastPath` gets `benchBroadcastBytes` at this rate; off if nil.
    public var benchBroadcastHz: Int?
    /// Payload bytes of each benchmark broadcast.
    public var benchBroadcastBytes = 100
    /// Path of the benchmark broadcast endpoint.
    public var benchBroadcastPath = "/broadcast"
    /// Extra allowed browser origins (`*` for all).
    public var allowedOrigins: [String] = []
    /// Open connections at most, across loops; more are answered 503.
    public var connectionsMax = 50_000
    /// Largest request head.
    public var headBytesMax = HTTPHeadParser.headBytesLimitDefault
    /// Most header fields in a request.
    public var headerCountMax = HTTPHeadParser.headerCountLimitDefault
    /// WebSocket frame and message size limits (the echo and benchmark endpoints).
    public var webSocketLimits = WebSocketLimits()
    /// Game rooms' message limit: the game protocol's messages are a few hundred bytes at most, so a room
    /// connection holds at most this much of a message in progress (`--room-max-message-bytes`).
    public var roomMessageBytesMax = 4096
    /// The WebSocket limits of a room connection.
    public var roomWebSocketLimits: WebSocketLimits {
        WebSocketLimits(frameBytesMax: min(roomMessageBytesMax, webSocketLimits.frameBytesMax), messageBytesMax: roomMessageBytesMax)
    }
    /// What one client address may hold and do.
    public var addressLimits = AddressLimits()
    /// Transport limits and timeouts.
    public var connectionLimits = ConnectionLimits()
    /// Size of each loop's read buffer.
    public var readBufferBytes = EventLoop.readBufferBytesDefault
    /// Lines about misbehaving peers logged per second at most (the rest are counted).
    public var violationLogLinesPerSecondMax = 20
    /// Of those, lines about one address per second at most.
    public var violationLogLinesPerAddressPerSecondMax = 2
    /// How long one rendering of `GET /rooms` is served before it is rendered again.
    public var roomsListCacheNs: UInt64 = 1_000_000_000
    /// Time to let clients finish their close handshake on SIGTERM/SIGINT before exiting.
    public var shutdownGraceNs: UInt64 = 1_000_000_000
    /// How rooms tick and send snapshots.
    public var roomSettings = RoomSettings()
    /// What rooms allow their clients.
    public var roomLimits = RoomLimits()
    /// Record every room session into files in this directory (`--record DIR`); nil: no recording.
    public var recordDirectory: String?
    /// Retention and keyframes of recordings (the directory field is ignored: `recordDirectory` decides).
    public var recordingLimits = RecordingSettings(directory: "")
    /// What the recording writer uses, when recording is on.
    public var recording: RecordingSettings? {
        guard let recordDirectory else { return nil }
        var settings = recordingLimits
        settings.directory = recordDirectory
        return settings
    }
    /// Rooms open at once at most.
    public var roomsMax = 1000
    /// Serve the browser client from this directory instead of the built-in resources.
    public var staticDirectory: String?

    /// The defaults.
    public init() {}
}
