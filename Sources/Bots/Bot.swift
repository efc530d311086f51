import Arena
import Engine
import Reactor
import WebSocket
import Wire

/// How every bot of a swarm talks: input batching, link conditions.
struct BotOptions {
    /// Inputs sent together (one write every this many ticks).
    var inputBatch = 1
    var link = LinkConditions()
    /// A spectator sends "no buttons" every tick (acknowledging snapshots), like the browser client watching.
    var spectate = false
}

/// One headless player: connects with the real protocol, joins, sends an input for every tick (acknowledging the
/// newest snapshot it decoded; `inputBatch` ticks' inputs in one write), decodes every snapshot (a failure is a
/// decode error: that is how the swarm checks the server), pings once a second (in the same write as that
/// second's inputs), and records what a player would feel. It can churn (drop and resume, or leave and rejoin) and
/// delay its own traffic through a link conditioner. Loop-confined.
final class Bot: WebSocketChannelHandler {
    private let index: Int
    private let target: BotTarget
    private let behaviour: BotBehaviour
    private let options: BotOptions
    private let loop: EventLoop
    private let loopStats: BotLoopStats
    private var random: DeterministicRandom
    private var held = (input: ArenaInput(), untilTick: UInt32(0))
    private var outgoing: LinkDirection
    private var incoming: LinkDirection

    private(set) var channel: WebSocketChannel?
    private var tracker = SnapshotTracker(codec: Bot.codec)
    /// One codec for every bot: its field tables stay warm in the cache (with a codec a bot, reading each bot's own
    /// copy was a cache miss a snapshot).
    private static let codec = EntityDeltaCodec(schema: Arena.schema)
    private var player: PlayerID?
    private var resumeToken: UInt64?
    /// The player this bot was before a dropped connection it is resuming.
    private var resumingPlayer: PlayerID?
    private var entities: [EntityState] = []
    private var tickRateHz = 60
    private var tickPeriodNs: UInt64 = 16_666_667
    private var snapshotPeriodNs: UInt64 = 16_666_667
    private var timer: TimerID?
    /// A spectator's input batch is due and waits for the next snapshot (`inputBatchTimerFired`).
    private var inputBatchDue = false
    private var sequence: UInt32 = 0
    private var ticksSent = 0
    /// When each recent input was sent, by sequence (a ring: input-to-acknowledgement latency).
    private var sentAtNs = [UInt64](repeating: 0, count: 256)
    private var lastSnapshotNs: UInt64?
    /// The earliest a snapshot has arrived relative to its tick's place on the server's schedule.
    private var earliestTickOffsetNs: Int64?
    private var lastAcknowledgedInput: UInt32 = 0
    private var connectStartNs: UInt64 = 0
    private var isConnected = false
    private var joinedAtNs: UInt64?
    private var hasEverJoined = false
    /// What to do once the current connection has closed: nothing, or connect again after a pause.
    private var reconnectAfterCloseNs: UInt64?
    private var isFinished = false

    init(index: Int, target: BotTarget, behaviour: BotBehaviour, options: BotOptions, seed: UInt64, loop: EventLoop, stats: BotLoopStats) {
        self.index = index
        self.target = target
        self.behaviour = behaviour
        self.options = options
        self.loop = loop
        loopStats = stats
        random = DeterministicRandom(seed: seed)
        outgoing = LinkDirection(conditions: options.link, seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ 1)
        incoming = LinkDirection(conditions: options.link, seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ 2)
    }

    /// True while the bot is a player in its room.
    var isInRoom: Bool { joinedAtNs != nil }

    func connect() {
        guard !isFinished else { return }
        connectStartNs = monotonicNowNs()
        WebSocketClient.connect(host: target.host, port: target.port, path: target.path, subprotocols: [wireSubprotocol], on: loop,
                                handler: self) { [self] result in
            switch result {
            case .success(let channel):
                guard !isFinished else { channel.close(code: WebSocketCloseCode.normalClosure, reason: "swarm done"); return }
                self.channel = channel
                isConnected = true
                loopStats.stats.connected += 1
                loopStats.stats.connectUs.record((monotonicNowNs() - connectStartNs) / 1000)
                send(.join(name: "bot\(index + 1)", resumeToken: resumingPlayer == nil ? nil : resumeToken))
            case .failure:
                loopStats.stats.connectFailures += 1
            }
        }
    }

