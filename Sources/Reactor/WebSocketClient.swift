import WebSocket

/// Why a client connection did not become a WebSocket channel.
public enum WebSocketConnectError: Error, Equatable, Sendable {
    /// TCP connect failed or timed out.
    case connectFailed(TCPCloseReason)
    /// The server's response broke the handshake rules (or refused us, with its status).
    case handshakeRejected(ClientHandshakeError)
    /// The connection closed before the handshake finished.
    case closedDuringHandshake(TCPCloseReason)
    /// The response head passed `HTTPHeadParser.headBytesLimitDefault`.
    case responseTooLarge
}

/// Opens client WebSocket connections on an event loop (for bots and tests): non-blocking TCP connect,
/// the opening handshake with a random key, then a client-role `WebSocketChannel`.
public enum WebSocketClient {
    /// Connects to `ws://host:port/path` (host is an IP literal). `completion` runs once on `loop`.
    public static func connect(host: String, port: UInt16, path: String, subprotocols: [String] = [],
                               on loop: EventLoop, limits: ConnectionLimits = ConnectionLimits(),
                               webSocketLimits: WebSocketLimits = WebSocketLimits(),
                               handler: WebSocketChannelHandler,
                               completion: @escaping (Result<WebSocketChannel, WebSocketConnectError>) -> Void) {
        let handshake = ClientHandshake(host: "\(host):\(port)", path: path, subprotocols: subprotocols)
        let pending = PendingClientHandshake(handshake: handshake, webSocketLimits: webSocketLimits, handler: handler,
                                             completion: completion)
        do {
            _ = try TCPConnection.connect(host: host, port: port, on: loop, limits: limits, delegate: pending)
        } catch {
            completion(.failure(.connectFailed(.error(error))))
        }
    }
}

/// The connection's delegate between TCP connect and the 101 response.
final class PendingClientHandshake: TCPConnectionDelegate {
    private let handshake: ClientHandshake
    private let webSocketLimits: WebSocketLimits
    private let handler: WebSocketChannelHandler
    private var completion: ((Result<WebSocketChannel, WebSocketConnectError>) -> Void)?
    private var responseBytes: [UInt8] = []
    private var startedNs: UInt64 = 0
    private var connected = false

    init(handshake: ClientHandshake, webSocketLimits: WebSocketLimits, handler: WebSocketChannelHandler,
         completion: @escaping (Result<WebSocketChannel, WebSocketConnectError>) -> Void) {
        self.handshake = handshake
        self.webSocketLimits = webSocketLimits
        self.handler = handler
        self.completion = completion
    }

    private func finish(_ result: Result<WebSocketChannel, WebSocketConnectError>) {
        let completion = self.completion
        self.completion = nil
        completion?(result)
    }

    func connectionDidConnect(_ connection: TCPConnection) {
        connected = true
        startedNs = connection.loop.nowNs
        _ = handshake.request.withUnsafeBytes { connection.write($0) }
    }

    func connectionDidRead(_ connection: TCPConnection, _ bytes: UnsafeMutableRawBufferPointer) {
        responseBytes.append(contentsOf: bytes)
        let headLength: Int?
        do {
            headLength = try HTTPHeadParser.headLength(in: responseBytes, limitBytes: HTTPHeadParser.headBytesLimitDefault)
        } catch {
            finish(.failure(.responseTooLarge))
            connection.close(reason: .local)
            return
        }
        guard let headLength else { return }
        let verdict = responseBytes.withUnsafeBytes { handshake.validate(UnsafeRawBufferPointer(rebasing: $0[0..<headLength])) }
        switch verdict {
        case .failure(let error):
            finish(.failure(.handshakeRejected(error)))
            connection.close(reason: .local)
        case .success(let subprotocol):
            let channel = WebSocketChannel(connection: connection, role: .client, subprotocol: subprotocol,
                                           limits: webSocketLimits, handler: handler)
            var leftover = Array(responseBytes[headLength...])
            responseBytes = []
            finish(.success(channel))
            if !leftover.isEmpty, connection.isOpen {
                leftover.withUnsafeMutableBytes { channel.connectionDidRead(connection, $0) }
            }
        }
    }

    func connectionSweep(_ connection: TCPConnection, nowNs: UInt64) {
        if connected && nowNs - startedNs >= connection.limits.handshakeTimeoutNs {
            connection.close(reason: .timeout)
        }
    }

    func connectionDidClose(_ connection: TCPConnection, reason: TCPCloseReason) {
        finish(.failure(connected ? .closedDuringHandshake(reason) : .connectFailed(reason)))
    }
}
