import Engine
import Glibc
import Reactor
import Replay
import WebSocket
import Wire

/// Limits a room enforces on its clients. Flags of `tickwire serve` with these defaults.
public struct RoomLimits: Sendable, Equatable {
    /// Players (not spectators) in one room.
    public var playersMax = 64
    /// Spectators (`?watch=1`) in one room, counted apart from players.
    public var spectatorsMax = 1000
    /// Snapshots a client may fail to take (its socket full) in a row before it is kicked as too slow: 2 s at 60 Hz.
    public var stuckSnapshotsMax = 120
    /// Chat lines a player may send in a burst, and per second after it (spectators may not chat: a line goes to
    /// every member, and a room has up to a thousand spectators).
    public var chatBurst = 5
    public var chatPerSecond = 1
    /// Chat lines the whole room relays per second, whoever sends them: bounds the fan-out of many players chatting
    /// at once (each line is written to every member). `--room-chat-per-second`.
    public var roomChatPerSecond = 20
    /// Game pings (`ping` messages) a client may send in a burst, and per second after it; more are dropped.
    public var pingBurst = 10
    public var pingsPerSecond = 4
    /// How long a room may stay empty before it closes.
    public var emptyCloseNs: UInt64 = 30_000_000_000
    /// How long a room that never had a player stays open (`--room-unused-close-ms`): someone sweeping through room
    /// ids, or a creator who never joins, holds a slot of `--rooms-max` this long at most, and records nothing.
    public var unusedCloseNs: UInt64 = 10_000_000_000
    /// How long a player whose connection dropped keeps its avatar and score for a reconnect with its resume token.
    public var resumeGraceNs: UInt64 = 10_000_000_000
    public init() {}
}

/// A game room on its event loop: decodes its clients' messages, answers pings at once, runs the fixed tick on
/// absolute deadlines, and writes each client its snapshot. Loop-confined: every method runs on `loop`.
public final class Room<G: Game>: HostedRoom, WebSocketChannelHandler {
    public let id: String
    private let core: RoomCore<G>
    private let limits: RoomLimits
    private let logger: Logger
    private unowned let directory: RoomDirectory
    private let onConnectionClosed: @Sendable (UInt16) -> Void
    private let defences: DefenceCounters
    private let violationLogger: ChannelViolationLogger?
    private var loop: EventLoop!
    /// When the room opened, and whether a player ever joined (a room that never had one closes after `unusedCloseNs`).
    private var openedNs: UInt64 = 0
    private var hadPlayer = false
    /// The room's own chat budget (`roomChatPerSecond`), refilled with the players' tokens.
    private var roomChatTokens = 0
    private var timer: TimerID?
    /// Set once the room closed (empty too long, or drained); a client still being handed over is turned away.
    private var isClosed = false

    /// Fixed tick offsets within a period that rooms are spread over (see `start`).
    static var tickSlots: Int { 4 }

    /// A room's tick slot: a stable hash of its id.
    static func tickSlot(ofRoom id: String) -> Int { Int(stableHash(id) % UInt32(tickSlots)) }

    /// The snapshot phase of a room's first clients (`RoomCore.phaseBlockSize`): small rooms on a loop spread
    /// their snapshot ticks over the phases. From other bits of the hash than the tick slot, so that rooms sharing
    /// a slot do not all share a phase too.
    static func snapshotPhaseOffset(ofRoom id: String) -> Int { Int(stableHash(id) >> 16) }

    /// FNV-1a of a room id: the same on every run, unlike `hashValue`.
    private static func stableHash(_ id: String) -> UInt32 {
        var hash: UInt32 = 2_166_136_261
        for byte in id.utf8 { hash = (hash ^ UInt32(byte)) &* 16_777_619 }
        return hash
    }

    /// Close codes after which a player is gone for good (no resume).
    static var finalCloseCodes: Set<UInt16> { [1000, 1002, 1003, 1007, 1008, 1009, 1011] }

    /// Players whose connection dropped, waiting for a resume until their deadline.
    private var suspended: [PlayerID: (token: UInt64, deadlineNs: UInt64)] = [:]
    /// Resume tokens of present players.
    private var tokens: [PlayerID: UInt64] = [:]
    private var members: [ObjectIdentifier: RoomMember] = [:]
    /// Joined members by player (the same objects as in `members`).
    private var memberByPlayer: [PlayerID: RoomMember] = [:]
    private var emptySinceNs: UInt64?

