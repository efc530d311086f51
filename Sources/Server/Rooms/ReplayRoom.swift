import Engine
import Reactor
import Replay
import WebSocket
import Wire

/// A recording played back as a room (`tickwire replay FILE --serve`): browsers watch it with the normal client.
/// Everyone is a spectator. Chat lines that start with "/" control the playback for everyone watching: `/play`,
/// `/pause`, `/speed X` (0.25 to 16), `/seek TICK`. The room answers each command, and once a second, with a
/// status line in the chat. Commands share the chat budget of `RoomLimits` (a viewer's burst and rate), since each
/// one is answered to everyone. The room closes once nobody has watched for `emptyCloseNs` (or, if nobody ever
/// came, `unusedCloseNs`). Loop-confined.
///
/// Snapshots are full worlds (no baselines) numbered by presentation, which always counts up, so a seek backwards
/// looks like any other snapshot to the client. A seek restores the nearest keyframe and re-simulates the rest, 300
/// ticks per tick period, so the loop is never blocked for long (even for a recording without restorable keyframes).
public final class ReplayRoom<G: Game>: HostedRoom, WebSocketChannelHandler {
    /// Playback speeds accepted by `/speed`.
    public static var speedRange: ClosedRange<Double> { 0.25...16 }
    static var seekTicksPerPeriod: Int { 300 }

    private let recording: Recording
    private var replayer: Replayer<G>
    private let id: String
    private let logger: Logger
    private let onConnectionClosed: @Sendable (UInt16) -> Void
    private let limits: RoomLimits
    private let defences: DefenceCounters
    private let violationLogger: ChannelViolationLogger?
    private unowned let directory: RoomDirectory
    /// Command budgets by viewer, refilled once a second.
    private var commandTokens: [ObjectIdentifier: Int] = [:]
    private var lastRefillNs: UInt64 = 0
    /// Since when nobody watches (the room closes after `emptyCloseNs`; before its first viewer, `unusedCloseNs`).
    private var emptySinceNs: UInt64 = 0
    private var hadViewer = false
    private var isClosed = false
    // The wire's own limits: browsers decode these snapshots with them.
    private let codec = EntityDeltaCodec(schema: G.schema)
    private var loop: EventLoop?
    private var timer: TimerID?
    private var viewers: [ObjectIdentifier: (channel: WebSocketChannel, joined: Bool)] = [:]
    private var names: [PlayerID: String] = [:]
    private var isPlaying = true
    private var speed = 1.0
    private var owedTicks = 0.0
    private var seekTarget: UInt32?
    private var presentationTick: UInt32 = 0
    private var nextViewerID: UInt16 = 60_000
    private var lastStatusTick: UInt32 = 0

    /// A room that plays the recording of `replayer` from where it stands (normally the start).
    public init(replayer: Replayer<G>, context: RoomContext) {
        recording = replayer.recording
        self.replayer = replayer
        id = context.id
        logger = context.logger
        onConnectionClosed = context.connectionClosed
        limits = context.limits
        defences = context.defences
        violationLogger = context.violationLogger
        directory = context.directory
    }

    public func open(on loop: EventLoop) {
        loop.preconditionInLoop()
        guard self.loop == nil else { return }
        self.loop = loop
        let periodNs = 1_000_000_000 / UInt64(recording.header.tickRateHz)
        emptySinceNs = loop.nowNs
        lastRefillNs = loop.nowNs
        timer = loop.scheduleRepeating(firstNs: monotonicNowNs() + periodNs, periodNs: periodNs) { [unowned self] _ in period() }
    }

    public func attach(_ channel: WebSocketChannel, spectator: Bool, leftover: [UInt8], on loop: EventLoop) {
        loop.preconditionInLoop()
        open(on: loop)
        if isClosed {
            channel.close(code: WebSocketCloseCode.goingAway, reason: "room closed")
            onConnectionClosed(WebSocketCloseCode.goingAway)
            return
        }
        channel.handler = self
        if let violationLogger { channel.violationLogger = violationLogger }
        viewers[ObjectIdentifier(channel)] = (channel, false)
        commandTokens[ObjectIdentifier(channel)] = limits.chatBurst
        hadViewer = true
        if !leftover.isEmpty, channel.connection.isOpen {
            var bytes = leftover
            bytes.withUnsafeMutableBytes { channel.connectionDidRead(channel.connection, $0) }
        }
    }

