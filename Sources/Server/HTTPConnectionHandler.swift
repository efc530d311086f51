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
        } else if request.method != "GET" {
            respond(connection, HandshakeRejection.methodNotGet(request.method).response)
        } else if path == "/" || path == "/index.html" {
            respondRaw(connection, context.placeholderResponse)
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

/// A handler that wants to know when a channel starts (to subscribe it, for example).
protocol ChannelOpenObserver {
    func channelDidOpen(_ channel: WebSocketChannel)
}