    // Figures for /rooms and /metrics.
    /// The last 600 ticks (10 s at 60 Hz), for the p99s of /rooms.
    private var latenessUs = RecentSamples(capacity: 600)
    private var durationUs = RecentSamples(capacity: 600)
    private var snapshotsSkipped = 0
    /// Ticks simulated without snapshots because the room was two whole periods behind (see `tick`).
    private var catchUpTicks = 0
    /// This tick's snapshot frames, built while encoding and written one after another once all are built: the
    /// kernel's send path stays hot in the caches between writes (as in the floor's tight loop), rather than being
    /// evicted by encoding work between each two.
    private var pendingFrames: [UInt8] = []
    private var pendingWrites: [(channel: WebSocketChannel, frame: Range<Int>)] = []
    /// Announcements for every member (names of players who joined), as WebSocket frames; each member has had the
    /// log up to its `rosterSeen`, and gets the rest prepended to its next snapshot.
    private var rosterNews: [UInt8] = []
    /// Bytes of the log already dropped (seen by every member).
    private var rosterNewsDropped = 0
    private var decodeErrors = 0
    private var ticksTotal = 0
    private var tickDuration = Histogram()
    private var tickLateness = Histogram()
    private var lastPublishNs: UInt64 = 0
    private var chatRefillNs: UInt64 = 0
    /// Records the session when the server records (`--record`); written by the recorder's writer thread. Made when
    /// the room starts on its loop, so a room that never started leaves no file.
    private var recorder: SessionRecorder?
    private let makeRecorder: () -> SessionRecorder?

    /// A room running `game` with the server's settings.
    public init(game: G, context: RoomContext) {
        id = context.id
        core = RoomCore(game: game, settings: context.settings, playersMax: context.limits.playersMax,
                        spectatorsMax: context.limits.spectatorsMax, phaseOffset: Room.snapshotPhaseOffset(ofRoom: context.id))
        limits = context.limits
        logger = context.logger
        directory = context.directory
        onConnectionClosed = context.connectionClosed
        defences = context.defences
        violationLogger = context.violationLogger
        let seed = game.seed, config = G.encodeConfig(game.config)
        makeRecorder = {
            guard let sink = context.recordingSink else { return nil }
            let header = RecordingHeader(gameName: G.name, gameVersion: G.version, wireVersion: wireSubprotocol, seed: seed,
                                         tickRateHz: context.settings.tickRateHz, snapshotEveryTicks: context.settings.snapshotEveryTicks,
                                         config: config, startUnixMs: wallClockUnixMs(), roomID: context.id,
                                         keyframeEveryTicks: context.keyframeEveryTicks)
            return SessionRecorder(header: header, schema: G.schema, inputBitCount: G.inputBitCount, sink: sink,
                                   flushEveryTicks: context.settings.tickRateHz)
        }
    }

    public func open(on loop: EventLoop) {
        loop.preconditionInLoop()
        guard self.loop == nil else { return }
        start(on: loop)
    }

    private func start(on loop: EventLoop) {
        self.loop = loop
        let periodNs = 1_000_000_000 / UInt64(core.settings.tickRateHz)
        let now = monotonicNowNs()
        emptySinceNs = now
        openedNs = now
        lastPublishNs = now
        chatRefillNs = now
        roomChatTokens = limits.roomChatPerSecond
        // Deadlines on one of `Room.tickSlots` fixed offsets in the period, picked by the room's id: the rooms of a
        // loop sharing a slot tick in the same timer pass, so their snapshot writes go out in one burst and the
        // clients' answers come back in one (fewer wake-ups on both sides than rooms spread at random). More than
        // one slot, so that a pass is a fraction of the loop's rooms and the last room in it does not start late.
        let slotNs = periodNs / UInt64(Room.tickSlots)
        let offsetNs = UInt64(Room.tickSlot(ofRoom: id)) * slotNs
        let firstNs = ((now > offsetNs ? now - offsetNs : 0) / periodNs + 1) * periodNs + offsetNs
        timer = loop.scheduleRepeating(firstNs: firstNs, periodNs: periodNs) { [unowned self] deadlineNs in
            tick(deadlineNs: deadlineNs)
        }
        publish(nowNs: now)
    }

