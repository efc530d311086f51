import Synchronization

/// Why a client was refused or removed: the label of `tickwire_rejections_total{reason=…}` and the words of its
/// log line. One case per defence (docs/operations.md lists each with its limit and what the client gets).
public enum RejectionReason: String, Sendable, CaseIterable {
    case serverFull = "server_full"
    case shuttingDown = "shutting_down"
    case addressConnections = "address_connections"
    case addressRequestRate = "address_request_rate"
    case addressRoomCreateRate = "address_room_create_rate"
    case addressTableFull = "address_table_full"
    case roomsMax = "rooms_max"
    case roomFull = "room_full"
    case badRequest = "bad_request"
    case handshakeRefused = "handshake_refused"
    case handshakeTimeout = "handshake_timeout"
    case flushTimeout = "flush_timeout"
    case closeTimeout = "close_timeout"
    case messageTimeout = "message_timeout"
    case idleTimeout = "idle_timeout"
    case protocolViolation = "protocol_violation"
    case policyViolation = "policy_violation"
    case messageTooLarge = "message_too_large"
    case badGameMessage = "bad_game_message"
    case tooSlow = "too_slow"
    case writeQueueOverflow = "write_queue_overflow"
    case acceptFailed = "accept_failed"
    case unusedRoomClosed = "unused_room_closed"
}

/// Messages a client sent that the server dropped instead of acting on: `tickwire_messages_dropped_total{kind=…}`.
public enum DroppedMessageKind: String, Sendable, CaseIterable {
    case chatOverRate = "chat_over_rate"
    case chatRoomOverRate = "chat_room_over_rate"
    case spectatorChat = "spectator_chat"
    case pingOverRate = "ping_over_rate"
    case replayCommandOverRate = "replay_command_over_rate"
    case pongCoalesced = "pong_coalesced"
}

/// Counts of every defence that fired, shared by all loops. A bump is rare next to messages (a refusal, a kick,
/// a dropped chat line): one short lock.
public final class DefenceCounters: Sendable {
    private let counts = Mutex((rejections: [Int](repeating: 0, count: RejectionReason.allCases.count),
                                dropped: [Int](repeating: 0, count: DroppedMessageKind.allCases.count)))

    public init() {}

    /// One more refusal or removal for `reason`.
    public func count(_ reason: RejectionReason, _ amount: Int = 1) {
        let index = RejectionReason.allCases.firstIndex(of: reason)!
        counts.withLock { $0.rejections[index] += amount }
    }

    /// `amount` more dropped messages of `kind`.
    public func count(_ kind: DroppedMessageKind, _ amount: Int = 1) {
        guard amount > 0 else { return }
        let index = DroppedMessageKind.allCases.firstIndex(of: kind)!
        counts.withLock { $0.dropped[index] += amount }
    }

    /// The count for `reason`.
    public func total(_ reason: RejectionReason) -> Int {
        let index = RejectionReason.allCases.firstIndex(of: reason)!
        return counts.withLock { $0.rejections[index] }
    }

    /// The count for `kind`.
    public func total(_ kind: DroppedMessageKind) -> Int {
        let index = DroppedMessageKind.allCases.firstIndex(of: kind)!
        return counts.withLock { $0.dropped[index] }
    }
}

/// The per-address budgets of `AddressLimits`, shared by every loop: open connections, a token bucket of
/// requests and one of room creations per address. One short lock per accept, request or room creation, never
/// per message. Entries live while an address has connections or an unrefilled budget, so the table is bounded by
/// open connections plus the addresses of the last minute, and by `addressesTrackedMax` in any case.
public final class AddressLimiter: Sendable {
    /// A decision.
    public enum Verdict: Equatable, Sendable {
        case allowed
        case refused(RejectionReason)
    }

    private struct Entry {
        var connections = 0
        var requestTokens: Double
        var roomTokens: Double
        var refilledNs: UInt64
    }

    private struct Table {
        var entries: [String: Entry] = [:]
        var lastPruneNs: UInt64 = 0
    }

    /// The limits in force.
    public let limits: AddressLimits
    private let exempt: Set<String>
    private let table = Mutex(Table())

