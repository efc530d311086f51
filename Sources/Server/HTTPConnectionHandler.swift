import Reactor
import WebSocket

/// A connection before it becomes a WebSocket: collects the request head (bounded by `--max-header-bytes` and
/// `--handshake-timeout-ms`), charges it to its client address, then routes it: a page, a health check, an upgrade,
/// or an error with a reason.
final class HTTPConnectionHandler: TCPConnectionDelegate {
    private unowned let context: ServerLoopContext
    private var head: [UInt8] = []
    private var responded = false
    private let startedNs: UInt64

    init(context: ServerLoopContext) {
        self.context = context
        startedNs = context.loop.nowNs
    }

    func connectionDidRead(_ connection: TCPConnection, _ bytes: UnsafeMutableRawBufferPointer) {
        guard !responded else { return }
        head.append(contentsOf: bytes)
        let request: HTTPRequestHead
        let headLength: Int
        do throws(HTTPParseError) {
            guard let length = try HTTPHeadParser.headLength(in: head, limitBytes: context.config.headBytesMax) else { return }
            headLength = length
            request = try HTTPHeadParser.parseRequest(head, length: length, headerCountLimit: context.config.headerCountMax)
        } catch {
            context.counters.defences.count(.badRequest)
            context.logger.peer(connection.peer, "bad HTTP request: \(error) (\(error.status))")
            respond(connection, .error(error.status, reason: "\(error)"))
            return
        }
        guard let client = admit(request, connection: connection) else { return }
        route(request, client: client, connection: connection, leftover: Array(head[headLength...]))
    }

    /// Charges the request to its client address (a trusted proxy's forwarded client, or the peer); nil when it was
    /// refused and answered.
    private func admit(_ request: HTTPRequestHead, connection: TCPConnection) -> String? {
        var client = PeerAddress.limitKey(ofPeer: connection.peer)
        let limiter = context.limiter
        if context.trustedProxies.contains(client) {
            if let forwarded = request.headers["x-forwarded-for"].flatMap({ PeerAddress.forwardedClient(Substring($0), trustedProxies: context.trustedProxies) }) {
                client = PeerAddress.limitKey(ofHost: forwarded)
            }
            if connection.accountingKey == nil {
                if case .refused(let reason) = limiter.admitConnection(client, nowNs: context.loop.nowNs) {
                    refuse(connection, reason, status: 503, text: "too many connections from your address")
                    return nil
                }
                connection.accountingKey = client
            }
        }
        if case .refused(let reason) = limiter.admitRequest(client, nowNs: context.loop.nowNs) {
            refuse(connection, reason, status: 429, text: "too many requests from your address")
            return nil
        }
        return client
    }

    private func refuse(_ connection: TCPConnection, _ reason: RejectionReason, status: Int, text: String) {
        context.counters.rejectedTotal.add(1, ordering: .relaxed)
        context.counters.defences.count(reason)
        context.logger.peer(connection.peer, "refused: \(text) (\(reason.rawValue), \(status))")
        respond(connection, .error(status, reason: text), linger: false)
    }

    private func route(_ request: HTTPRequestHead, client: String, connection: TCPConnection, leftover: [UInt8]) {
        let config = context.config
        let path = String(request.path)
        if path == config.echoPath {
            upgrade(request, connection: connection, leftover: leftover, handler: context.echo)
        } else if path == config.benchBroadcastPath, let broadcaster = context.broadcaster {
            upgrade(request, connection: connection, leftover: leftover, handler: broadcaster)
        } else if path.hasPrefix("/rooms/"), let rooms = context.rooms {
            let id = path.dropFirst("/rooms/".count)
            guard isValidRoomID(id) else { return respond(connection, .error(404, reason: "room ids are 1-64 letters, digits, - or _")) }
            upgradeToRoom(String(id), request, client: client, connection: connection, leftover: leftover, rooms: rooms)
        } else if request.method != "GET" {
            respond(connection, HandshakeRejection.methodNotGet(request.method).response)
        } else if let file = context.staticFiles.responses[path] {
            respondRaw(connection, file)
        } else if path == "/" || path == "/index.html" {
            respondRaw(connection, context.placeholderResponse)
        } else if path == "/rooms", let rooms = context.rooms {
            respondRaw(connection, context.roomsListCache.response(directory: rooms.directory, nowNs: context.loop.nowNs))
        } else if path == "/metrics" {
            let loops = context.rooms?.loops ?? [context.loop]
            respond(connection, HTTPResponse(status: 200, body: Array(MetricsText.render(counters: context.counters, directory: context.directory,
                                                                                         limiter: context.limiter, loops: loops).utf8),
                                             contentType: "text/plain; version=0.0.4; charset=utf-8"))
        } else if path == "/healthz" {
            respond(connection, HTTPResponse(status: 200, body: Array("ok\n".utf8)))
        } else {
            respond(connection, .error(404, reason: "no route for \(path)"))
        }
    }

    /// Writes the `101` of an accepted upgrade; false when the connection failed on it (and is closed).
    private func writeSwitchingProtocols(_ acceptance: HandshakeAcceptance, _ connection: TCPConnection) -> Bool {
        responded = true
        head = []
        let written = acceptance.response.withUnsafeBytes { connection.write($0) }
        return written && connection.isOpen
    }