    public func attach(_ channel: WebSocketChannel, spectator: Bool, leftover: [UInt8], on loop: EventLoop) {
        loop.preconditionInLoop()
        if isClosed {
            // It closed while this client was being handed over: the client's reconnect creates a fresh room.
            send(.kick(reason: .roomClosed, text: "room closed; reconnect"), to: channel)
            channel.close(code: WebSocketCloseCode.goingAway, reason: "room closed")
            onConnectionClosed(WebSocketCloseCode.goingAway)
            return
        }
        if self.loop == nil { start(on: loop) }
        channel.handler = self
        if let violationLogger { channel.violationLogger = violationLogger }
        members[ObjectIdentifier(channel)] = RoomMember(channel: channel, spectator: spectator, chatTokens: limits.chatBurst,
                                                        pingTokens: limits.pingBurst)
        emptySinceNs = nil
        if !leftover.isEmpty, channel.connection.isOpen {
            var bytes = leftover
            bytes.withUnsafeMutableBytes { channel.connectionDidRead(channel.connection, $0) }
        }
    }

    public func drain() {
        guard loop != nil else { return }
        isClosed = true
        recorder?.finish()
        for member in Array(members.values) {
            send(.kick(reason: .serverShutdown, text: "server shutting down"), to: member.channel)
            member.channel.close(code: WebSocketCloseCode.goingAway, reason: "server shutting down")
        }
        if let timer { loop.cancelTimer(timer) }
        timer = nil
    }

    // MARK: Client messages

    public func channel(_ channel: WebSocketChannel, didReceiveText bytes: UnsafeRawBufferPointer) {
        channel.fail(code: WebSocketCloseCode.unsupportedData, reason: "tickwire.v1 messages are binary")
    }

    public func channel(_ channel: WebSocketChannel, didReceiveBinary bytes: UnsafeRawBufferPointer) {
        let key = ObjectIdentifier(channel)
        guard let member = members[key] else { return }
        let message: ClientMessage
        do throws(WireError) {
            message = try ClientMessage.decode(Array(bytes), inputBitCount: G.inputBitCount)
        } catch {
            decodeErrors += 1
            defences.count(.badGameMessage)
            channel.fail(code: WebSocketCloseCode.protocolError, reason: "bad message: \(error)")
            return
        }
        switch message {
        case .join(let name, let resumeToken):
            guard member.player == nil else { return channel.fail(code: WebSocketCloseCode.policyViolation, reason: "already joined") }
            let player: PlayerID
            if let resumeToken, let entry = suspended.first(where: { $0.value.token == resumeToken }) {
                // Back within the grace period: the same player, avatar and score.
                player = entry.key
                suspended[player] = nil
                core.resume(player)
            } else if let joined = core.join(name: name, spectator: member.spectator) {
                player = joined
            } else {
                defences.count(.roomFull)
                send(.kick(reason: .roomClosed, text: "room is full"), to: channel)
                return channel.close(code: WebSocketCloseCode.policyViolation, reason: "room is full")
            }
            member.player = player
            if !member.spectator { playerJoined() }
            memberByPlayer[player] = member
            publish(nowNs: loop.nowNs)
            let token = WebSocketMask.randomToken()
            tokens[player] = token
            let world = core.game.worldSize
            // The welcome and everyone present's name in one write. The newcomer's own name reaches everyone (itself
            // included) with their next snapshot, in the same write: a crowd arriving costs no write per member
            // per arrival (at 750 players that was 1,500 writes a join).
            var greeting = [encoded(.welcome(.init(player: player, tickRateHz: core.settings.tickRateHz,
                                                   snapshotRateHz: core.settings.tickRateHz / core.settings.snapshotEveryTicks,
                                                   serverTick: core.currentTick, worldWidthRaw: UInt32(clamping: world.x.raw),
                                                   worldHeightRaw: UInt32(clamping: world.y.raw), resumeToken: token)))]
            // Players only: spectators are never announced, and a crowd of them would make each arrival's greeting
            // (and its cost on both ends) grow with the crowd.
            for (otherPlayer, other) in memberByPlayer where other !== member && !other.spectator {
                if let otherName = core.name(of: otherPlayer) { greeting.append(encoded(.roster(player: otherPlayer, name: otherName))) }
            }
            channel.send(binaryMessages: greeting)
            member.rosterSeen = rosterNewsEnd
            if !member.spectator { announce(.roster(player: player, name: core.name(of: player) ?? name)) }
        case .input(let sequence, let acknowledgedTick, let bits):
            guard let player = member.player else { return channel.fail(code: WebSocketCloseCode.policyViolation, reason: "input before join") }
            core.receiveInput(from: player, sequence: sequence, acknowledgedTick: acknowledgedTick, bits: bits)
        case .ping(let clientTimeUs):
            guard member.pingTokens > 0 else { return defences.count(.pingOverRate) }
            member.pingTokens -= 1
            send(.pong(clientTimeUs: clientTimeUs, serverTimeUs: monotonicNowNs() / 1000, serverTick: core.currentTick), to: channel)
        case .chat(let text):
            guard let player = member.player else { return channel.fail(code: WebSocketCloseCode.policyViolation, reason: "chat before join") }
            guard !member.spectator else { return defences.count(.spectatorChat) }
            guard member.chatTokens > 0 else { return defences.count(.chatOverRate) }
            guard roomChatTokens > 0 else { return defences.count(.chatRoomOverRate) }
            member.chatTokens -= 1
            roomChatTokens -= 1
            recorder?.chat(from: player, text: text)
            relay(.chat(from: player, name: core.name(of: player) ?? "", text: text))
        case .leave:
            member.ended = true
            channel.close(code: WebSocketCloseCode.normalClosure, reason: "left")
        }
    }

