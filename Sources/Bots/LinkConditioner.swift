import Engine

/// Network conditions a bot adds to its own link, each way: a fixed latency plus a uniformly random jitter.
public struct LinkConditions: Sendable, Equatable {
    /// Added to every message in each direction.
    public var latencyNs: UInt64 = 0
    /// Up to this much more, uniformly at random, per message.
    public var jitterNs: UInt64 = 0

    public init(latencyNs: UInt64 = 0, jitterNs: UInt64 = 0) {
        self.latencyNs = latencyNs
        self.jitterNs = jitterNs
    }

    /// True when the link adds nothing (messages go straight through).
    public var isTransparent: Bool { latencyNs == 0 && jitterNs == 0 }
}

/// One direction of a conditioned link: when each message may go. A TCP stream never reorders, so a message
/// is never due before the one ahead of it (jitter delays, it does not shuffle).
struct LinkDirection {
    let conditions: LinkConditions
    private var random: DeterministicRandom
    private var lastDueNs: UInt64 = 0

    init(conditions: LinkConditions, seed: UInt64) {
        self.conditions = conditions
        random = DeterministicRandom(seed: seed)
    }

    /// When a message handed over at `nowNs` is delivered.
    mutating func dueNs(nowNs: UInt64) -> UInt64 {
        var delayNs = conditions.latencyNs
        if conditions.jitterNs > 0 { delayNs += random.next() % (conditions.jitterNs + 1) }
        lastDueNs = max(lastDueNs, nowNs + delayNs)
        return lastDueNs
    }
}