    public func drain() {
        for viewer in viewers.values {
            send(.kick(reason: .serverShutdown, text: "server shutting down"), to: viewer.channel)
            viewer.channel.close(code: WebSocketCloseCode.goingAway, reason: "server shutting down")
        }
        if let timer { loop?.cancelTimer(timer) }
        timer = nil
    }

    // MARK: Playback

    private var lastTick: UInt32 { recording.ticks.last?.tick ?? 0 }

    private func period() {
        let nowNs = monotonicNowNs()
        if nowNs >= lastRefillNs + 1_000_000_000 {
            lastRefillNs = nowNs
            for key in commandTokens.keys { commandTokens[key] = min(limits.chatBurst, commandTokens[key]! + limits.chatPerSecond) }
        }
        if viewers.isEmpty, nowNs >= emptySinceNs + (hadViewer ? limits.emptyCloseNs : limits.unusedCloseNs) {
            return close()
        }
        if let target = seekTarget {
            for _ in 0..<ReplayRoom.seekTicksPerPeriod where replayer.game.tick < target { _ = advanceOne() }
            if replayer.game.tick >= target || replayer.ticksApplied >= recording.ticks.count {
                seekTarget = nil
                broadcastStatus()
            }
        } else if isPlaying {
            owedTicks += speed
            while owedTicks >= 1 {
                owedTicks -= 1
                guard advanceOne() else {
                    isPlaying = false
                    broadcastStatus("the end of the recording")
                    break
                }
            }
        }
        presentationTick &+= 1
        sendSnapshot()
        if presentationTick &- lastStatusTick >= UInt32(recording.header.tickRateHz) { broadcastStatus() }
    }

    /// Applies one recorded tick and passes on its joins (as names) and chat; false at the end.
    private func advanceOne() -> Bool {
        guard let (record, _) = replayer.step() else { return false }
        for join in record.joins {
            names[join.player] = join.name
            if seekTarget == nil { broadcast(.roster(player: join.player, name: join.name)) }
        }
        if seekTarget == nil {
            for line in record.chat { broadcast(.chat(from: line.player, name: names[line.player] ?? "", text: line.text)) }
        }
        return true
    }

    private func sendSnapshot() {
        // Header and entity delta are separate byte-aligned parts, as `Room` sends them.
        var header = BitWriter(capacity: 16), delta = BitWriter(capacity: 1024)
        do throws(WireError) {
            try ServerMessage.snapshot(SnapshotHeader(tick: presentationTick, baselineTick: nil, lastProcessedInput: 0)).write(into: &header)
            try codec.encode(replayer.game.entityStates(), against: [], into: &delta)
        } catch {
            return  // more entities than a snapshot may carry: nothing to show
        }
        let bytes = header.finish() + delta.finish()
        for viewer in viewers.values where viewer.joined && viewer.channel.connection.isWritable {
            _ = bytes.withUnsafeBytes { viewer.channel.send(binary: $0) }
        }
    }

    private func restart() {
        if let fresh = try? Replayer<G>(recording: recording) { replayer = fresh }
        names = [:]
    }

    /// The names of everyone who joined up to `tick` (a keyframe restore skips their joins).
    private func namesJoined(upTo tick: UInt32) -> [PlayerID: String] {
        var joined: [PlayerID: String] = [:]
        for record in recording.ticks where record.tick <= tick {
            for join in record.joins { joined[join.player] = join.name }
        }
        return joined
    }

    private func status() -> String {
        let state = seekTarget.map { "seeking to \($0)" } ?? (isPlaying ? "playing" : "paused")
        let speedText = speed == speed.rounded() ? String(Int(speed)) : String(speed)
        return "tick \(replayer.game.tick) of \(lastTick) · \(speedText)× · \(state)"
    }

    private func broadcastStatus(_ note: String? = nil) {
        lastStatusTick = presentationTick
        broadcast(.chat(from: PlayerID(raw: 0), name: "replay", text: note.map { "\(status()) · \($0)" } ?? status()))
    }