    public func channelDidClose(_ channel: WebSocketChannel, code: UInt16, reason: String) {
        guard let member = members.removeValue(forKey: ObjectIdentifier(channel)) else { return }
        if let player = member.player {
            memberByPlayer[player] = nil
            let token = tokens.removeValue(forKey: player)
            // A connection that dropped (1006), went away (1001, a page reload) or closed with an application code may
            // come back for its avatar; one that left, was kicked, said it is done (1000) or broke a rule may not.
            let dropped = !member.ended && !member.spectator && !Room.finalCloseCodes.contains(code)
            if dropped, let token, !isClosed {
                suspended[player] = (token, loop.nowNs + limits.resumeGraceNs)
                core.suspend(player)
            } else {
                core.leave(player)
            }
        }
        if members.isEmpty { emptySinceNs = loop.nowNs + (suspended.isEmpty ? 0 : limits.resumeGraceNs) }
        publish(nowNs: loop.nowNs)
        onConnectionClosed(code)
    }

    /// Sends one message to every joined member, framed once.
    private func relay(_ message: ServerMessage) {
        var frame: [UInt8] = []
        appendFrame(encoded(message), to: &frame)
        frame.withUnsafeBytes { bytes in
            for other in members.values where other.player != nil { other.channel.sendPreframed(bytes) }
        }
    }

    /// The first player arrived: from now on the room is a session (it records, and closes only when empty).
    private func playerJoined() {
        guard !hadPlayer else { return }
        hadPlayer = true
        recorder = makeRecorder()
    }

    private func send(_ message: ServerMessage, to channel: WebSocketChannel) {
        _ = encoded(message).withUnsafeBytes { channel.send(binary: $0) }
    }

    private func encoded(_ message: ServerMessage) -> [UInt8] {
        var writer = BitWriter(capacity: 64)
        try? message.write(into: &writer)  // server messages are built within their bounds
        return writer.finish()
    }

    /// Queues `message` for every joined member, to go out in the same write as its next snapshot.
    private func announce(_ message: ServerMessage) {
        appendFrame(encoded(message), to: &rosterNews)
    }

    /// Where the announcement log ends, counted from the room's first announcement.
    private var rosterNewsEnd: Int { rosterNewsDropped + rosterNews.count }

    /// Drops the announcements every joined member has had.
    private func trimRosterNews() {
        guard !rosterNews.isEmpty else { return }
        let seenByAll = members.values.lazy.filter { $0.player != nil }.map(\.rosterSeen).min() ?? rosterNewsEnd
        let droppable = seenByAll - rosterNewsDropped
        guard droppable > 0 else { return }
        rosterNews.removeFirst(droppable)
        rosterNewsDropped += droppable
    }

