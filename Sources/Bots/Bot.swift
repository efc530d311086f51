import Arena
import Engine
import Reactor
import WebSocket
import Wire

/// One headless player: connects with the real protocol, joins, sends an input every tick (acknowledging the
/// newest snapshot it decoded), decodes every snapshot (a failure is a decode error: that is how the swarm checks
/// the server), pings once a second, and records what a player would feel. Loop-confined.
final class Bot: WebSocketChannelHandler {
    private let index: Int
    private let target: BotTarget
    private let behaviour: BotBehaviour
    private let loop: EventLoop
    private let loopStats: BotLoopStats
    private var random: DeterministicRandom
    private var held = (input: ArenaInput(), untilTick: UInt32(0))

    private(set) var channel: WebSocketChannel?
    private var tracker = SnapshotTracker(schema: Arena.schema)
    private var player: PlayerID?
    private var entities: [EntityState] = []
    private var tickRateHz = 60
    private var snapshotPeriodNs: UInt64 = 16_666_667
    private var timer: TimerID?
    private var sequence: UInt32 = 0
    private var ticksSent = 0
    /// When each recent input was sent, by sequence (a ring: input-to-acknowledgement latency).
    private var sentAtNs = [UInt64](repeating: 0, count: 256)
    private var lastSnapshotNs: UInt64?
    private var lastAcknowledgedInput: UInt32 = 0
    private var connectStartNs: UInt64 = 0
    private var isConnected = false

    init(index: Int, target: BotTarget, behaviour: BotBehaviour, seed: UInt64, loop: EventLoop, stats: BotLoopStats) {
        self.index = index
        self.target = target
        self.behaviour = behaviour
        self.loop = loop
        loopStats = stats
        random = DeterministicRandom(seed: seed)
    }

    func connect() {
        connectStartNs = monotonicNowNs()
        WebSocketClient.connect(host: target.host, port: target.port, path: target.path, subprotocols: [wireSubprotocol], on: loop,
                                handler: self) { [self] result in
            switch result {
            case .success(let channel):
                self.channel = channel
                isConnected = true
                loopStats.stats.connected += 1
                loopStats.stats.connectUs.record((monotonicNowNs() - connectStartNs) / 1000)
                send(.join(name: "bot\(index + 1)", resumeToken: nil))
            case .failure:
                loopStats.stats.connectFailures += 1
            }
        }
    }

    /// Leaves on purpose (end of the run).
    func leave() {
        guard let channel, channel.isOpen else { return }
        send(.leave)
        channel.close(code: WebSocketCloseCode.normalClosure, reason: "swarm done")
    }

    private func send(_ message: ClientMessage) {
        guard let channel, let bytes = try? message.encoded(inputBitCount: Arena.inputBitCount) else { return }
        loopStats.stats.bytesSent += bytes.count + 6  // + a client frame header with its mask
        _ = bytes.withUnsafeBytes { channel.send(binary: $0) }
    }

    private func tick() {
        sequence &+= 1
        ticksSent += 1
        let input = behaviour.input(tick: UInt32(ticksSent), me: player, entities: entities, random: &random, held: &held)
        sentAtNs[Int(sequence & 255)] = monotonicNowNs()
        send(.input(sequence: sequence, acknowledgedTick: tracker.newestTick, bits: input.bits))
        if ticksSent % tickRateHz == 0 { send(.ping(clientTimeUs: monotonicNowNs() / 1000)) }
        if behaviour == .chatty && ticksSent % (tickRateHz * 5) == index % (tickRateHz * 5) {
            loopStats.stats.chatsSent += 1
            send(.chat(text: "bot\(index + 1) says hello at tick \(tracker.newestTick ?? 0)"))
        }
    }

    // MARK: WebSocketChannelHandler

    func channel(_ channel: WebSocketChannel, didReceiveBinary bytes: UnsafeRawBufferPointer) {
        let nowNs = monotonicNowNs()
        loopStats.stats.bytesReceived += bytes.count + (bytes.count < 126 ? 2 : 4)
        var reader = BitReader(Array(bytes))
        guard let message = try? ServerMessage.read(from: &reader) else {
            loopStats.stats.decodeErrors += 1
            return
        }
        switch message {
        case .welcome(let welcome):
            player = welcome.player
            tickRateHz = welcome.tickRateHz
            snapshotPeriodNs = 1_000_000_000 / UInt64(welcome.snapshotRateHz)
            loopStats.stats.joined += 1
            loopStats.stats.joinedAtNsSum &+= nowNs
            loopStats.stats.snapshotRateHz = max(loopStats.stats.snapshotRateHz, welcome.snapshotRateHz)
            let periodNs = 1_000_000_000 / UInt64(welcome.tickRateHz)
            timer = loop.scheduleRepeating(firstNs: nowNs + periodNs, periodNs: periodNs) { [unowned self] _ in tick() }
        case .snapshot(let header):
            switch tracker.receive(header, from: &reader) {
            case .success(let decoded):
                entities = decoded
                loopStats.stats.snapshots += 1
                if let last = lastSnapshotNs {
                    let interval = nowNs - last
                    loopStats.stats.snapshotJitterUs.record((interval > snapshotPeriodNs ? interval - snapshotPeriodNs : snapshotPeriodNs - interval) / 1000)
                }
                lastSnapshotNs = nowNs
                let processed = header.lastProcessedInput
                if processed != lastAcknowledgedInput, sequence &- processed < 256 {
                    let sent = sentAtNs[Int(processed & 255)]
                    if sent > 0 { loopStats.stats.inputToAckUs.record((nowNs - sent) / 1000) }
                    lastAcknowledgedInput = processed
                }
            case .failure(.unknownBaseline):
                break  // an acknowledgement crossed a newer snapshot; the next delta uses a baseline we have
            case .failure(.malformed):
                loopStats.stats.decodeErrors += 1
            }
        case .pong(let clientTimeUs, _, _):
            loopStats.stats.rttUs.record(nowNs / 1000 - clientTimeUs)
        case .kick:
            loopStats.stats.kicks += 1
        case .chat, .roster:
            break
        }
    }

    func channelDidClose(_ channel: WebSocketChannel, code: UInt16, reason: String) {
        if let timer { loop.cancelTimer(timer) }
        timer = nil
        if isConnected {
            isConnected = false
            loopStats.stats.connected -= 1
        }
        loopStats.stats.closesByCode[code, default: 0] += 1
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
