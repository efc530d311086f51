import Dispatch
import Engine
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
    /// Inputs a bot sends together: one write every this many ticks (1: every tick, like the browser client).
    public var inputBatch = 1
    /// Latency and jitter each bot adds to its own traffic, each way.
    public var link = LinkConditions()
    /// Bots that leave per minute, in percent of the swarm: half drop their connection and resume with their token,
    /// half leave and join again as new players, each after a pause of 0.5–1.5 s.
    public var churnPercentPerMinute = 0.0
    /// Join as spectators (`?watch=1`): they see the whole room and decode every snapshot, with no avatar.
    public var spectate = false
    /// Time for each read of the server's `/metrics` (before the bots connect and before they leave); 0: no read.
    public var serverMetricsTimeoutNs: UInt64 = UInt64(BlockingHTTPGet.timeoutMsDefault) * 1_000_000
    /// How late a bot's input timer may fire so that timers due within the same window share one wake-up of the
    /// loop (`EventLoop.timerSlackNs`); 0: each on time.
    public var timerSlackNs: UInt64 = SwarmConfig.timerSlackNsDefault
    /// 1 ms: a bot's inputs leave at most 1 ms late (the server buffers inputs by the tick anyway), and the loop of
    /// 2,000 bots whose batch timers are spread over the tick waits 2,300 times a second instead of 6,200.
    public static let timerSlackNsDefault: UInt64 = 1_000_000

    public init(target: BotTarget) { self.target = target }
}

/// Figures so far (once a second) or at the end.
public struct SwarmSnapshot: Sendable {
    public var elapsedNs: UInt64
    public var targetBots: Int
    var stats: BotStats
    /// Monotonic time of this snapshot (for time-in-room).
    var atNs: UInt64
    /// This process's CPU and memory at this snapshot, and its CPU time when the run started (for per-second CPU).
    var usage = ProcessUsage(cpuNs: 0, residentBytes: 0)
    var runStartCPUNs: UInt64 = 0
    /// CPU and memory of the load generator and the server over the whole run (the final result only).
    public var resources: SwarmResources?

    /// Snapshots the bots should have received by now, at the announced rate, for all the time they were in a room.
    public var expectedSnapshots: Double {
        let inRoomNs = Double(stats.completedInRoomNs &+ UInt64(stats.inRoom) &* atNs &- stats.inRoomSinceNsSum)
        return inRoomNs / 1e9 * Double(stats.snapshotRateHz)
    }
    /// Snapshots received over snapshots expected.
    public var deliveryRatio: Double { expectedSnapshots > 0 ? Double(stats.snapshots) / expectedSnapshots : 0 }
    public var snapshotRateHz: Int { stats.snapshotRateHz }

    public var connected: Int { stats.connected }
    public var joined: Int { stats.joined }
    public var connectFailures: Int { stats.connectFailures }
    public var snapshots: Int { stats.snapshots }
    public var deltaSnapshots: Int { stats.deltaSnapshots }
    public var batchesBeforeReads: Int { stats.batchesBeforeReads }
    public var decodeErrors: Int { stats.decodeErrors }
    /// Pongs that echoed a time in the bot's future (a broken or hostile server): counted, never measured.
    public var implausiblePongs: Int { stats.implausiblePongs }
    public var kicks: Int { stats.kicks }
    public var inputsSent: Int { stats.inputsSent }
    public var writes: Int { stats.writes }
    public var bytesReceived: Int { stats.bytesReceived }
    public var bytesSent: Int { stats.bytesSent }
    public var closesByCode: [UInt16: Int] { stats.closesByCode }
    public var rttUs: LatencyHistogram { stats.rttUs }
    public var inputToAckUs: LatencyHistogram { stats.inputToAckUs }
    public var snapshotJitterUs: LatencyHistogram { stats.snapshotJitterUs }
    public var tickLatenessUs: LatencyHistogram { stats.tickLatenessUs }
    public var churnDrops: Int { stats.churnDrops }
    public var churnLeaves: Int { stats.churnLeaves }
    public var resumes: Int { stats.resumes }
    public var resumeFailures: Int { stats.resumeFailures }
    public var rejoins: Int { stats.rejoins }
    public var connectUs: LatencyHistogram { stats.connectUs }
}