    // MARK: The tick

    private func tick(deadlineNs: UInt64) {
        let startNs = monotonicNowNs()
        let latenessMicroseconds = Double(startNs &- deadlineNs) / 1000
        latenessUs.record(latenessMicroseconds)
        tickLateness.record(latenessMicroseconds)
        // The simulation starts with the first player: a room nobody plays in costs no simulation, and its recording
        // (made at that moment) starts from the seed's first tick.
        if hadPlayer { simulate(startNs: startNs, deadlineNs: deadlineNs) }
        let endNs = monotonicNowNs()
        let durationMicroseconds = Double(endNs &- startNs) / 1000
        durationUs.record(durationMicroseconds)
        tickDuration.record(durationMicroseconds)
        ticksTotal += 1
        if endNs - chatRefillNs >= 1_000_000_000 {
            // Once a second: every member's chat and ping budgets, and the room's chat budget.
            chatRefillNs = endNs
            roomChatTokens = limits.roomChatPerSecond
            for member in members.values {
                member.chatTokens = min(limits.chatBurst, member.chatTokens + limits.chatPerSecond)
                member.pingTokens = min(limits.pingBurst, member.pingTokens + limits.pingsPerSecond)
            }
        }
        if endNs - lastPublishNs >= 1_000_000_000 { publish(nowNs: endNs) }
        for (player, entry) in suspended where endNs >= entry.deadlineNs {
            suspended[player] = nil
            core.leave(player)
        }
        if let emptySinceNs, endNs >= emptySinceNs + limits.emptyCloseNs {
            close()
        } else if !hadPlayer, endNs >= openedNs + limits.unusedCloseNs {
            defences.count(.unusedRoomClosed)
            close()
        }
    }

    /// One step of the game, its record, and its snapshots (unless the room is behind).
    private func simulate(startNs: UInt64, deadlineNs: UInt64) {
        let outcome = core.tick()
        if let recorder {
            let joins = zip(outcome.joined, outcome.joinedNames).map { TickRecord.Join(player: $0, name: $1) }
            recorder.record(tick: outcome.tick, leaves: outcome.left, joins: joins, inputs: outcome.inputs, stateHash: core.stateHash(),
                            world: { core.game.entityStates() }, state: { core.game.encodeState() })
        }
        // Two whole periods late, two more ticks are already due: this one only simulates. Snapshots of a state
        // about to be outdated would cost the most while the room is behind, and acks coming back late make the
        // next deltas bigger still; the room could spiral instead of catching up after a stall (a host stealing the
        // core for a few periods, a burst of joins). Its clients get their next snapshot a phase later. (One period
        // late is ordinary jitter on a busy loop: skipping there cost 1.7% of snapshots at 750 players, 85% CPU.)
        let periodNs = 1_000_000_000 / UInt64(core.settings.tickRateHz)
        if startNs >= deadlineNs + 2 * periodNs {
            catchUpTicks += 1
        } else if outcome.isSnapshotTick {
            sendSnapshots()
        }
    }

    private func sendSnapshots() {
        do throws(WireError) {
            try core.encodeSnapshots { player, header, delta in
                guard let member = memberByPlayer[player] else { return }
                let connection = member.channel.connection
                guard connection.isWritable else {
                    snapshotsSkipped += 1
                    member.stuckSnapshots += 1
                    if member.stuckSnapshots > limits.stuckSnapshotsMax {
                        member.ended = true
                        defences.count(.tooSlow)
                        logger.peer(connection.peer, "kicked from room \(id): too slow (\(connection.unsentBytes) bytes unsent)")
                        send(.kick(reason: .tooSlow, text: "your connection could not keep up"), to: member.channel)
                        member.channel.close(code: WebSocketCloseCode.policyViolation, reason: "too slow")
                    }
                    return
                }
                member.stuckSnapshots = 0
                let news = (member.rosterSeen - rosterNewsDropped)..<rosterNews.count
                member.rosterSeen = rosterNewsEnd
                appendSnapshotFrame(header: header, delta: delta, for: member.channel, after: rosterNews[news])
            }
        } catch {
            logger.error("room \(id): snapshot encoding failed at tick \(core.currentTick): \(error)")
        }
        let writes = pendingWrites
        pendingFrames.withUnsafeBytes { frames in
            for write in writes { write.channel.sendPreframed(UnsafeRawBufferPointer(rebasing: frames[write.frame])) }
        }
        pendingFrames.removeAll(keepingCapacity: true)
        pendingWrites.removeAll(keepingCapacity: true)
        trimRosterNews()
    }

