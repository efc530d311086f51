/// One second of a swarm run: what the charts of the HTML report and the JSON timeline show.
public struct SwarmTimelinePoint: Sendable, Equatable {
    /// Seconds since the start, at the end of this second.
    public var seconds: Double
    public var connected: Int
    public var inRoom: Int
    public var snapshotsPerSecond: Double
    public var bytesReceivedPerSecond: Double
    public var bytesSentPerSecond: Double
    public var rttMsP50: Double, rttMsP99: Double
    public var inputToAckMsP50: Double, inputToAckMsP99: Double
    public var snapshotJitterMsP50: Double, snapshotJitterMsP99: Double
    public var tickLatenessMsP50: Double, tickLatenessMsP99: Double
    /// Decode errors so far.
    public var decodeErrors: Int
    /// The load generator's CPU in this second, in percent of one core.
    public var botsCPUPercent: Double

    /// The second between two progress snapshots (percentiles of what was recorded in that second only).
    public init(from previous: SwarmSnapshot?, to now: SwarmSnapshot) {
        let seconds = Double(now.elapsedNs - (previous?.elapsedNs ?? 0)) / 1e9
        func perSecond(_ value: Int, _ earlier: Int?) -> Double { Double(value - (earlier ?? 0)) / max(seconds, 0.001) }
        func window(_ histogram: LatencyHistogram, _ earlier: LatencyHistogram?) -> (Double, Double) {
            let recent = earlier.map { histogram.since($0) } ?? histogram
            return (Double(recent.value(atQuantile: 0.5)) / 1000, Double(recent.value(atQuantile: 0.99)) / 1000)
        }
        self.seconds = Double(now.elapsedNs) / 1e9
        connected = now.connected
        inRoom = now.stats.inRoom
        snapshotsPerSecond = perSecond(now.snapshots, previous?.snapshots)
        bytesReceivedPerSecond = perSecond(now.bytesReceived, previous?.bytesReceived)
        bytesSentPerSecond = perSecond(now.bytesSent, previous?.bytesSent)
        (rttMsP50, rttMsP99) = window(now.rttUs, previous?.rttUs)
        (inputToAckMsP50, inputToAckMsP99) = window(now.inputToAckUs, previous?.inputToAckUs)
        (snapshotJitterMsP50, snapshotJitterMsP99) = window(now.snapshotJitterUs, previous?.snapshotJitterUs)
        (tickLatenessMsP50, tickLatenessMsP99) = window(now.tickLatenessUs, previous?.tickLatenessUs)
        decodeErrors = now.decodeErrors
        let cpuNs = now.usage.cpuNs &- (previous?.usage.cpuNs ?? now.runStartCPUNs)
        botsCPUPercent = (Double(cpuNs) / 1e9 / max(seconds, 0.001) * 1000).rounded() / 10
    }
}