    /// Applies a playback command; returns what to tell the viewers.
    private func command(_ text: String) -> String? {
        let words = text.split(separator: " ")
        switch words.first {
        case "/play":
            if replayer.ticksApplied >= recording.ticks.count { restart() }
            isPlaying = true
        case "/pause":
            isPlaying = false
        case "/speed":
            guard words.count == 2, let value = Double(words[1]), ReplayRoom.speedRange.contains(value) else {
                return "speed: 0.25 to 16"
            }
            speed = value
        case "/seek":
            guard words.count == 2, let tick = UInt32(words[1]) else { return "seek: /seek TICK" }
            let target = min(tick, lastTick)
            replayer.restoreKeyframe(atOrBefore: target)
            names = namesJoined(upTo: replayer.game.tick)
            for (player, name) in names { broadcast(.roster(player: player, name: name)) }
            seekTarget = target
        default:
            return "commands: /play, /pause, /speed X, /seek TICK"
        }
        return nil
    }

    // MARK: Viewers

    public func channel(_ channel: WebSocketChannel, didReceiveText bytes: UnsafeRawBufferPointer) {
        channel.fail(code: WebSocketCloseCode.unsupportedData, reason: "tickwire.v1 messages are binary")
    }

    public func channel(_ channel: WebSocketChannel, didReceiveBinary bytes: UnsafeRawBufferPointer) {
        let key = ObjectIdentifier(channel)
        guard let viewer = viewers[key] else { return }
        guard let message = try? ClientMessage.decode(Array(bytes), inputBitCount: G.inputBitCount) else {
            return channel.fail(code: WebSocketCloseCode.protocolError, reason: "bad message")
        }
        switch message {
        case .join:
            guard !viewer.joined else { return channel.fail(code: WebSocketCloseCode.policyViolation, reason: "already joined") }
            viewers[key]?.joined = true
            nextViewerID = nextViewerID == UInt16.max ? 60_000 : nextViewerID + 1
            let world = replayer.game.worldSize
            send(.welcome(.init(player: PlayerID(raw: nextViewerID), tickRateHz: recording.header.tickRateHz,
                                snapshotRateHz: recording.header.tickRateHz, serverTick: presentationTick,
                                worldWidthRaw: UInt32(clamping: world.x.raw), worldHeightRaw: UInt32(clamping: world.y.raw),
                                resumeToken: WebSocketMask.randomToken())), to: channel)
            for (player, name) in names { send(.roster(player: player, name: name), to: channel) }
            send(.chat(from: PlayerID(raw: 0), name: "replay", text: status() + " · commands: /play, /pause, /speed X, /seek TICK"), to: channel)
        case .ping(let clientTimeUs):
            send(.pong(clientTimeUs: clientTimeUs, serverTimeUs: monotonicNowNs() / 1000, serverTick: presentationTick), to: channel)
        case .chat(let text):
            guard text.hasPrefix("/") else { return }
            guard let tokens = commandTokens[key], tokens > 0 else { return defences.count(.replayCommandOverRate) }
            commandTokens[key] = tokens - 1
            if let reply = command(text) { send(.chat(from: PlayerID(raw: 0), name: "replay", text: reply), to: channel) }
            broadcastStatus()
        case .leave:
            channel.close(code: WebSocketCloseCode.normalClosure, reason: "left")
        case .input:
            break  // watching only
        }
    }

    public func channelDidClose(_ channel: WebSocketChannel, code: UInt16, reason: String) {
        guard viewers.removeValue(forKey: ObjectIdentifier(channel)) != nil else { return }
        commandTokens[ObjectIdentifier(channel)] = nil
        if viewers.isEmpty { emptySinceNs = loop?.nowNs ?? 0 }
        onConnectionClosed(code)
    }

    private func close() {
        isClosed = true
        if let timer { loop?.cancelTimer(timer) }
        timer = nil
        directory.remove(id, room: self, final: RoomSummary(id: id, loopIndex: loop?.index ?? 0, players: 0, spectators: 0,
                                                            tickRateHz: recording.header.tickRateHz, tick: presentationTick, tickLatenessUsP99: 0,
                                                            tickDurationUsP99: 0, snapshotsSkipped: 0, inputsDropped: 0))
        logger.info("replay room \(id) closed: nobody watching")
    }

    private func broadcast(_ message: ServerMessage) {
        for viewer in viewers.values where viewer.joined { send(message, to: viewer.channel) }
    }

    private func send(_ message: ServerMessage, to channel: WebSocketChannel) {
        var writer = BitWriter(capacity: 64)
        guard (try? message.write(into: &writer)) != nil else { return }
        let bytes = writer.finish()
        _ = bytes.withUnsafeBytes { channel.send(binary: $0) }
    }
}
