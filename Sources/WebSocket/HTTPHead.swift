/// Header fields of an HTTP/1.1 head, in arrival order. Names compare case-insensitively. Lookups scan the
/// fields' bytes in place and allocate nothing (a handshake does a dozen of them).
public struct HTTPHeaders: Sendable, Equatable {
    /// The fields as received: name as sent, value with surrounding whitespace removed.
    public private(set) var fields: [(name: String, value: String)] = []

    /// Empty headers.
    public init() {}

    /// Appends a field.
    public mutating func add(name: String, value: String) { fields.append((name, value)) }

    /// The first value of `name`, if present.
    public subscript(name: String) -> String? {
        fields.first { equalsIgnoringASCIICase($0.name, name) }?.value
    }

    /// Every value of `name`, in order.
    public func values(_ name: String) -> [String] {
        fields.filter { equalsIgnoringASCIICase($0.name, name) }.map(\.value)
    }

    /// How many fields are called `name`.
    public func count(_ name: String) -> Int {
        fields.reduce(0) { $0 + (equalsIgnoringASCIICase($1.name, name) ? 1 : 0) }
    }

    /// The comma-separated tokens of every `name` field, trimmed (e.g. `Connection: keep-alive, Upgrade`).
    public func tokens(_ name: String) -> [String] {
        var result: [String] = []
        for field in fields where equalsIgnoringASCIICase(field.name, name) {
            forEachToken(in: field.value) { result.append(String(decoding: $0, as: UTF8.self)) }
        }
        return result
    }

    /// True when `name` lists `token` among its comma-separated tokens, case-insensitively.
    public func containsToken(_ name: String, _ token: String) -> Bool {
        for field in fields where equalsIgnoringASCIICase(field.name, name) {
            var found = false
            forEachToken(in: field.value) { candidate in
                if !found && equalsIgnoringASCIICase(candidate, token.utf8) { found = true }
            }
            if found { return true }
        }
        return false
    }

    /// Calls `body` with each comma-separated token of `value`, without surrounding spaces or tabs; skips empty ones.
    private func forEachToken(in value: String, _ body: (Substring.UTF8View) -> Void) {
        let text = Substring(value)
        var start = text.utf8.startIndex
        let end = text.utf8.endIndex
        while start <= end {
            let comma = text.utf8[start...].firstIndex(of: UInt8(ascii: ",")) ?? end
            var first = start, last = comma
            while first < last, text.utf8[first] == 0x20 || text.utf8[first] == 0x09 { first = text.utf8.index(after: first) }
            while last > first {
                let previous = text.utf8.index(before: last)
                guard text.utf8[previous] == 0x20 || text.utf8[previous] == 0x09 else { break }
                last = previous
            }
            if first < last { body(text[first..<last].utf8) }
            guard comma < end else { break }
            start = text.utf8.index(after: comma)
        }
    }

    public static func == (lhs: HTTPHeaders, rhs: HTTPHeaders) -> Bool {
        lhs.fields.count == rhs.fields.count
            && zip(lhs.fields, rhs.fields).allSatisfy { $0.name == $1.name && $0.value == $1.value }
    }
}

/// ASCII case-insensitive equality of two byte sequences, without allocating.
@inline(__always)
func equalsIgnoringASCIICase<A: Collection, B: Collection>(_ a: A, _ b: B) -> Bool where A.Element == UInt8, B.Element == UInt8 {
    guard a.count == b.count else { return false }
    var right = b.makeIterator()
    for left in a {
        guard let other = right.next() else { return false }
        if left != other && asciiLowercased(left) != asciiLowercased(other) { return false }
    }
    return true
}

@inline(__always)
func equalsIgnoringASCIICase(_ a: String, _ b: String) -> Bool { equalsIgnoringASCIICase(a.utf8, b.utf8) }

@inline(__always)
func asciiLowercased(_ byte: UInt8) -> UInt8 { byte >= 65 && byte <= 90 ? byte + 32 : byte }

/// A parsed HTTP/1.1 request line and headers.
public struct HTTPRequestHead: Sendable, Equatable {
    /// The method, e.g. `GET`.
    public var method: String
    /// The request target as sent, e.g. `/rooms/a?x=1`.
    public var target: String
    /// The minor version of HTTP/1.x.
    public var versionMinor: Int
    /// The header fields.
    public var headers: HTTPHeaders

