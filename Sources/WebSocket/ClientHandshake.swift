/// Why a server's handshake response was refused by our client.
public enum ClientHandshakeError: Error, Equatable, Sendable {
    case malformedResponse(HTTPParseError)
    case unexpectedStatus(Int, String)
    case missingUpgrade
    case wrongAcceptValue
    case unrequestedSubprotocol(String)
}

/// The client side of the opening handshake (RFC 6455 §4.1): a request with a fresh key, and response checks.
public struct ClientHandshake: Sendable {
    /// The base64 key sent; the response must answer it.
    public let key: String
    /// The request bytes to send.
    public let request: [UInt8]
    /// Subprotocols offered.
    public let subprotocols: [String]

    /// A request for `path` on `host` (`host:port`), offering `subprotocols`, with a random 16-byte key.
    public init(host: String, path: String, subprotocols: [String] = [], origin: String? = nil, extraHeaders: [(String, String)] = []) {
        var generator = SystemRandomNumberGenerator()
        var keyBytes: [UInt8] = []
        for _ in 0..<16 { keyBytes.append(UInt8.random(in: 0...255, using: &generator)) }
        key = Base64.encode(keyBytes)
        self.subprotocols = subprotocols
        var text = "GET \(path) HTTP/1.1\r\nHost: \(host)\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        text += "Sec-WebSocket-Key: \(key)\r\nSec-WebSocket-Version: 13\r\n"
        if !subprotocols.isEmpty { text += "Sec-WebSocket-Protocol: \(subprotocols.joined(separator: ", "))\r\n" }
        if let origin { text += "Origin: \(origin)\r\n" }
        for (name, value) in extraHeaders { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        request = Array(text.utf8)
    }

    /// Checks a response head; returns the subprotocol the server chose.
    public func validate(_ head: UnsafeRawBufferPointer) -> Result<String?, ClientHandshakeError> {
        let response: HTTPResponseHead
        do { response = try HTTPHeadParser.parseResponse(head) } catch { return .failure(.malformedResponse(error)) }
        guard response.status == 101 else { return .failure(.unexpectedStatus(response.status, response.reason)) }
        guard response.headers.containsToken("Upgrade", "websocket"), response.headers.containsToken("Connection", "upgrade")
        else { return .failure(.missingUpgrade) }
        guard response.headers["Sec-WebSocket-Accept"] == ServerHandshake.acceptValue(forKey: key) else {
            return .failure(.wrongAcceptValue)
        }
        let chosen = response.headers["Sec-WebSocket-Protocol"]
        if let chosen, !subprotocols.contains(chosen) { return .failure(.unrequestedSubprotocol(chosen)) }
        return .success(chosen)
    }
}
