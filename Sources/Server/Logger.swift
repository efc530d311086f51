import Glibc
import Synchronization

/// Writes one line per event to standard error: `2026-11-22T01:23:45.678Z info message`. Lines about
/// misbehaving peers are rate-limited twice: in all, so hostile clients cannot flood the log, and per address,
/// so one attacker cannot use up the whole budget and hide another. The overflow is counted.
public final class Logger: Sendable {
    private struct RateState {
        var windowStartNs: UInt64 = 0
        var linesInWindow = 0
        var suppressed = 0
        var linesByAddress: [String: Int] = [:]
    }

    private let peerLinesPerSecondMax: Int
    private let peerLinesPerAddressPerSecondMax: Int
    /// Addresses remembered within one second; past it, lines from new addresses are suppressed until the next
    /// second (the table cannot grow with the number of attackers).
    static let addressesPerWindowMax = 4096
    private let rate = Mutex(RateState())
    private let sink: @Sendable (String) -> Void

    /// Writes each line to standard error with one write(2), so lines from different loops never interleave.
    public static let standardError: @Sendable (String) -> Void = { line in
        let bytes = Array(line.utf8)
        _ = bytes.withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
    }

    /// A logger allowing `peerLinesPerSecondMax` peer lines a second in all and `peerLinesPerAddressPerSecondMax`
    /// from one address, writing lines (with newline) to `sink`.
    public init(peerLinesPerSecondMax: Int = 20, peerLinesPerAddressPerSecondMax: Int = 2,
                sink: @escaping @Sendable (String) -> Void = Logger.standardError) {
        self.peerLinesPerSecondMax = peerLinesPerSecondMax
        self.peerLinesPerAddressPerSecondMax = peerLinesPerAddressPerSecondMax
        self.sink = sink
    }

    /// An ordinary line.
    public func info(_ message: String) { emit("info", message) }

    /// A problem with the server itself.
    public func error(_ message: String) { emit("error", message) }

    /// A peer broke a rule or a limit: `peer` is its `host:port`, kept as is in the line; the rate limits are kept
    /// by its address (`PeerAddress.limitKey`).
    public func peer(_ peer: String, _ message: String) {
        let address = PeerAddress.limitKey(ofPeer: peer)
        let now = monotonicNow()
        let (allowed, suppressed) = rate.withLock { state -> (Bool, Int) in
            var reported = 0
            if now - state.windowStartNs >= 1_000_000_000 {
                reported = state.suppressed
                state = RateState(windowStartNs: now)
            }
            let fromAddress = state.linesByAddress[address]
            guard state.linesInWindow < peerLinesPerSecondMax, (fromAddress ?? 0) < peerLinesPerAddressPerSecondMax,
                  fromAddress != nil || state.linesByAddress.count < Self.addressesPerWindowMax
            else {
                state.suppressed += 1
                return (false, reported)
            }
            state.linesInWindow += 1
            state.linesByAddress[address, default: 0] += 1
            return (true, reported)
        }
        if suppressed > 0 { emit("warn", "\(suppressed) more peer lines suppressed in the last second") }
        if allowed { emit("warn", "\(peer): \(message)") }
    }

    private func monotonicNow() -> UInt64 {
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC, &time)
        return UInt64(time.tv_sec) * 1_000_000_000 + UInt64(time.tv_nsec)
    }

    private func emit(_ level: String, _ message: String) {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = now.tv_sec
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        let stamp = "\(parts.tm_year + 1900)-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(now.tv_nsec / 1_000_000), 3))Z"
        sink("\(stamp) \(level) \(message)\n")
    }
}
