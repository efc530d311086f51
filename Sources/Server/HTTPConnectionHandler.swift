import Reactor
import WebSocket

/// A connection before it becomes a WebSocket: collects the request head (bounded by `--max-header-bytes` and
/// `--handshake-timeout-ms`), then routes it: a page, a health check, an upgrade, or an error with a reason.
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
            context.logger.peer("\(connection.peer): bad HTTP request: \(error) (\(error.status))")
            respond(connection, .error(error.status, reason: "\(error)"))
            return
        }
        route(request, connection: connection, leftover: Array(head[headLength...]))
    }

    private func route(_ request: HTTPRequestHead, connection: TCPConnection, leftover: [UInt8]) {
        let config = context.config
        let path = String(request.path)
        if path == config.echoPath {
            upgrade(request, connection: connection, leftover: leftover, handler: context.echo)
        } else if path == config.benchBroadcastPath, let broadcaster = context.broadcaster {
            upgrade(request, connection: connection, leftover: leftover, handler: broadcaster)
        } else if path.hasPrefix("/rooms/"), let rooms = context.rooms {
            let id = path.dropFirst("/rooms/".count)
            guard isValidRoomID(id) else { return respond(connection, .error(404, reason: "room ids are 1-64 letters, digits, - or _")) }
            upgradeToRoom(String(id), request, connection: connection, leftover: leftover, rooms: rooms)
        } else if request.method != "GET" {
            respond(connection, HandshakeRejection.methodNotGet(request.method).response)
        } else if let file = context.staticFiles.responses[path] {
            respondRaw(connection, file)
        } else if path == "/" || path == "/index.html" {
            respondRaw(connection, context.placeholderResponse)
        } else if path == "/rooms", let rooms = context.rooms {
            respond(connection, HTTPResponse(status: 200, body: Array(RoomsJSON.render(rooms.directory.summaries()).utf8),
                                             contentType: "application/json"))
        } else if path == "/metrics" {
            let loops = context.rooms?.loops ?? [context.loop]
            respond(connection, HTTPResponse(status: 200, body: Array(MetricsText.render(counters: context.counters, directory: context.directory,
                                                                                         loops: loops).utf8),
                                             contentType: "text/plain; version=0.0.4; charset=utf-8"))
        } else if path == "/healthz" {
            respond(connection, HTTPResponse(status: 200, body: Array("ok\n".utf8)))
        } else {
            respond(connection, .error(404, reason: "no route for \(path)"))
        }
    }

    private func upgrade(_ request: HTTPRequestHead, connection: TCPConnection, leftover: [UInt8],
                         handler: WebSocketChannelHandler) {
        switch ServerHandshake.accept(request, policy: context.handshakePolicy) {
        case .failure(let rejection):
            context.logger.peer("\(connection.peer): handshake refused: \(rejection.reason) (\(rejection.status))")
            respond(connection, rejection.response)
        case .success(let acceptance):
            responded = true
            head = []
            _ = acceptance.response.withUnsafeBytes { connection.write($0) }
            let channel = WebSocketChannel(connection: connection, role: .server, subprotocol: acceptance.subprotocol,
                                           limits: context.config.webSocketLimits, handler: handler)
            let logger = context.logger
            channel.violationLogger = { peer, code, reason in logger.peer("\(peer): closing with \(code): \(reason)") }
            context.httpConnectionUpgraded(connection, to: channel)
            (handler as? ChannelOpenObserver)?.channelDidOpen(channel)
            if !leftover.isEmpty, connection.isOpen {
                var bytes = leftover
                bytes.withUnsafeMutableBytes { channel.connectionDidRead(connection, $0) }
            }
        }
    }

    /// Upgrades to a game room and hands the connection to the room's loop, where its messages, its room's tick
    /// and its snapshot writes all run on one thread.
    private func upgradeToRoom(_ id: String, _ request: HTTPRequestHead, connection: TCPConnection, leftover: [UInt8],
                               rooms: (hosting: RoomHosting, directory: RoomDirectory, loops: [EventLoop])) {
        let acceptance: HandshakeAcceptance
        switch ServerHandshake.accept(request, policy: context.roomPolicy) {
        case .failure(let rejection):
            context.logger.peer("\(connection.peer): handshake refused for room \(id): \(rejection.reason) (\(rejection.status))")
            return respond(connection, rejection.response)
        case .success(let accepted):
            acceptance = accepted
        }
        let directory = rooms.directory
        let config = context.config, logger = context.logger, counters = context.counters
        let roomContext = RoomContext(id: id, directory: directory, logger: logger, settings: config.roomSettings, limits: config.roomLimits,
                                      connectionClosed: { code in
                                          counters.openConnections.subtract(1, ordering: .relaxed)
                                          counters.recordClose(code)
                                      }, recordingSink: context.recordingSink,
                                      keyframeEveryTicks: config.recording?.keyframeEveryTicks ?? 300)
        guard let found = directory.findOrCreate(id, make: { rooms.hosting.makeRoom(roomContext) }) else {
            context.logger.peer("\(connection.peer): refused room \(id): at the room limit (503)")
            return respond(connection, .error(503, reason: "too many rooms"))
        }
        responded = true
        head = []
        _ = acceptance.response.withUnsafeBytes { connection.write($0) }
        let channel = WebSocketChannel(connection: connection, role: .server, subprotocol: acceptance.subprotocol,
                                       limits: context.config.webSocketLimits, handler: nil)
        context.httpConnectionHandedOff(connection)
        let spectator = request.queryValue("watch") == "1"
        let target = rooms.loops[found.loopIndex]
        let handoff = Unchecked((channel: channel, room: found.room, leftover: leftover))
        connection.move(to: target) { _ in
            let parts = handoff.value
            parts.room.value.attach(parts.channel, spectator: spectator, leftover: parts.leftover, on: target)
        }
    }

    /// Sends a complete response and closes after it.
    func respond(_ connection: TCPConnection, _ response: HTTPResponse) {
        respondRaw(connection, response.serialized())
    }

    private func respondRaw(_ connection: TCPConnection, _ bytes: [UInt8]) {
        responded = true
        head = []
        _ = bytes.withUnsafeBytes { connection.write($0) }
        connection.closeAfterFlush()
    }

    func connectionSweep(_ connection: TCPConnection, nowNs: UInt64) {
        guard !responded, nowNs - startedNs >= context.config.connectionLimits.handshakeTimeoutNs else { return }
        context.logger.peer("\(connection.peer): handshake timeout after \(context.config.connectionLimits.handshakeTimeoutNs / 1_000_000) ms")
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
