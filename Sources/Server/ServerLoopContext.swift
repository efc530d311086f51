import Reactor
import Replay
import Synchronization
import WebSocket
import Wire

/// Counters shared by all loops (atomics: read by metrics and the connection limit, bumped rarely).
final class ServerCounters: Sendable {
    let openConnections = Atomic<Int>(0)
    let acceptedTotal = Atomic<Int>(0)
    let rejectedTotal = Atomic<Int>(0)
    /// WebSocket closes by code (a close is rare next to messages: a lock is fine).
    let closesByCode = Mutex<[UInt16: Int]>([:])

    func recordClose(_ code: UInt16) { closesByCode.withLock { $0[code, default: 0] += 1 } }
}

/// The server's state on one event loop: its listener, its WebSocket channels, its benchmark broadcaster.
/// Touched only on that loop.
final class ServerLoopContext {
    let loop: EventLoop
    let config: ServerConfig
    let logger: Logger
    let counters: ServerCounters
    let handshakePolicy: HandshakePolicy
    let placeholderResponse: [UInt8]
    /// The browser client's files, shared by every loop.
    let staticFiles: StaticFiles
    var listener: TCPListener?
    var isDraining = false
    private(set) var channels: [ObjectIdentifier: WebSocketChannel] = [:]
    private(set) var httpConnections: [ObjectIdentifier: TCPConnection] = [:]
    lazy var echo = EchoHandler(context: self)
    var broadcaster: BenchmarkBroadcaster?
    /// Game rooms, when the server hosts a game.
    let rooms: (hosting: RoomHosting, directory: RoomDirectory, loops: [EventLoop])?
    /// The room directory (empty when the server hosts no game), for /rooms and /metrics.
    let directory: RoomDirectory
    /// Room upgrades must speak this wire version.
    let roomPolicy: HandshakePolicy
    /// Where rooms record their sessions, when the server records.
    let recordingSink: RecordingSink?

    init(loop: EventLoop, config: ServerConfig, logger: Logger, counters: ServerCounters,
         rooms: (hosting: RoomHosting, directory: RoomDirectory, loops: [EventLoop])?, directory: RoomDirectory,
         staticFiles: StaticFiles, recordingSink: RecordingSink? = nil) {
        self.recordingSink = recordingSink
        self.directory = directory
        self.staticFiles = staticFiles
        self.loop = loop
        self.config = config
        self.logger = logger
        self.counters = counters
        self.rooms = rooms
        handshakePolicy = HandshakePolicy(subprotocols: [], requiresSubprotocol: false,
                                          originPolicy: OriginPolicy(allowing: config.allowedOrigins))
        roomPolicy = HandshakePolicy(subprotocols: [wireSubprotocol], requiresSubprotocol: true,
                                     originPolicy: OriginPolicy(allowing: config.allowedOrigins))
        placeholderResponse = HTTPResponse(status: 200, body: Array(PlaceholderPage.html(echoPath: config.echoPath).utf8),
                                           contentType: "text/html; charset=utf-8").serialized()
    }

    /// A socket was accepted on this loop.
    func accept(fd: Int32, peer: String) {
        let open = counters.openConnections.add(1, ordering: .relaxed).newValue
        counters.acceptedTotal.add(1, ordering: .relaxed)
        let handler = HTTPConnectionHandler(context: self)
        do {
            let connection = try TCPConnection.adopt(fd: fd, peer: peer, on: loop, limits: config.connectionLimits, delegate: handler)
            httpConnections[ObjectIdentifier(connection)] = connection
            if open > config.connectionsMax || isDraining {
                counters.rejectedTotal.add(1, ordering: .relaxed)
                logger.peer("\(peer): refused, \(isDraining ? "shutting down" : "at --max-connections \(config.connectionsMax)") (503)")
                handler.respond(connection, HTTPResponse.error(503, reason: isDraining ? "server is shutting down" : "server is full"))
            }
        } catch {
            logger.error("cannot register accepted connection from \(peer): \(error)")
            counters.openConnections.subtract(1, ordering: .relaxed)
        }
    }

    /// A connection left this loop for its room's loop; the room now owns it (and reports its close).
    func httpConnectionHandedOff(_ connection: TCPConnection) {
        httpConnections[ObjectIdentifier(connection)] = nil
    }

    func httpConnectionUpgraded(_ connection: TCPConnection, to channel: WebSocketChannel) {
        httpConnections[ObjectIdentifier(connection)] = nil
        channels[ObjectIdentifier(channel)] = channel
    }

    func connectionClosed(_ connection: TCPConnection) {
        httpConnections[ObjectIdentifier(connection)] = nil
        counters.openConnections.subtract(1, ordering: .relaxed)
    }

    /// A channel finished (its TCP may linger a moment longer); it no longer counts as open.
    func channelClosed(_ channel: WebSocketChannel, code: UInt16) {
        guard channels.removeValue(forKey: ObjectIdentifier(channel)) != nil else { return }
        counters.openConnections.subtract(1, ordering: .relaxed)
        counters.recordClose(code)
    }

    /// Stops accepting and asks every client to leave (1001); connections end within the close timeout.
    func beginDrain() {
        isDraining = true
        listener?.close()
        listener = nil
        broadcaster?.stop()
        for channel in Array(channels.values) { channel.close(code: WebSocketCloseCode.goingAway, reason: "server shutting down") }
        for connection in Array(httpConnections.values) { connection.close(reason: .shutdown) }
    }
}
