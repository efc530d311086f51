import Wire
/// What the bots of one event loop measured. Loop-confined; the swarm copies it once a second.
struct BotStats: Sendable {
    var connected = 0
    var connectFailures = 0
    /// Bots that joined at least once.
    var joined = 0
    /// Bots in their room now, the sum of when they joined, and the time in room of stays that ended
    /// (so Σ time in room = completed + inRoom × now − since).
    var inRoom = 0
    var inRoomSinceNsSum: UInt64 = 0
    var completedInRoomNs: UInt64 = 0
    /// The snapshot rate the server announced.
    var snapshotRateHz = 0
    var snapshots = 0
    /// Snapshots that were deltas against an acknowledged baseline (the rest were whole): acknowledgements work.
    var deltaSnapshots = 0
    var decodeErrors = 0
    /// Pongs whose echoed time was in our future: a broken or hostile server (not counted as an RTT).
    var implausiblePongs = 0
    var kicks = 0
    var chatsSent = 0
    /// Inputs sent (one per tick in the room, whatever the batching) and the writes that carried every message.
    var inputsSent = 0
    var writes = 0
    /// Spectators' input batches written just before reading a snapshot (the rest went out on their timer).
    var batchesBeforeReads = 0
    var bytesReceived = 0
    var bytesSent = 0
    /// Churn: connections dropped on purpose, leaves, resumes that got the same avatar back, resumes that did not,
    /// and joins again as a new player.
    var churnDrops = 0
    var churnLeaves = 0
    var resumes = 0
    var resumeFailures = 0
    var rejoins = 0
    var closesByCode: [UInt16: Int] = [:]
    var connectUs = LatencyHistogram()
    var rttUs = LatencyHistogram()
    var inputToAckUs = LatencyHistogram()
    /// How far each snapshot's arrival strayed from the snapshot period.
    var snapshotJitterUs = LatencyHistogram()
    /// How much later than its earliest a snapshot arrived relative to its tick's slot (server tick lateness as seen
    /// by players, plus the network's own variation).
    var tickLatenessUs = LatencyHistogram()

    mutating func merge(_ other: BotStats) {
        connected += other.connected
        connectFailures += other.connectFailures
        joined += other.joined
        inRoom += other.inRoom
        inRoomSinceNsSum &+= other.inRoomSinceNsSum
        completedInRoomNs &+= other.completedInRoomNs
        snapshotRateHz = max(snapshotRateHz, other.snapshotRateHz)
        snapshots += other.snapshots
        decodeErrors += other.decodeErrors
        implausiblePongs += other.implausiblePongs
        kicks += other.kicks
        chatsSent += other.chatsSent
        deltaSnapshots += other.deltaSnapshots
        batchesBeforeReads += other.batchesBeforeReads
        inputsSent += other.inputsSent
        writes += other.writes
        bytesReceived += other.bytesReceived
        bytesSent += other.bytesSent
        churnDrops += other.churnDrops
        churnLeaves += other.churnLeaves
        resumes += other.resumes
        resumeFailures += other.resumeFailures
        rejoins += other.rejoins
        for (code, count) in other.closesByCode { closesByCode[code, default: 0] += count }
        connectUs.merge(other.connectUs)
        rttUs.merge(other.rttUs)
        inputToAckUs.merge(other.inputToAckUs)
        snapshotJitterUs.merge(other.snapshotJitterUs)
        tickLatenessUs.merge(other.tickLatenessUs)
    }
}

/// One loop's statistics, shared by its bots (reference type: every bot on the loop adds to the same counters).
final class BotLoopStats {
    var stats = BotStats()
    /// A copy of the message being decoded, shared by the loop's bots (one at a time): `BitReader` reads an array.
    var receiveScratch: [UInt8] = []
    /// The messages of the write a bot is making, shared by the loop's bots: a bot fills it and writes it in one call.
    var outgoing = ClientMessageBatch()
}