    /// A limiter for `limits`.
    public init(limits: AddressLimits) {
        self.limits = limits
        exempt = Set(limits.exemptAddresses.map { PeerAddress.limitKey(ofHost: $0) })
    }

    /// Addresses tracked now (for metrics and tests).
    public var trackedAddressCount: Int { table.withLock { $0.entries.count } }

    /// True when `key` is exempt from every per-address limit.
    public func isExempt(_ key: String) -> Bool { exempt.contains(key) }

    /// A new connection from `key`: counts it (until `releaseConnection`) unless refused.
    public func admitConnection(_ key: String, nowNs: UInt64) -> Verdict {
        if exempt.contains(key) { return .allowed }
        return table.withLock { table in
            prune(&table, nowNs: nowNs)
            guard var entry = table.entries[key] ?? newEntry(&table, nowNs: nowNs) else { return .refused(.addressTableFull) }
            guard entry.connections < limits.connectionsMax else {
                table.entries[key] = entry
                return .refused(.addressConnections)
            }
            entry.connections += 1
            table.entries[key] = entry
            return .allowed
        }
    }

    /// A connection from `key` that `admitConnection` counted is closed.
    public func releaseConnection(_ key: String) {
        if exempt.contains(key) { return }
        table.withLock { table in
            guard var entry = table.entries[key] else { return }
            entry.connections = max(0, entry.connections - 1)
            table.entries[key] = entry
        }
    }

    /// One request (HTTP or WebSocket handshake) from `key`: takes a token of its request budget.
    public func admitRequest(_ key: String, nowNs: UInt64) -> Verdict {
        take(from: key, nowNs: nowNs, reason: .addressRequestRate) { $0.requestTokens >= 1 ? { $0.requestTokens -= 1 } : nil }
    }

    /// `key` is about to create a room: takes a token of its room budget.
    public func admitRoomCreation(_ key: String, nowNs: UInt64) -> Verdict {
        take(from: key, nowNs: nowNs, reason: .addressRoomCreateRate) { $0.roomTokens >= 1 ? { $0.roomTokens -= 1 } : nil }
    }

    private func take(from key: String, nowNs: UInt64, reason: RejectionReason,
                      _ spend: (Entry) -> ((inout Entry) -> Void)?) -> Verdict {
        if exempt.contains(key) { return .allowed }
        return table.withLock { table in
            guard var entry = table.entries[key] ?? newEntry(&table, nowNs: nowNs) else { return .refused(.addressTableFull) }
            refill(&entry, nowNs: nowNs)
            defer { table.entries[key] = entry }
            guard let change = spend(entry) else { return .refused(reason) }
            change(&entry)
            return .allowed
        }
    }

    private func newEntry(_ table: inout Table, nowNs: UInt64) -> Entry? {
        guard table.entries.count < limits.addressesTrackedMax else { return nil }
        return Entry(requestTokens: Double(limits.requestBurst), roomTokens: Double(limits.roomsCreatedBurst), refilledNs: nowNs)
    }

    private func refill(_ entry: inout Entry, nowNs: UInt64) {
        guard nowNs > entry.refilledNs else { return }
        let seconds = Double(nowNs - entry.refilledNs) / 1e9
        entry.requestTokens = min(Double(limits.requestBurst), entry.requestTokens + seconds * Double(limits.requestsPerSecond))
        entry.roomTokens = min(Double(limits.roomsCreatedBurst), entry.roomTokens + seconds * Double(limits.roomsCreatedPerMinute) / 60)
        entry.refilledNs = nowNs
    }

    /// Drops, at most once a second, entries with no connection whose budgets are full again: they are
    /// indistinguishable from addresses never seen.
    private func prune(_ table: inout Table, nowNs: UInt64) {
        guard nowNs >= table.lastPruneNs + 1_000_000_000 else { return }
        table.lastPruneNs = nowNs
        table.entries = table.entries.filter { _, entry in
            var entry = entry
            refill(&entry, nowNs: nowNs)
            return entry.connections > 0 || entry.requestTokens < Double(limits.requestBurst) || entry.roomTokens < Double(limits.roomsCreatedBurst)
        }
    }
}
