/// The part of a peer's `host:port` text that limits are kept by: the IPv4 address, or the /64 prefix of an
/// IPv6 address (one subscriber usually holds a whole /64, so counting single IPv6 addresses would let one
/// client look like billions).
enum PeerAddress {
    /// `1.2.3.4:5678` → `1.2.3.4`; `[2001:db8:1:2:3::4]:5678` → `2001:db8:1:2::/64`; anything else unchanged.
    static func limitKey(ofPeer peer: String) -> String {
        limitKey(ofHost: host(ofPeer: peer))
    }

    /// The host of `host:port` (brackets of IPv6 removed).
    static func host(ofPeer peer: String) -> String {
        if peer.hasPrefix("["), let end = peer.firstIndex(of: "]") {
            return String(peer[peer.index(after: peer.startIndex)..<end])
        }
        if let colon = peer.lastIndex(of: ":"), peer.firstIndex(of: ":") == colon { return String(peer[..<colon]) }
        return peer
    }

    /// An address (no port) as a limit key.
    static func limitKey(ofHost host: String) -> String {
        guard host.contains(":") else { return host }
        if host.hasPrefix("::ffff:"), host.contains(".") { return String(host.dropFirst("::ffff:".count)) }
        guard let groups = expandedIPv6Groups(host) else { return host }
        return groups[0..<4].map { String($0, radix: 16) }.joined(separator: ":") + "::/64"
    }

    /// The eight 16-bit groups of an IPv6 literal, or nil when it is not one.
    static func expandedIPv6Groups(_ text: String) -> [UInt16]? {
        let halves = text.components(separatedBy: "::")
        guard halves.count <= 2 else { return nil }
        func groups(_ part: String) -> [UInt16]? {
            if part.isEmpty { return [] }
            var result: [UInt16] = []
            for group in part.split(separator: ":", omittingEmptySubsequences: false) {
                guard (1...4).contains(group.count), let value = UInt16(group, radix: 16) else { return nil }
                result.append(value)
            }
            return result
        }
        guard let head = groups(halves[0]) else { return nil }
        if halves.count == 1 { return head.count == 8 ? head : nil }
        guard let tail = groups(halves[1]), head.count + tail.count < 8 else { return nil }
        return head + Array(repeating: 0, count: 8 - head.count - tail.count) + tail
    }

    /// The client address a trusted proxy forwarded: the right-most `X-Forwarded-For` entry that is not itself a
    /// trusted proxy (entries to its left were written by the client and prove nothing). Nil when there is none
    /// or it is not an IP literal.
    static func forwardedClient(_ header: Substring, trustedProxies: Set<String>) -> String? {
        for entry in header.split(separator: ",").reversed() {
            let host = entry.trimmingCharacters(in: " \t")
            guard isIPLiteral(host) else { return nil }
            if !trustedProxies.contains(host) { return host }
        }
        return nil
    }

    /// True for a dotted IPv4 address or an IPv6 literal.
    static func isIPLiteral(_ text: String) -> Bool {
        if text.contains(":") { return expandedIPv6Groups(text) != nil || (text.hasPrefix("::ffff:") && isIPLiteral(String(text.dropFirst(7)))) }
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts.allSatisfy { part in (1...3).contains(part.count) && part.allSatisfy(\.isASCII) && UInt8(part) != nil }
    }
}

extension StringProtocol {
    func trimmingCharacters(in characters: String) -> String {
        var slice = Substring(self)
        while let first = slice.first, characters.contains(first) { slice = slice.dropFirst() }
        while let last = slice.last, characters.contains(last) { slice = slice.dropLast() }
        return String(slice)
    }
}
