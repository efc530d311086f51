/// A small HTTP/1.1 response the server writes in full: handshake rejections, pages, JSON.
public struct HTTPResponse: Sendable, Equatable {
    /// The status code.
    public var status: Int
    /// Extra header fields (Content-Length, Content-Type and Connection are added by `serialized`).
    public var headers: [(String, String)]
    /// The body bytes.
    public var body: [UInt8]
    /// Content-Type of the body.
    public var contentType: String

    /// A response with a body (plain text by default).
    public init(status: Int, body: [UInt8], contentType: String = "text/plain; charset=utf-8", headers: [(String, String)] = []) {
        self.status = status
        self.body = body
        self.contentType = contentType
        self.headers = headers
    }

    /// A plain-text error response whose body says why, e.g. `403 Forbidden: origin not allowed`.
    public static func error(_ status: Int, reason: String, headers: [(String, String)] = []) -> HTTPResponse {
        HTTPResponse(status: status, body: Array("\(status) \(reasonPhrase(status)): \(reason)\n".utf8), headers: headers)
    }

    /// The bytes on the wire. `keepAlive: false` adds `Connection: close`.
    public func serialized(keepAlive: Bool = false, includeBody: Bool = true) -> [UInt8] {
        var head = "HTTP/1.1 \(status) \(HTTPResponse.reasonPhrase(status))\r\n"
        head += "Content-Type: \(contentType)\r\nContent-Length: \(body.count)\r\n"
        head += keepAlive ? "" : "Connection: close\r\n"
        for (name, value) in headers { head += "\(name): \(value)\r\n" }
        head += "\r\n"
        return Array(head.utf8) + (includeBody ? body : [])
    }

    public static func == (lhs: HTTPResponse, rhs: HTTPResponse) -> Bool {
        lhs.status == rhs.status && lhs.body == rhs.body && lhs.contentType == rhs.contentType
            && lhs.headers.map { "\($0.0):\($0.1)" } == rhs.headers.map { "\($0.0):\($0.1)" }
    }

    /// The standard reason phrase of the statuses this server sends.
    public static func reasonPhrase(_ status: Int) -> String {
        switch status {
        case 101: return "Switching Protocols"
        case 200: return "OK"
        case 400: return "Bad Request"
        case 403: return "Forbidden"
        case 404: return "Not Found"
        case 405: return "Method Not Allowed"
        case 426: return "Upgrade Required"
        case 429: return "Too Many Requests"
        case 431: return "Request Header Fields Too Large"
        case 503: return "Service Unavailable"
        default: return "Status"
        }
    }
}
