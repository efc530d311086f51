/// Which browser origins may open a WebSocket. Browsers send `Origin` on cross-site sockets; non-browser
/// clients usually send none, and cannot be stopped by an Origin check anyway.
public struct OriginPolicy: Sendable, Equatable {
    /// Allow every origin (`--allow-origin '*'`).
    public var allowsAll: Bool
    /// Origins allowed besides the server's own, normalised (`scheme://host[:port]`, lowercase).
    public var allowedOrigins: Set<String>

    /// The default: same-origin requests and clients that send no Origin.
    public static let sameOrigin = OriginPolicy(allowsAll: false, allowedOrigins: [])

    /// A policy from `--allow-origin` values: `*` allows all; others are added to the same-origin default.
    public init(allowing origins: [String]) {
        allowsAll = origins.contains("*")
        allowedOrigins = Set(origins.filter { $0 != "*" }.map(OriginPolicy.normalise))
    }

    init(allowsAll: Bool, allowedOrigins: Set<String>) {
        self.allowsAll = allowsAll
        self.allowedOrigins = allowedOrigins
    }

    /// True if a request with this `Origin` (nil when absent) and `Host` may upgrade.
    public func allows(origin: String?, host: String?) -> Bool {
        guard let origin else { return true }
        if allowsAll { return true }
        let normalised = OriginPolicy.normalise(origin)
        if allowedOrigins.contains(normalised) { return true }
        // Same origin: the Origin's authority is the Host the browser connected to.
        guard let host, let authority = OriginPolicy.authority(of: normalised) else { return false }
        return authority == OriginPolicy.stripDefaultPort(host.lowercasedASCII(), scheme: OriginPolicy.scheme(of: normalised))
    }

    static func normalise(_ origin: String) -> String {
        var text = origin.trimmingHTTPWhitespace().lowercasedASCII()
        while text.hasSuffix("/") { text.removeLast() }
        guard let scheme = scheme(of: text), let authority = authority(of: text) else { return text }
        return "\(scheme)://\(stripDefaultPort(authority, scheme: scheme))"
    }

    static func scheme(of origin: String) -> String? {
        guard let range = origin.firstRange(of: "://") else { return nil }
        return String(origin[..<range.lowerBound])
    }

    static func authority(of origin: String) -> String? {
        guard let range = origin.firstRange(of: "://") else { return nil }
        let rest = origin[range.upperBound...]
        let authority = rest.split(separator: "/", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        return authority.isEmpty ? nil : authority
    }

    static func stripDefaultPort(_ authority: String, scheme: String?) -> String {
        if (scheme == "http" || scheme == "ws"), authority.hasSuffix(":80") { return String(authority.dropLast(3)) }
        if (scheme == "https" || scheme == "wss"), authority.hasSuffix(":443") { return String(authority.dropLast(4)) }
        return authority
    }
}
