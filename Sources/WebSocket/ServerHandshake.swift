/// The magic GUID of RFC 6455 §1.3, appended to the client's key.
let webSocketGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

/// What the server accepts during the opening handshake.
public struct HandshakePolicy: Sendable, Equatable {
    /// Subprotocols this endpoint speaks, in order of preference.
    public var subprotocols: [String]
    /// When true, a client that offers none of `subprotocols` is refused with 400 (a game endpoint whose
    /// wire version must match); when false it is accepted without a subprotocol (the echo endpoint).
    public var requiresSubprotocol: Bool
    /// Which browser origins may connect.
    public var originPolicy: OriginPolicy

    /// A policy; the defaults accept any client without a subprotocol, same-origin only.
    public init(subprotocols: [String] = [], requiresSubprotocol: Bool = false, originPolicy: OriginPolicy = .sameOrigin) {
        self.subprotocols = subprotocols
        self.requiresSubprotocol = requiresSubprotocol
        self.originPolicy = originPolicy
    }
}

/// Why an upgrade request was refused; `response` is what the client gets.
public enum HandshakeRejection: Error, Equatable, Sendable {
    case methodNotGet(String)
    case notHTTP11
    case missingHost
    case notAnUpgrade
    case missingConnectionUpgrade
    case badKey
    case unsupportedVersion(String?)
    case originNotAllowed(String)
    case noCommonSubprotocol(offered: [String])

    /// The HTTP status for this rejection.
    public var status: Int {
        switch self {
        case .methodNotGet: return 405
        case .notAnUpgrade, .unsupportedVersion: return 426
        case .originNotAllowed: return 403
        default: return 400
        }
    }

    /// A short reason for the log and the response body.
    public var reason: String {
        switch self {
        case .methodNotGet(let method): return "method \(method) is not GET"
        case .notHTTP11: return "WebSocket needs HTTP/1.1"
        case .missingHost: return "missing Host header"
        case .notAnUpgrade: return "this endpoint speaks WebSocket; Upgrade: websocket is required"
        case .missingConnectionUpgrade: return "Connection header lacks the upgrade token"
        case .badKey: return "Sec-WebSocket-Key must be base64 of 16 bytes"
        case .unsupportedVersion(let version): return "unsupported Sec-WebSocket-Version \(version ?? "(none)"); this server speaks 13"
        case .originNotAllowed(let origin): return "origin \(origin) is not allowed"
        case .noCommonSubprotocol(let offered):
            return "no common subprotocol (offered: \(offered.isEmpty ? "none" : offered.joined(separator: ", ")))"
        }
    }

    /// The response to send.
    public var response: HTTPResponse {
        switch self {
        case .unsupportedVersion: return .error(status, reason: reason, headers: [("Sec-WebSocket-Version", "13")])
        case .notAnUpgrade: return .error(status, reason: reason, headers: [("Upgrade", "websocket")])
        case .methodNotGet: return .error(status, reason: reason, headers: [("Allow", "GET")])
        default: return .error(status, reason: reason)
        }
    }
}

/// A validated upgrade: the 101 response bytes and the negotiated subprotocol.
public struct HandshakeAcceptance: Sendable, Equatable {
    /// The subprotocol chosen, if any.
    public var subprotocol: String?
    /// The complete `101 Switching Protocols` response.
    public var response: [UInt8]
}

/// The server side of the opening handshake (RFC 6455 §4.2).
public enum ServerHandshake {
    /// The `Sec-WebSocket-Accept` value for a client key.
    public static func acceptValue(forKey key: String) -> String {
        Base64.encode(SHA1.hash(Array((key + webSocketGUID).utf8)))
    }

    /// Validates an upgrade request against `policy`.
    public static func accept(_ request: HTTPRequestHead, policy: HandshakePolicy) -> Result<HandshakeAcceptance, HandshakeRejection> {
        guard request.method == "GET" else { return .failure(.methodNotGet(request.method)) }
        guard request.versionMinor >= 1 else { return .failure(.notHTTP11) }
        guard let host = request.headers["Host"], !host.isEmpty else { return .failure(.missingHost) }
        guard request.headers.containsToken("Upgrade", "websocket") else { return .failure(.notAnUpgrade) }
        guard request.headers.containsToken("Connection", "upgrade") else { return .failure(.missingConnectionUpgrade) }
        let headers = request.headers
        guard headers.count("Sec-WebSocket-Version") == 1, let version = headers["Sec-WebSocket-Version"], version == "13" else {
            let versions = headers.values("Sec-WebSocket-Version")
            return .failure(.unsupportedVersion(versions.isEmpty ? nil : versions.joined(separator: ",")))
        }
        guard headers.count("Sec-WebSocket-Key") == 1, let key = headers["Sec-WebSocket-Key"], key.utf8.count == 24,
              Base64.decode(key)?.count == 16 else { return .failure(.badKey) }
        let origin = request.headers["Origin"]
        guard policy.originPolicy.allows(origin: origin, host: host) else { return .failure(.originNotAllowed(origin ?? "")) }

        let offered = headers.tokens("Sec-WebSocket-Protocol")
        // The client's preference order wins among protocols we speak (RFC 6455 §4.2.2 leaves the choice to us).
        let chosen = offered.first { policy.subprotocols.contains($0) }
        if chosen == nil && policy.requiresSubprotocol { return .failure(.noCommonSubprotocol(offered: offered)) }

        var response = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        response += "Sec-WebSocket-Accept: \(acceptValue(forKey: key))\r\n"
        if let chosen { response += "Sec-WebSocket-Protocol: \(chosen)\r\n" }
        response += "\r\n"
        return .success(HandshakeAcceptance(subprotocol: chosen, response: Array(response.utf8)))
    }
}