    /// Leaves on purpose (end of the run).
    func leave() {
        isFinished = true
        reconnectAfterCloseNs = nil
        guard let channel, channel.isOpen else { return }
        send(.leave)
        channel.close(code: WebSocketCloseCode.normalClosure, reason: "swarm done")
    }

    /// Churns once: either the connection drops without a goodbye and the bot comes back with its resume token (it
    /// must get its own avatar back), or it leaves properly and joins again as a new player.
    func churn(pauseNs: UInt64, dropConnection: Bool) {
        guard let channel, channel.isOpen, isInRoom, !isFinished else { return }
        reconnectAfterCloseNs = pauseNs
        if dropConnection {
            loopStats.stats.churnDrops += 1
            resumingPlayer = player
            channel.connection.close()
        } else {
            loopStats.stats.churnLeaves += 1
            resumingPlayer = nil
            send(.leave)
            channel.close(code: WebSocketCloseCode.normalClosure, reason: "churn")
        }
    }

    // MARK: Sending

    private func send(_ message: ClientMessage) {
        loopStats.outgoing.removeAll()
        queue(message)
        flushOutgoing()
    }

    /// Writes the loop's outgoing batch now, or when the link conditioner lets it go (on the connection it was
    /// meant for). The next bot to use the batch empties it first.
    private func flushOutgoing() {
        guard let channel, !loopStats.outgoing.isEmpty else { return }
        let batch = loopStats.outgoing
        loopStats.stats.writes += 1
        var start = 0
        for end in batch.ends {
            loopStats.stats.bytesSent += end - start + (end - start < 126 ? 6 : 8)  // + a masked frame header
            start = end
        }
        if options.link.isTransparent {
            batch.bytes.withUnsafeBytes { _ = channel.send(binaryMessagesIn: $0, ends: batch.ends) }
            return
        }
        let messages = (0..<batch.count).map { Array(batch[$0]) }
        loop.scheduleTimer(atNs: outgoing.dueNs(nowNs: monotonicNowNs())) { _ in channel.send(binaryMessages: messages) }
    }

    /// One batch: the inputs of `options.inputBatch` ticks, made and written together. The timer fires once per
    /// batch, not once per tick: at 60 Hz and a batch of 12, that is 5 timer firings a second per bot instead of 60
    /// (with thousands of bots, the firings themselves were a third of the load generator's core).
    private func sendInputBatch() {
        let nowNs = monotonicNowNs()
        loopStats.outgoing.removeAll()
        for _ in 0..<options.inputBatch {
            sequence &+= 1
            ticksSent += 1
            let bits = options.spectate ? InputBits.neutral
                : behaviour.input(tick: UInt32(ticksSent), me: player, entities: entities, random: &random, held: &held).bits
            sentAtNs[Int(sequence & 255)] = nowNs
            queue(.input(sequence: sequence, acknowledgedTick: tracker.newestTick, bits: bits))
            loopStats.stats.inputsSent += 1
            if ticksSent % tickRateHz == 0 { queue(.ping(clientTimeUs: nowNs / 1000)) }
            if behaviour == .chatty && ticksSent % (tickRateHz * 5) == index % (tickRateHz * 5) {
                loopStats.stats.chatsSent += 1
                queue(.chat(text: "bot\(index + 1) says hello at tick \(tracker.newestTick ?? 0)"))
            }
        }
        flushOutgoing()
    }