    /// A member's write for this tick: the announcements it has not had (frames already), then one frame of
    /// WebSocket header, snapshot header and shared delta.
    private func appendSnapshotFrame(header: [UInt8], delta: [UInt8], for channel: WebSocketChannel, after news: ArraySlice<UInt8>) {
        let start = pendingFrames.count
        pendingFrames.append(contentsOf: news)
        appendFrame(header, delta, to: &pendingFrames)
        pendingWrites.append((channel, start..<pendingFrames.count))
    }

    /// Appends one unmasked binary frame whose payload is `first` then `second`.
    private func appendFrame(_ first: [UInt8], _ second: [UInt8] = [], to frames: inout [UInt8]) {
        var frameHeader: (UInt64, UInt64) = (0, 0)
        let headerLength = withUnsafeMutableBytes(of: &frameHeader) { buffer in
            WebSocketFrameEncoder.writeHeader(to: buffer.baseAddress!, opcode: .binary, payloadLength: first.count + second.count)
        }
        withUnsafeBytes(of: frameHeader) { frames.append(contentsOf: $0.prefix(headerLength)) }
        frames.append(contentsOf: first)
        frames.append(contentsOf: second)
    }

    private func publish(nowNs: UInt64) {
        lastPublishNs = nowNs
        directory.publish(summary())
    }

    private func summary() -> RoomSummary {
        let players = members.values.filter { $0.player != nil && !$0.spectator }.count
        return RoomSummary(id: id, loopIndex: loop.index, players: players,
                           spectators: members.values.filter { $0.spectator }.count, tickRateHz: core.settings.tickRateHz,
                           tick: core.currentTick, tickLatenessUsP99: latenessUs.percentile(0.99), tickDurationUsP99: durationUs.percentile(0.99),
                           snapshotsSkipped: snapshotsSkipped, inputsDropped: core.inputsDroppedTotal, catchUpTicks: catchUpTicks,
                           decodeErrors: decodeErrors,
                           ticksTotal: ticksTotal, tickDuration: tickDuration, tickLateness: tickLateness)
    }

    private func close() {
        isClosed = true
        recorder?.finish()
        for member in Array(members.values) {
            member.ended = true
            send(.kick(reason: .roomClosed, text: "room closed: no players"), to: member.channel)
            member.channel.close(code: WebSocketCloseCode.goingAway, reason: "room closed")
        }
        if let timer { loop.cancelTimer(timer) }
        timer = nil
        directory.remove(id, room: self, final: summary())
        logger.info(hadPlayer ? "room \(id) closed after \(limits.emptyCloseNs / 1_000_000) ms empty"
                              : "room \(id) closed: no player in \(limits.unusedCloseNs / 1_000_000) ms")
    }
}

/// One connection in a room (outside the generic `Room<G>` so that it is not generic itself). A class: the
/// room finds it by connection and by player, and changes it in place (no copy and write-back per message).
fileprivate final class RoomMember {
    let channel: WebSocketChannel
    var player: PlayerID?
    let spectator: Bool
    var chatTokens: Int
    var pingTokens: Int
    var stuckSnapshots = 0
    /// How much of the room's announcement log this member has had (see `Room.rosterNews`).
    var rosterSeen = 0
    /// Left on purpose or was removed: no resume.
    var ended = false

    init(channel: WebSocketChannel, spectator: Bool, chatTokens: Int, pingTokens: Int) {
        self.channel = channel
        self.spectator = spectator
        self.chatTokens = chatTokens
        self.pingTokens = pingTokens
    }
}

/// Milliseconds since 1970 (recording headers; the tick itself never reads the wall clock).
private func wallClockUnixMs() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_REALTIME, &now)
    return UInt64(now.tv_sec) * 1000 + UInt64(now.tv_nsec) / 1_000_000
}