    private func upgrade(_ request: HTTPRequestHead, connection: TCPConnection, leftover: [UInt8],
                         handler: WebSocketChannelHandler) {
        switch ServerHandshake.accept(request, policy: context.handshakePolicy) {
        case .failure(let rejection):
            context.counters.defences.count(.handshakeRefused)
            context.logger.peer(connection.peer, "handshake refused: \(rejection.reason) (\(rejection.status))")
            respond(connection, rejection.response)
        case .success(let acceptance):
            guard writeSwitchingProtocols(acceptance, connection) else { return }
            let channel = WebSocketChannel(connection: connection, role: .server, subprotocol: acceptance.subprotocol,
                                           limits: context.config.webSocketLimits, handler: handler)
            channel.violationLogger = context.channelViolationLogger
            context.httpConnectionUpgraded(connection, to: channel)
            (handler as? ChannelOpenObserver)?.channelDidOpen(channel)
            if !leftover.isEmpty, connection.isOpen {
                var bytes = leftover
                bytes.withUnsafeMutableBytes { channel.connectionDidRead(connection, $0) }
            }
        }
    }

    /// Upgrades to a game room and hands the connection to the room's loop, where its messages, its room's tick
    /// and its snapshot writes all run on one thread. A new room is charged to the client's room-creation budget;
    /// it starts on its loop at once, so one whose creator never arrives closes as unused.
    private func upgradeToRoom(_ id: String, _ request: HTTPRequestHead, client: String, connection: TCPConnection, leftover: [UInt8],
                               rooms: (hosting: RoomHosting, directory: RoomDirectory, loops: [EventLoop])) {
        let acceptance: HandshakeAcceptance
        switch ServerHandshake.accept(request, policy: context.roomPolicy) {
        case .failure(let rejection):
            context.counters.defences.count(.handshakeRefused)
            context.logger.peer(connection.peer, "handshake refused for room \(id): \(rejection.reason) (\(rejection.status))")
            return respond(connection, rejection.response)
        case .success(let accepted):
            acceptance = accepted
        }
        let directory = rooms.directory
        let limiter = context.limiter, nowNs = context.loop.nowNs
        let lookup = directory.findOrCreate(id, mayCreate: { () -> RejectionReason? in
            if case .refused(let reason) = limiter.admitRoomCreation(client, nowNs: nowNs) { return reason }
            return nil
        }, make: { rooms.hosting.makeRoom(context.roomContext(id: id)) })
        let found: (loopIndex: Int, room: UncheckedRoom, created: Bool)
        switch lookup {
        case .refused(let reason):
            let status = reason == .roomsMax ? 503 : 429
            return refuse(connection, reason, status: status, text: reason == .roomsMax ? "too many rooms" : "too many rooms created from your address")
        case .found(let loopIndex, let room, let created):
            found = (loopIndex, room, created)
        }
        let target = rooms.loops[found.loopIndex]
        if found.created {
            let room = found.room
            target.execute { room.value.open(on: target) }
        }
        guard writeSwitchingProtocols(acceptance, connection) else { return }
        let channel = WebSocketChannel(connection: connection, role: .server, subprotocol: acceptance.subprotocol,
                                       limits: context.config.roomWebSocketLimits, handler: nil)
        channel.violationLogger = context.channelViolationLogger
        let spectator = request.queryValue("watch") == "1"
        let handoff = Unchecked((channel: channel, room: found.room, leftover: leftover))
        // A connection that closed on the way does not move, and never reaches the room.
        if connection.move(to: target, completion: { _ in
            let parts = handoff.value
            parts.room.value.attach(parts.channel, spectator: spectator, leftover: parts.leftover, on: target)
        }) {
            context.httpConnectionHandedOff(connection)
        }
    }

    /// Sends a complete response and closes after it (at once when `linger` is false: a refusal).
    func respond(_ connection: TCPConnection, _ response: HTTPResponse, linger: Bool = true) {
        respondRaw(connection, response.serialized(), linger: linger)
    }

    /// Writes `bytes` and closes once they are sent, or after `--response-timeout-ms` if the peer does not take them.
    private func respondRaw(_ connection: TCPConnection, _ bytes: [UInt8], linger: Bool = true) {
        responded = true
        head = []
        _ = bytes.withUnsafeBytes { connection.write($0) }
        connection.closeAfterFlush(flushTimeoutNs: context.config.connectionLimits.responseTimeoutNs, linger: linger)
    }

    func connectionSweep(_ connection: TCPConnection, nowNs: UInt64) {
        guard !responded, nowNs - startedNs >= context.config.connectionLimits.handshakeTimeoutNs else { return }
        context.counters.defences.count(.handshakeTimeout)
        context.logger.peer(connection.peer, "handshake timeout after \(context.config.connectionLimits.handshakeTimeoutNs / 1_000_000) ms")
        responded = true
        connection.close(reason: .timeout)
    }

    func connectionDidClose(_ connection: TCPConnection, reason: TCPCloseReason) {
        context.connectionClosed(connection)
    }
}

/// Carries loop-confined values into a task for another loop, which becomes their only user.
struct Unchecked<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// A handler that wants to know when a channel starts (to subscribe it, for example).
protocol ChannelOpenObserver {
    func channelDidOpen(_ channel: WebSocketChannel)
}