    /// A player sends each batch on time. A spectator's inputs are only acknowledgements: its batch waits for the
    /// next snapshot and leaves just before that is read (`channelWillRead`), so the write carries the TCP
    /// acknowledgement the read would have sent alone. The packets stay as many (the server now acknowledges the
    /// batch on its delayed-ack timer instead of with its next snapshot): the work moves from the bots' core to the
    /// server's. With 4,000 spectators the bots took 0.91× the CPU, and the server 1.01–1.05×. A batch still waiting
    /// when the next one is due goes out then: silence holds none back.
    private func inputBatchTimerFired() {
        guard options.spectate else {
            sendInputBatch()
            return
        }
        if inputBatchDue { sendInputBatch() }
        inputBatchDue = true
    }

    func channelWillRead(_ channel: WebSocketChannel) {
        guard inputBatchDue, channel === self.channel else { return }
        inputBatchDue = false
        loopStats.stats.batchesBeforeReads += 1
        sendInputBatch()
    }

    /// Adds a message to the loop's outgoing batch, which the same call writes (`flushOutgoing`): bots share it.
    private func queue(_ message: ClientMessage) {
        try? loopStats.outgoing.append(message, inputBitCount: Arena.inputBitCount)
    }

    // MARK: Receiving

    func channel(_ channel: WebSocketChannel, didReceiveBinary bytes: UnsafeRawBufferPointer) {
        let nowNs = monotonicNowNs()
        loopStats.stats.bytesReceived += bytes.count + (bytes.count < 126 ? 2 : 4)
        if options.link.isTransparent {
            // The loop's one receive buffer, not an allocation per snapshot (the reader releases it before the next).
            loopStats.receiveScratch.removeAll(keepingCapacity: true)
            loopStats.receiveScratch.append(contentsOf: bytes)
            handle(loopStats.receiveScratch, nowNs: nowNs)
            return
        }
        let copy = Array(bytes)
        loop.scheduleTimer(atNs: incoming.dueNs(nowNs: nowNs)) { [weak self, weak channel] _ in
            guard let self, let channel, self.channel === channel else { return }
            handle(copy, nowNs: monotonicNowNs())
        }
    }

    private func handle(_ bytes: [UInt8], nowNs: UInt64) {
        var reader = BitReader(bytes)
        guard let message = try? ServerMessage.read(from: &reader) else {
            loopStats.stats.decodeErrors += 1
            return
        }
        switch message {
        case .welcome(let welcome):
            didJoin(welcome, nowNs: nowNs)
        case .snapshot(let header):
            switch tracker.receive(header, from: &reader) {
            case .success(let decoded):
                // Only a player's behaviour reads the world. A spectator keeps no reference to it: letting go of the
                // previous one would touch its cold header, a cache miss a snapshot.
                if !options.spectate { entities = decoded }
                didDecodeSnapshot(header, nowNs: nowNs)
            case .failure(.unknownBaseline):
                break  // an acknowledgement crossed a newer snapshot; the next delta uses a baseline we have
            case .failure(.malformed):
                loopStats.stats.decodeErrors += 1
            }
        case .pong(let clientTimeUs, _, _):
            // The server echoes our own time; a hostile or broken one could send any, so only a time in our past
            // counts (no arithmetic on it can trap).
            let nowUs = nowNs / 1000
            if clientTimeUs <= nowUs { loopStats.stats.rttUs.record(nowUs - clientTimeUs) } else { loopStats.stats.implausiblePongs += 1 }
        case .kick:
            loopStats.stats.kicks += 1
        case .chat, .roster:
            break
        }
    }

    private func didJoin(_ welcome: ServerMessage.Welcome, nowNs: UInt64) {
        if let resumingPlayer {
            if welcome.player == resumingPlayer { loopStats.stats.resumes += 1 } else { loopStats.stats.resumeFailures += 1 }
            self.resumingPlayer = nil
        } else if hasEverJoined {
            loopStats.stats.rejoins += 1
        }
        player = welcome.player
        resumeToken = welcome.resumeToken
        tickRateHz = welcome.tickRateHz
        tickPeriodNs = 1_000_000_000 / UInt64(welcome.tickRateHz)
        snapshotPeriodNs = 1_000_000_000 / UInt64(welcome.snapshotRateHz)
        if !hasEverJoined { loopStats.stats.joined += 1 }
        hasEverJoined = true
        joinedAtNs = nowNs
        loopStats.stats.inRoom += 1
        loopStats.stats.inRoomSinceNsSum &+= nowNs
        loopStats.stats.snapshotRateHz = max(loopStats.stats.snapshotRateHz, welcome.snapshotRateHz)
        if let timer { loop.cancelTimer(timer) }
        let batchPeriodNs = tickPeriodNs * UInt64(options.inputBatch)
        inputBatchDue = false
        timer = loop.scheduleRepeating(firstNs: nowNs + batchPeriodNs, periodNs: batchPeriodNs) { [unowned self] _ in inputBatchTimerFired() }
    }