    /// The target without its query string.
    public var path: Substring { target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)[0] }

    /// The value of query parameter `name` (`?a=1&b=2`), undecoded; nil if absent, "" if it has no `=`.
    public func queryValue(_ name: String) -> Substring? {
        let parts = target.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false)
        guard parts.count == 2 else { return nil }
        for item in parts[1].split(separator: "&") {
            let pair = item.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            if pair[0] == name { return pair.count == 2 ? pair[1] : "" }
        }
        return nil
    }
}

/// A parsed HTTP/1.1 status line and headers (the client side of the handshake).
public struct HTTPResponseHead: Sendable, Equatable {
    /// The status code, e.g. 101.
    public var status: Int
    /// The reason phrase as sent.
    public var reason: String
    /// The header fields.
    public var headers: HTTPHeaders
}

/// Why an HTTP head could not be parsed. Each case maps to one response status.
public enum HTTPParseError: Error, Equatable, Sendable {
    /// The head did not end within the configured limit (431).
    case headTooLarge(limitBytes: Int)
    /// More header fields than the configured limit (431).
    case tooManyHeaders(limit: Int)
    /// The request or status line is not `METHOD SP TARGET SP HTTP/1.x` (400).
    case malformedStartLine
    /// Not HTTP/1.x (505 would be exact; we answer 400).
    case unsupportedVersion
    /// A header line without a colon, with a bad name, a control character, or an obsolete line fold (400).
    case malformedHeader
    /// A line ended with a bare LF or CR (400).
    case badLineEnding

    /// The status a server answers with.
    public var status: Int {
        switch self {
        case .headTooLarge, .tooManyHeaders: return 431
        default: return 400
        }
    }
}

/// Finds and parses HTTP/1.1 heads. Total: any bytes give a head, `nil` (need more) or a typed error.
public enum HTTPHeadParser {
    /// Default cap on the bytes of a head, CRLFCRLF included.
    public static let headBytesLimitDefault = 8192
    /// Default cap on the number of header fields.
    public static let headerCountLimitDefault = 64

    /// The length of the head (through the blank line) if `bytes` holds a whole head; `nil` if more is needed.
    /// Throws `.headTooLarge` as soon as `limitBytes` bytes arrive without a blank line.
    public static func headLength(in bytes: UnsafeRawBufferPointer, limitBytes: Int) throws(HTTPParseError) -> Int? {
        let searchable = min(bytes.count, limitBytes)
        var index = 3
        while index < searchable {
            if bytes[index] == 0x0A && bytes[index - 1] == 0x0D && bytes[index - 2] == 0x0A && bytes[index - 3] == 0x0D {
                return index + 1
            }
            index += 1
        }
        if bytes.count >= limitBytes { throw .headTooLarge(limitBytes: limitBytes) }
        return nil
    }

