/// What the bots of one event loop measured. Loop-confined; the swarm copies it once a second.
struct BotStats: Sendable {
    var connected = 0
    var connectFailures = 0
    var joined = 0
    /// Sum of the monotonic times at which bots joined (so Σ time-in-room = joined × now − this).
    var joinedAtNsSum: UInt64 = 0
    /// The snapshot rate the server announced.
    var snapshotRateHz = 0
    var snapshots = 0
    var decodeErrors = 0
    var kicks = 0
    var chatsSent = 0
    var bytesReceived = 0
    var bytesSent = 0
    var closesByCode: [UInt16: Int] = [:]
    var connectUs = LatencyHistogram()
    var rttUs = LatencyHistogram()
    var inputToAckUs = LatencyHistogram()
    /// How far each snapshot's arrival strayed from the snapshot period.
    var snapshotJitterUs = LatencyHistogram()

    mutating func merge(_ other: BotStats) {
        connected += other.connected
        connectFailures += other.connectFailures
        joined += other.joined
        joinedAtNsSum &+= other.joinedAtNsSum
        snapshotRateHz = max(snapshotRateHz, other.snapshotRateHz)
        snapshots += other.snapshots
        decodeErrors += other.decodeErrors
        kicks += other.kicks
        chatsSent += other.chatsSent
        bytesReceived += other.bytesReceived
        bytesSent += other.bytesSent
        for (code, count) in other.closesByCode { closesByCode[code, default: 0] += count }
        connectUs.merge(other.connectUs)
        rttUs.merge(other.rttUs)
        inputToAckUs.merge(other.inputToAckUs)
        snapshotJitterUs.merge(other.snapshotJitterUs)
    }
}

/// One loop's statistics, shared by its bots (reference type: every bot on the loop adds to the same counters).
final class BotLoopStats {
    var stats = BotStats()
}