    private func didDecodeSnapshot(_ header: SnapshotHeader, nowNs: UInt64) {
        loopStats.stats.snapshots += 1
        if header.baselineTick != nil { loopStats.stats.deltaSnapshots += 1 }
        if let last = lastSnapshotNs {
            let interval = nowNs - last
            loopStats.stats.snapshotJitterUs.record((interval > snapshotPeriodNs ? interval - snapshotPeriodNs : snapshotPeriodNs - interval) / 1000)
        }
        lastSnapshotNs = nowNs
        // Server tick lateness as a player sees it: how much later than its best this tick's snapshot arrived.
        let offsetNs = Int64(nowNs) - Int64(header.tick) * Int64(tickPeriodNs)
        let earliest = min(earliestTickOffsetNs ?? offsetNs, offsetNs)
        earliestTickOffsetNs = earliest
        loopStats.stats.tickLatenessUs.record(UInt64(offsetNs - earliest) / 1000)
        let processed = header.lastProcessedInput
        if processed != lastAcknowledgedInput, sequence &- processed < 256 {
            let sent = sentAtNs[Int(processed & 255)]
            if sent > 0 { loopStats.stats.inputToAckUs.record((nowNs - sent) / 1000) }
            lastAcknowledgedInput = processed
        }
    }

    func channelDidClose(_ channel: WebSocketChannel, code: UInt16, reason: String) {
        let nowNs = monotonicNowNs()
        if let timer { loop.cancelTimer(timer) }
        timer = nil
        inputBatchDue = false
        if isConnected {
            isConnected = false
            loopStats.stats.connected -= 1
        }
        if let joinedAtNs {
            loopStats.stats.inRoom -= 1
            loopStats.stats.inRoomSinceNsSum &-= joinedAtNs
            loopStats.stats.completedInRoomNs &+= nowNs - joinedAtNs
            self.joinedAtNs = nil
        }
        loopStats.stats.closesByCode[code, default: 0] += 1
        if self.channel === channel { self.channel = nil }
        // A new connection starts from scratch: no baselines, no snapshot timing.
        tracker = SnapshotTracker(codec: Bot.codec)
        entities = []
        lastSnapshotNs = nil
        if let pauseNs = reconnectAfterCloseNs, !isFinished {
            reconnectAfterCloseNs = nil
            loop.scheduleTimer(atNs: nowNs + pauseNs) { [weak self] _ in self?.connect() }
        }
    }
}

/// Where bots connect: `ws://HOST:PORT/PATH` with an IP literal (or `localhost`).
public struct BotTarget: Sendable, Equatable {
    public var host: String
    public var port: UInt16
    public var path: String

    /// Parses `ws://127.0.0.1:8080/rooms/load`; nil for anything else (no TLS, no host names but localhost).
    public init?(url: String) {
        guard url.hasPrefix("ws://") else { return nil }
        let rest = url.dropFirst(5)
        let slash = rest.firstIndex(of: "/") ?? rest.endIndex
        let authority = rest[..<slash]
        path = slash == rest.endIndex ? "/" : String(rest[slash...])
        guard let colon = authority.lastIndex(of: ":"), let port = UInt16(authority[authority.index(after: colon)...]) else { return nil }
        var host = String(authority[..<colon])
        if host == "localhost" { host = "127.0.0.1" }
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard !host.isEmpty else { return nil }
        self.host = host
        self.port = port
    }
}