    /// `headLength` over an array.
    public static func headLength(in bytes: [UInt8], limitBytes: Int) throws(HTTPParseError) -> Int? {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(HTTPParseError) in try headLength(in: buffer, limitBytes: limitBytes) }
        }.get()
    }

    /// `parseRequest` over the first `length` bytes of an array.
    public static func parseRequest(_ bytes: [UInt8], length: Int, headerCountLimit: Int = headerCountLimitDefault)
        throws(HTTPParseError) -> HTTPRequestHead
    {
        try bytes.withUnsafeBytes { buffer in
            Result { () throws(HTTPParseError) in
                try parseRequest(UnsafeRawBufferPointer(rebasing: buffer[0..<length]), headerCountLimit: headerCountLimit)
            }
        }.get()
    }

    /// Parses a request head (the bytes `headLength` measured).
    public static func parseRequest(_ head: UnsafeRawBufferPointer, headerCountLimit: Int = headerCountLimitDefault)
        throws(HTTPParseError) -> HTTPRequestHead
    {
        let lines = try splitLines(head)
        let parts = lines[0].split(separator: 0x20, omittingEmptySubsequences: false)
        guard parts.count == 3, !parts[0].isEmpty, !parts[1].isEmpty,
              parts[0].allSatisfy(isTokenByte), parts[1].allSatisfy({ $0 > 0x20 && $0 < 0x7F })
        else { throw .malformedStartLine }
        let minor = try httpMinorVersion(parts[2])
        return HTTPRequestHead(
            method: String(decoding: parts[0], as: UTF8.self), target: String(decoding: parts[1], as: UTF8.self),
            versionMinor: minor, headers: try parseHeaders(lines.dropFirst(), limit: headerCountLimit))
    }

    /// Parses a response head (the bytes `headLength` measured).
    public static func parseResponse(_ head: UnsafeRawBufferPointer, headerCountLimit: Int = headerCountLimitDefault)
        throws(HTTPParseError) -> HTTPResponseHead
    {
        let lines = try splitLines(head)
        let parts = lines[0].split(separator: 0x20, maxSplits: 2, omittingEmptySubsequences: false)
        guard parts.count >= 2, parts[1].count == 3, parts[1].allSatisfy({ $0 >= 0x30 && $0 <= 0x39 })
        else { throw .malformedStartLine }
        _ = try httpMinorVersion(parts[0])
        let status = parts[1].reduce(0) { $0 * 10 + Int($1 - 0x30) }
        let reason = parts.count == 3 ? String(decoding: parts[2], as: UTF8.self) : ""
        return HTTPResponseHead(status: status, reason: reason,
                                headers: try parseHeaders(lines.dropFirst(), limit: headerCountLimit))
    }

    private static func splitLines(_ head: UnsafeRawBufferPointer) throws(HTTPParseError) -> [ArraySlice<UInt8>] {
        let bytes = Array(head)
        var lines: [ArraySlice<UInt8>] = []
        var start = 0
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x0D {
                guard index + 1 < bytes.count, bytes[index + 1] == 0x0A else { throw .badLineEnding }
                lines.append(bytes[start..<index])
                index += 2
                start = index
                continue
            }
            if byte == 0x0A { throw .badLineEnding }
            index += 1
        }
        guard start == bytes.count else { throw .badLineEnding }  // head must end with CRLF
        // The head ends with an empty line; drop it.
        while let last = lines.last, last.isEmpty { lines.removeLast() }
        guard !lines.isEmpty else { throw .malformedStartLine }
        return lines
    }

    private static func httpMinorVersion(_ field: ArraySlice<UInt8>) throws(HTTPParseError) -> Int {
        let prefix = "HTTP/1.".utf8
        let isHTTP = field.starts(with: "HTTP/".utf8)
        guard field.count == prefix.count + 1, field.starts(with: prefix) else { throw isHTTP ? .unsupportedVersion : .malformedStartLine }
        let digit = field[field.endIndex - 1]
        guard digit >= 0x30 && digit <= 0x39 else { throw .malformedStartLine }
        return Int(digit - 0x30)
    }

    private static func parseHeaders(_ lines: ArraySlice<ArraySlice<UInt8>>, limit: Int) throws(HTTPParseError) -> HTTPHeaders {
        guard lines.count <= limit else { throw .tooManyHeaders(limit: limit) }
        var headers = HTTPHeaders()
        for line in lines {
            guard let colon = line.firstIndex(of: 0x3A), colon > line.startIndex,
                  line[line.startIndex..<colon].allSatisfy(isTokenByte)
            else { throw .malformedHeader }
            let value = line[(colon + 1)...]
            // Field values: visible characters, spaces, tabs and obs-text; never other controls.
            guard value.allSatisfy({ $0 == 0x09 || ($0 >= 0x20 && $0 != 0x7F) }) else { throw .malformedHeader }
            var first = value.startIndex, last = value.endIndex
            while first < last, value[first] == 0x20 || value[first] == 0x09 { first += 1 }
            while last > first, value[last - 1] == 0x20 || value[last - 1] == 0x09 { last -= 1 }
            headers.add(name: String(decoding: line[line.startIndex..<colon], as: UTF8.self),
                        value: String(decoding: value[first..<last], as: UTF8.self))
        }
        return headers
    }

    /// RFC 9110 `tchar`.
    @inline(__always)
    static func isTokenByte(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "0")...UInt8(ascii: "9"),
             UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"), UInt8(ascii: "'"),
             UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "^"), UInt8(ascii: "_"),
             UInt8(ascii: "`"), UInt8(ascii: "|"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}

extension String {
    /// ASCII-only lowercasing, as HTTP field names and tokens need (no locale, no Foundation).
    func lowercasedASCII() -> String {
        String(decoding: utf8.map { $0 >= 65 && $0 <= 90 ? $0 + 32 : $0 }, as: UTF8.self)
    }

    /// Drops leading and trailing spaces and tabs.
    func trimmingHTTPWhitespace() -> String {
        let bytes = Array(utf8)
        guard let first = bytes.firstIndex(where: { $0 != 0x20 && $0 != 0x09 }),
              let last = bytes.lastIndex(where: { $0 != 0x20 && $0 != 0x09 }) else { return "" }
        return String(decoding: bytes[first...last], as: UTF8.self)
    }
}
