import Dispatch
import Glibc
import Reactor
import Synchronization

/// How a swarm runs. `tickwire bots --help` lists the flags.
public struct SwarmConfig: Sendable, Equatable {
    public var target: BotTarget
    public var bots = 10
    /// Rooms to spread the bots over: with K > 1, bot i joins `PATH-(i mod K)`.
    public var rooms = 1
    public var durationNs: UInt64 = 60_000_000_000
    public var rampUpNs: UInt64 = 0
    /// Event loops (threads) the bots share.
    public var threads = 1
    /// Behaviours, assigned to bots in turn.
    public var behaviours: [BotBehaviour] = [.wander]
    /// Seed of every bot's choices (bot i uses seed + i).
    public var seed: UInt64 = 1

    public init(target: BotTarget) { self.target = target }
}

/// Figures so far (once a second) or at the end.
public struct SwarmSnapshot: Sendable {
    public var elapsedNs: UInt64
    public var targetBots: Int
    var stats: BotStats
    /// Monotonic time of this snapshot (for time-in-room).
    var atNs: UInt64

    /// Snapshots the joined bots should have received by now, at the announced rate, each from when it joined.
    public var expectedSnapshots: Double {
        let inRoomNs = Double(UInt64(stats.joined) &* atNs &- stats.joinedAtNsSum)
        return inRoomNs / 1e9 * Double(stats.snapshotRateHz)
    }
    /// Snapshots received over snapshots expected.
    public var deliveryRatio: Double { expectedSnapshots > 0 ? Double(stats.snapshots) / expectedSnapshots : 0 }
    public var snapshotRateHz: Int { stats.snapshotRateHz }

    public var connected: Int { stats.connected }
    public var joined: Int { stats.joined }
    public var connectFailures: Int { stats.connectFailures }
    public var snapshots: Int { stats.snapshots }
    public var decodeErrors: Int { stats.decodeErrors }
    public var kicks: Int { stats.kicks }
    public var bytesReceived: Int { stats.bytesReceived }
    public var bytesSent: Int { stats.bytesSent }
    public var closesByCode: [UInt16: Int] { stats.closesByCode }
    public var rttUs: LatencyHistogram { stats.rttUs }
    public var inputToAckUs: LatencyHistogram { stats.inputToAckUs }
    public var snapshotJitterUs: LatencyHistogram { stats.snapshotJitterUs }
    public var connectUs: LatencyHistogram { stats.connectUs }
}

/// Runs bots against a server: spreads them over `threads` event loops, connects them over the ramp-up,
/// reports progress every second, and after the duration makes them leave and returns the totals.
public final class Swarm: @unchecked Sendable {
    public let config: SwarmConfig

    public init(config: SwarmConfig) { self.config = config }

    /// Runs to the end; `progress` is called on the calling thread once a second.
    public func run(progress: (SwarmSnapshot) -> Void = { _ in }) throws(SystemError) -> SwarmSnapshot {
        let group = try EventLoopGroup(count: config.threads)
        try group.start()
        defer { group.shutdown() }
        let loopStats = group.loops.map { _ in Unchecked(BotLoopStats()) }
        let bots = Mutex<[Int: [Unchecked<Bot>]]>([:])
        let startNs = monotonicNowNs()
        for (loopIndex, loop) in group.loops.enumerated() {
            let config = self.config
            let stats = loopStats[loopIndex]
            loop.execute {
                var mine: [Unchecked<Bot>] = []
                for index in stride(from: loopIndex, to: config.bots, by: config.threads) {
                    var target = config.target
                    if config.rooms > 1 { target.path += "-\(index % config.rooms)" }
                    let bot = Bot(index: index, target: target, behaviour: config.behaviours[index % config.behaviours.count],
                                  seed: config.seed &+ UInt64(index), loop: loop, stats: stats.value)
                    mine.append(Unchecked(bot))
                    let delayNs = config.bots > 1 ? config.rampUpNs * UInt64(index) / UInt64(config.bots - 1) : 0
                    loop.scheduleTimer(atNs: startNs + delayNs) { _ in bot.connect() }
                }
                bots.withLock { $0[loopIndex] = mine }
            }
        }
        var nextReportNs = startNs + 1_000_000_000
        while monotonicNowNs() < startNs + config.durationNs {
            let now = monotonicNowNs()
            if now >= nextReportNs {
                progress(collect(group: group, loopStats: loopStats, elapsedNs: now - startNs))
                nextReportNs += 1_000_000_000
            }
            let wakeNs = min(nextReportNs, startNs + config.durationNs), nowNs = monotonicNowNs()
            usleep(UInt32(min((wakeNs > nowNs ? wakeNs - nowNs : 0) / 1000, 200_000)))
        }
        let final = collect(group: group, loopStats: loopStats, elapsedNs: monotonicNowNs() - startNs)
        for (loopIndex, loop) in group.loops.enumerated() {
            let mine = bots.withLock { $0[loopIndex] ?? [] }
            loop.execute { for bot in mine { bot.value.leave() } }
        }
        usleep(300_000)  // let the leaves go out before the loops stop
        var result = final
        result.stats.closesByCode = collect(group: group, loopStats: loopStats, elapsedNs: final.elapsedNs).stats.closesByCode
        return result
    }

    /// Copies every loop's statistics on that loop and adds them up.
    private func collect(group: EventLoopGroup, loopStats: [Unchecked<BotLoopStats>], elapsedNs: UInt64) -> SwarmSnapshot {
        let gathered = Mutex<[BotStats]>([])
        let done = DispatchSemaphore(value: 0)
        for (loopIndex, loop) in group.loops.enumerated() {
            let stats = loopStats[loopIndex]
            loop.execute {
                var copy = stats.value.stats
                copy.bytesReceived = max(copy.bytesReceived, 0)
                gathered.withLock { $0.append(copy) }
                done.signal()
            }
        }
        for _ in group.loops { _ = done.wait(timeout: .now() + 2) }
        var total = BotStats()
        for stats in gathered.withLock({ $0 }) { total.merge(stats) }
        return SwarmSnapshot(elapsedNs: elapsedNs, targetBots: config.bots, stats: total, atNs: monotonicNowNs())
    }
}

/// Carries a loop-confined object into its loop's tasks.
struct Unchecked<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
