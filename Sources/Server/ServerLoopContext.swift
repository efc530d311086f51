import Reactor
import Replay
import Synchronization
import WebSocket
import Wire

/// Counters shared by all loops (atomics: read by metrics and the connection limit, bumped rarely).
final class ServerCounters: Sendable {
    /// Sockets open in any state (HTTP, WebSocket, closing), until each is closed.
    let openConnections = Atomic<Int>(0)
    let acceptedTotal = Atomic<Int>(0)
    let rejectedTotal = Atomic<Int>(0)
    /// WebSocket closes by code (a close is rare next to messages: a lock is fine).
    let closesByCode = Mutex<[UInt16: Int]>([:])
    /// Every defence that fired, by reason.
    let defences = DefenceCounters()

    func recordClose(_ code: UInt16) { closesByCode.withLock { $0[code, default: 0] += 1 } }
}

/// Ends a connection's accounting when its socket closes, on whichever loop that happens: the global open count,
/// its client address's count (`TCPConnection.accountingKey`), and the counters of timeouts and overflows.
final class ConnectionAccounting: SocketCloseObserver {
    let counters: ServerCounters
    let limiter: AddressLimiter

    init(counters: ServerCounters, limiter: AddressLimiter) {
        self.counters = counters
        self.limiter = limiter
    }

    func socketDidClose(_ connection: TCPConnection, reason: TCPCloseReason) {
        counters.openConnections.subtract(1, ordering: .relaxed)
        if let key = connection.accountingKey { limiter.releaseConnection(key) }
        if reason == .writeQueueOverflow { counters.defences.count(.writeQueueOverflow) }
        if reason == .timeout && connection.isClosing { counters.defences.count(.flushTimeout) }
    }
}

/// The server's state on one event loop: its listener, its WebSocket channels, its benchmark broadcaster.
/// Touched only on that loop.
final class ServerLoopContext {
    let loop: EventLoop
    let config: ServerConfig
    let logger: Logger
    let counters: ServerCounters
    /// The per-address limits, shared by every loop.
    let limiter: AddressLimiter
    /// Counts a connection out when its socket closes.
    let accounting: ConnectionAccounting
    /// Peers whose X-Forwarded-For is believed, as limit keys.
    let trustedProxies: Set<String>
    /// The latest rendering of `GET /rooms`, shared by every loop.
    let roomsListCache: RoomsListCache
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

    init(loop: EventLoop, config: ServerConfig, logger: Logger, counters: ServerCounters, limiter: AddressLimiter,
         roomsListCache: RoomsListCache,
         rooms: (hosting: RoomHosting, directory: RoomDirectory, loops: [EventLoop])?, directory: RoomDirectory,
         staticFiles: StaticFiles, recordingSink: RecordingSink? = nil) {
        self.limiter = limiter
        accounting = ConnectionAccounting(counters: counters, limiter: limiter)
        self.roomsListCache = roomsListCache
        trustedProxies = Set(config.addressLimits.trustedProxies.map { PeerAddress.limitKey(ofHost: $0) })
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

    /// A socket was accepted on this loop. It counts as open (globally and against its address) from now until its
    /// socket is closed, in whatever state and on whatever loop it ends.
    func accept(fd: Int32, peer: String) {
        let open = counters.openConnections.add(1, ordering: .relaxed).newValue
        counters.acceptedTotal.add(1, ordering: .relaxed)
        let key = PeerAddress.limitKey(ofPeer: peer)
        let handler = HTTPConnectionHandler(context: self)
        let connection: TCPConnection
        do {
            connection = try TCPConnection.adopt(fd: fd, peer: peer, on: loop, limits: config.connectionLimits, delegate: handler)
        } catch {
            logger.error("cannot register accepted connection from \(peer): \(error)")
            counters.openConnections.subtract(1, ordering: .relaxed)
            return
        }
        connection.closeObserver = accounting
        httpConnections[ObjectIdentifier(connection)] = connection
        if open > config.connectionsMax || isDraining {
            refuse(connection, handler, isDraining ? .shuttingDown : .serverFull, status: 503,
                   reason: isDraining ? "server is shutting down" : "server is full",
                   log: isDraining ? "shutting down" : "at --max-connections \(config.connectionsMax)")
            return
        }
        // A trusted proxy's connections are charged to the client it forwards, once its request head is read.
        guard !trustedProxies.contains(key) else { return }
        switch limiter.admitConnection(key, nowNs: loop.nowNs) {
        case .allowed:
            connection.accountingKey = key
        case .refused(let reason):
            refuse(connection, handler, reason, status: 503, reason: "too many connections from your address",
                   log: "at --max-connections-per-address \(config.addressLimits.connectionsMax)")
        }
    }

    /// Logs a peer a WebSocket channel failed or gave up on, and counts it by reason.
    lazy var channelViolationLogger: ChannelViolationLogger = { [logger, counters] peer, code, reason in
        counters.defences.count(ServerLoopContext.rejectionReason(closeCode: code, reason: reason))
        logger.peer(peer, "closing with \(code): \(reason)")
    }

    /// The counter a channel failure goes to.
    static func rejectionReason(closeCode code: UInt16, reason: String) -> RejectionReason {
        switch reason {
        case WebSocketChannelReason.idleTimeout: return .idleTimeout
        case WebSocketChannelReason.messageTimeout: return .messageTimeout
        case WebSocketChannelReason.closeTimeout: return .closeTimeout
        default: break
        }
        switch code {
        case WebSocketCloseCode.messageTooBig: return .messageTooLarge
        case WebSocketCloseCode.policyViolation: return .policyViolation
        default: return .protocolViolation
        }
    }

    /// What a new room on this server gets.
    func roomContext(id: String) -> RoomContext {
        let counters = self.counters
        return RoomContext(id: id, directory: directory, logger: logger, settings: config.roomSettings, limits: config.roomLimits,
                           connectionClosed: { code in counters.recordClose(code) }, defences: counters.defences,
                           violationLogger: channelViolationLogger, recordingSink: recordingSink,
                           keyframeEveryTicks: config.recording?.keyframeEveryTicks ?? 300)
    }

    /// Refuses a connection with an HTTP status, counts it by reason and logs it (rate-limited per address).
    func refuse(_ connection: TCPConnection, _ handler: HTTPConnectionHandler, _ reason: RejectionReason, status: Int, reason text: String, log: String) {
        counters.rejectedTotal.add(1, ordering: .relaxed)
        counters.defences.count(reason)
        logger.peer(connection.peer, "refused, \(log) (\(status))")
        handler.respond(connection, HTTPResponse.error(status, reason: text), linger: false)
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
    }

    /// A channel finished (its TCP may linger a moment longer, and counts as open until it is closed).
    func channelClosed(_ channel: WebSocketChannel, code: UInt16) {
        guard channels.removeValue(forKey: ObjectIdentifier(channel)) != nil else { return }
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