/// Runs bots against a server: spreads them over `threads` event loops, connects them over the ramp-up,
/// reports progress every second, and after the duration makes them leave and returns the totals.
public final class Swarm: @unchecked Sendable {
    public let config: SwarmConfig

    /// Every second of the last run, in order.
    public private(set) var timeline: [SwarmTimelinePoint] = []
    /// Each loop's statistics as last collected.
    private var lastCopies: [Int: BotStats] = [:]
    private var runStartCPUNs: UInt64 = 0

    public init(config: SwarmConfig) { self.config = config }

    /// Runs to the end; `progress` is called on the calling thread once a second.
    public func run(progress: (SwarmSnapshot) -> Void = { _ in }) throws(SystemError) -> SwarmSnapshot {
        let startUsage = ProcessUsage.current()
        let serverAtStart = scrapeServer()
        let group = try EventLoopGroup(count: config.threads, timerSlackNs: config.timerSlackNs)
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
                    if config.spectate { target.path += "?watch=1" }
                    let options = BotOptions(inputBatch: config.inputBatch, link: config.link, spectate: config.spectate)
                    let bot = Bot(index: index, target: target, behaviour: config.behaviours[index % config.behaviours.count],
                                  options: options, seed: config.seed &+ UInt64(index), loop: loop, stats: stats.value)
                    mine.append(Unchecked(bot))
                    let delayNs = config.bots > 1 ? config.rampUpNs * UInt64(index) / UInt64(config.bots - 1) : 0
                    loop.scheduleTimer(atNs: startNs + delayNs) { _ in bot.connect() }
                }
                bots.withLock { $0[loopIndex] = mine }
                Swarm.scheduleChurn(of: mine.map(\.value), config: config, seed: config.seed &+ UInt64(loopIndex) &* 7919, on: loop)
            }
        }
        timeline = []
        lastCopies = [:]
        runStartCPUNs = startUsage.cpuNs
        var previous: SwarmSnapshot?
        var nextReportNs = startNs + 1_000_000_000
        while monotonicNowNs() < startNs + config.durationNs {
            let now = monotonicNowNs()
            if now >= nextReportNs {
                let snapshot = collect(group: group, loopStats: loopStats, elapsedNs: now - startNs)
                timeline.append(SwarmTimelinePoint(from: previous, to: snapshot))
                previous = snapshot
                progress(snapshot)
                nextReportNs += 1_000_000_000
            }
            let wakeNs = min(nextReportNs, startNs + config.durationNs), nowNs = monotonicNowNs()
            usleep(UInt32(min((wakeNs > nowNs ? wakeNs - nowNs : 0) / 1000, 200_000)))
        }
        var final = collect(group: group, loopStats: loopStats, elapsedNs: monotonicNowNs() - startNs)
        final.resources = resources(from: startUsage, to: final, serverAtStart: serverAtStart, serverAtEnd: scrapeServer())
        for (loopIndex, loop) in group.loops.enumerated() {
            let mine = bots.withLock { $0[loopIndex] ?? [] }
            loop.execute { for bot in mine { bot.value.leave() } }
        }
        usleep(300_000)  // let the leaves go out before the loops stop
        var result = final
        result.stats.closesByCode = collect(group: group, loopStats: loopStats, elapsedNs: final.elapsedNs).stats.closesByCode
        return result
    }

    /// The server's process figures, unless reading them is turned off.
    private func scrapeServer() -> Result<ServerProcessSample, SwarmResources.ServerFiguresUnavailable> {
        guard config.serverMetricsTimeoutNs > 0 else { return .failure(.notRequested) }
        return ServerProcessSample.scrape(config.target, timeoutMs: Int(config.serverMetricsTimeoutNs / 1_000_000))
    }

    /// Both ends' CPU over the run and memory at its ends.
    private func resources(from startUsage: ProcessUsage, to final: SwarmSnapshot,
                           serverAtStart: Result<ServerProcessSample, SwarmResources.ServerFiguresUnavailable>,
                           serverAtEnd: Result<ServerProcessSample, SwarmResources.ServerFiguresUnavailable>) -> SwarmResources {
        let server: Result<SwarmResources.ServerFigures, SwarmResources.ServerFiguresUnavailable>
        switch (serverAtStart, serverAtEnd) {
        case (.success(let start), .success(let end)):
            // The server's CPU over the bots' wall time: scale its own interval (the two scrapes) to it.
            let scrapeSeconds = Double(end.atNs - start.atNs) / 1e9
            let wallSeconds = Double(final.elapsedNs) / 1e9
            let cpuSeconds = scrapeSeconds > 0 ? (end.cpuSeconds - start.cpuSeconds) / scrapeSeconds * wallSeconds : 0
            var troubles: [SwarmResources.Trouble: Double]?
            if let before = start.troubles, let after = end.troubles {
                troubles = after.reduce(into: [:]) { grown, counter in grown[counter.key] = counter.value - (before[counter.key] ?? 0) }
            }
            server = .success(.init(cpuSeconds: cpuSeconds, residentBytesStart: start.residentBytes, residentBytesEnd: end.residentBytes,
                                    troubles: troubles))
        case (.failure(let error), _), (_, .failure(let error)):
            server = .failure(error)
        }
        return SwarmResources(wallSeconds: Double(final.elapsedNs) / 1e9, threads: config.threads, connectedBots: final.connected,
                              botsCPUSeconds: Double(final.usage.cpuNs &- startUsage.cpuNs) / 1e9,
                              botsResidentBytesStart: startUsage.residentBytes, botsResidentBytesEnd: final.usage.residentBytes, server: server)
    }

    /// Every 100 ms, picks bots in their room at random (seeded) to churn, at the configured rate.
    private static func scheduleChurn(of bots: [Bot], config: SwarmConfig, seed: UInt64, on loop: EventLoop) {
        guard config.churnPercentPerMinute > 0, !bots.isEmpty else { return }
        var random = DeterministicRandom(seed: seed)
        let perTick = Double(bots.count) * config.churnPercentPerMinute / 100 / 600
        var owed = 0.0
        var churned = 0
        let periodNs: UInt64 = 100_000_000
        loop.scheduleRepeating(firstNs: monotonicNowNs() + periodNs, periodNs: periodNs) { _ in
            owed += perTick
            var attempts = 0
            while owed >= 1, attempts < 8 * bots.count {
                attempts += 1
                let bot = bots[random.nextInt(below: bots.count)]
                guard bot.isInRoom else { continue }
                churned += 1
                bot.churn(pauseNs: 500_000_000 + UInt64(random.nextInt(below: 1000)) * 1_000_000, dropConnection: churned % 2 == 1)
                owed -= 1
            }
            owed = min(owed, 1)
        }
    }

    /// Copies every loop's statistics on that loop and adds them up. A loop too busy to answer within 5 s
    /// contributes its previous copy (figures never go backwards; a saturated load generator shows as late progress).
    private func collect(group: EventLoopGroup, loopStats: [Unchecked<BotLoopStats>], elapsedNs: UInt64) -> SwarmSnapshot {
        let gathered = Mutex<[Int: BotStats]>([:])
        let done = DispatchSemaphore(value: 0)
        for (loopIndex, loop) in group.loops.enumerated() {
            let stats = loopStats[loopIndex]
            loop.execute {
                let copy = stats.value.stats
                gathered.withLock { $0[loopIndex] = copy }
                done.signal()
            }
        }
        let deadline = DispatchTime.now() + 5
        for _ in group.loops { _ = done.wait(timeout: deadline) }
        var total = BotStats()
        let fresh = gathered.withLock { $0 }
        for loopIndex in group.loops.indices {
            if let copy = fresh[loopIndex] { lastCopies[loopIndex] = copy }
            if let copy = lastCopies[loopIndex] { total.merge(copy) }
        }
        return SwarmSnapshot(elapsedNs: elapsedNs, targetBots: config.bots, stats: total, atNs: monotonicNowNs(), usage: ProcessUsage.current(),
                             runStartCPUNs: runStartCPUNs)
    }
}

/// Carries a loop-confined object into its loop's tasks.
struct Unchecked<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
