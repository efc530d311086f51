import Arena
import Engine
import Foundation
import Glibc
import Reactor
import Replay
import Server
import Wire

// tickwire-bench — in-process benchmarks that print figures (no sockets, no timed tests).
//   tickwire-bench wire [--players 64] [--seconds 60] [--snapshot-every 1] [--ack-delay-ticks 6]
//   tickwire-bench tick [--players 64] [--obstacles 860] [--seconds 60]   (about 1,000 entities)
//   tickwire-bench record [--players 64] [--minutes 10]   recording cost per tick, size per player-minute, verify speed
//   tickwire-bench rooms [--rooms 60] [--players 10] [--seconds 20] [--snapshot-every 3] [--ack-delay-ticks 6]
//                        many small rooms in one thread: CPU per room-tick and per client-tick, without sockets
//   tickwire-bench decode [--players 10] [--seconds 20] [--snapshot-every 3] [--ack-delay-ticks 6] [--passes 5] [--spectators 4000]
//                        a bot's side: µs to read and decode one snapshot (a player's view and a spectator's whole room)

func flag(_ name: String, _ fallback: Int) -> Int {
    let arguments = CommandLine.arguments
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count, let value = Int(arguments[index + 1]) else { return fallback }
    return value
}

func percentile(_ values: [Double], _ quantile: Double) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted[min(sorted.count - 1, Int(Double(sorted.count) * quantile))]
}

func format(_ value: Double, _ decimals: Int = 1) -> String {
    var factor = 1.0
    for _ in 0..<decimals { factor *= 10 }
    let rounded = (value * factor).rounded() / factor
    return String(rounded)
}

/// Acknowledgements on their way back: each client acknowledges a snapshot `ackDelay` ticks after it was sent.
struct LateAcknowledgements {
    let ackDelay: UInt32
    private var pending: [(due: UInt32, player: PlayerID, tick: UInt32)] = []

    init(ackDelay: UInt32) { self.ackDelay = ackDelay }

    /// A snapshot of `tick` sent to `player`.
    mutating func sent(tick: UInt32, to player: PlayerID) { pending.append((tick &+ ackDelay, player, tick)) }

    /// Before a tick: the script's inputs for every player of `room` (sequence = tick + 1), and the acknowledgements
    /// that have come due.
    mutating func feed(_ room: RoomCore<Arena>, players: [PlayerID], script: inout ArenaScript) {
        let tick = room.currentTick
        for (player, bits) in script.inputs(for: players, tick: tick) {
            room.receiveInput(from: player, sequence: tick &+ 1, acknowledgedTick: nil, bits: bits)
        }
        for ack in pending where ack.due <= tick { room.acknowledge(ack.player, tick: ack.tick) }
        pending.removeAll { $0.due <= tick }
    }
}

/// Two identical rooms in lockstep: in one every client acknowledges snapshots `ackDelay` ticks later (deltas), in
/// the other no client ever acknowledges (every snapshot is full). Same seed and inputs, so the same worlds.
func wireEfficiency() throws {
    let players = flag("--players", 64), seconds = flag("--seconds", 60)
    let snapshotEvery = flag("--snapshot-every", 1), ackDelay = flag("--ack-delay-ticks", 6)
    var settings = RoomSettings()
    settings.snapshotEveryTicks = snapshotEvery
    let deltaRoom = RoomCore(game: Arena(config: ArenaConfig(), seed: 42), settings: settings)
    let fullRoom = RoomCore(game: Arena(config: ArenaConfig(), seed: 42), settings: settings)
    let ids = (0..<players).compactMap { deltaRoom.join(name: "bot\($0)") }
    _ = (0..<players).compactMap { fullRoom.join(name: "bot\($0)") }
    var script = ArenaScript(seed: 7)
    var deltaBytes: [Double] = [], fullBytes: [Double] = []
    var pendingAcks: [(due: UInt32, player: PlayerID, tick: UInt32)] = []
    var sequence: UInt32 = 0
    for _ in 0..<(seconds * settings.tickRateHz) {
        sequence += 1
        for (player, bits) in script.inputs(for: ids, tick: deltaRoom.game.tick) {
            deltaRoom.receiveInput(from: player, sequence: sequence, acknowledgedTick: nil, bits: bits)
            fullRoom.receiveInput(from: player, sequence: sequence, acknowledgedTick: nil, bits: bits)
        }
        for ack in pendingAcks where ack.due <= deltaRoom.game.tick { deltaRoom.acknowledge(ack.player, tick: ack.tick) }
        pendingAcks.removeAll { $0.due <= deltaRoom.game.tick }
        let outcome = deltaRoom.tick()
        _ = fullRoom.tick()
        guard outcome.isSnapshotTick else { continue }
        try deltaRoom.encodeSnapshots { player, header, delta in
            deltaBytes.append(Double(header.count + delta.count))
            pendingAcks.append((outcome.tick + UInt32(ackDelay), player, outcome.tick))
        }
        try fullRoom.encodeSnapshots { _, header, delta in fullBytes.append(Double(header.count + delta.count)) }
    }
    let deltaMean = deltaBytes.reduce(0, +) / Double(deltaBytes.count), fullMean = fullBytes.reduce(0, +) / Double(fullBytes.count)
    let entities = deltaRoom.game.entityStates().count
    print("wire efficiency: Arena, \(players) scripted players, \(seconds) s of game time at \(settings.tickRateHz) Hz, "
          + "a snapshot every \(snapshotEvery) tick(s), acks \(ackDelay) ticks late, interest \(settings.viewHalfExtent.x.floor)×\(settings.viewHalfExtent.y.floor) half-extent; \(entities) entities at the end")
    print("  snapshot bytes per client (message, without the 2-4 byte WebSocket header):")
    print("    delta: mean \(format(deltaMean)) p50 \(format(percentile(deltaBytes, 0.5), 0)) p99 \(format(percentile(deltaBytes, 0.99), 0)) max \(format(deltaBytes.max() ?? 0, 0))")
    print("    full:  mean \(format(fullMean)) p50 \(format(percentile(fullBytes, 0.5), 0)) p99 \(format(percentile(fullBytes, 0.99), 0)) max \(format(fullBytes.max() ?? 0, 0))")
    print("    delta / full: \(format(deltaMean / fullMean * 100, 2))% of the bytes (\(format(fullMean / deltaMean, 1))× smaller)")
    let perSecond = deltaMean * Double(settings.tickRateHz / snapshotEvery)
    print("    per client per second: \(format(perSecond / 1024, 2)) KiB with deltas, \(format(fullMean * Double(settings.tickRateHz / snapshotEvery) / 1024, 2)) KiB full")
    print("  bits per changed entity (updates only): \(format(Double(deltaRoom.updateBitsTotal) / Double(max(deltaRoom.updatedEntitiesTotal, 1)), 1)) "
          + "over \(deltaRoom.updatedEntitiesTotal) updates; unchanged entities cost 0 bits")
    print("  encodes: \(deltaRoom.deltaEncodesTotal), deliveries that reused another client's encode: \(deltaRoom.deltaReusesTotal)")
}

/// Tick cost with about 1,000 entities and `players` clients: step, hash and snapshot encoding for every client.
func tickCost() throws {
    let players = flag("--players", 64), obstacles = flag("--obstacles", 860), seconds = flag("--seconds", 60)
    var config = ArenaConfig()
    config.worldWidth = 9000
    config.worldHeight = 9000
    config.obstacleCount = obstacles
    let room = RoomCore(game: Arena(config: config, seed: 5), settings: RoomSettings())
    let ids = (0..<players).compactMap { room.join(name: "bot\($0)") }
    var script = ArenaScript(seed: 9)
    var stepUs: [Double] = [], encodeUs: [Double] = [], totalUs: [Double] = [], entityCounts: [Double] = []
    var sequence: UInt32 = 0
    for _ in 0..<(seconds * 60) {
        sequence += 1
        for (player, bits) in script.inputs(for: ids, tick: room.game.tick) {
            room.receiveInput(from: player, sequence: sequence, acknowledgedTick: room.game.tick > 6 ? room.game.tick - 6 : nil, bits: bits)
        }
        let start = monotonicNowNs()
        let outcome = room.tick()  // step + hash + keeping the snapshot
        let stepped = monotonicNowNs()
        var bytes = 0
        try room.encodeSnapshots { _, header, delta in bytes += header.count + delta.count }
        let encoded = monotonicNowNs()
        _ = outcome
        stepUs.append(Double(stepped - start) / 1000)
        encodeUs.append(Double(encoded - stepped) / 1000)
        totalUs.append(Double(encoded - start) / 1000)
        entityCounts.append(Double(room.game.entityStates().count))
    }
    print("tick cost: Arena \(config.worldWidth.floor)×\(config.worldHeight.floor), \(obstacles) obstacles, \(players) players and clients, "
          + "entities mean \(format(entityCounts.reduce(0, +) / Double(entityCounts.count), 0)) (max \(format(entityCounts.max() ?? 0, 0))), \(seconds * 60) ticks")
    print("  µs per tick: step+hash+ring p50 \(format(percentile(stepUs, 0.5))) p99 \(format(percentile(stepUs, 0.99)))"
          + " | encode for all clients p50 \(format(percentile(encodeUs, 0.5))) p99 \(format(percentile(encodeUs, 0.99)))"
          + " | total p50 \(format(percentile(totalUs, 0.5))) p99 \(format(percentile(totalUs, 0.99))) max \(format(totalUs.max() ?? 0))")
    print("  budget at 60 Hz: 16,667 µs; total p99 uses \(format(percentile(totalUs, 0.99) / 166.67, 1))%")
}

/// The rooms series of `capacity.sh` without sockets: `rooms` rooms of `players` scripted players each (the room
/// rules a server with `--room-players-max players` uses), ticked round robin as one loop would, each client
/// acknowledging its snapshots `ackDelay` ticks later. Prints the CPU time per room-tick (simulation, and snapshot
/// encoding) and per client-tick: the part of a server's cost that is ours rather than the kernel's.
func smallRoomsCost() throws {
    let roomCount = flag("--rooms", 60), players = flag("--players", 10), seconds = flag("--seconds", 20)
    let snapshotEvery = flag("--snapshot-every", 3), ackDelay = UInt32(flag("--ack-delay-ticks", 6))
    var settings = RoomSettings()
    settings.snapshotEveryTicks = snapshotEvery
    let config = ArenaConfig.sized(forPlayers: players)
    let rooms = (0..<roomCount).map { RoomCore(game: Arena(config: config, seed: UInt64($0 + 1)), settings: settings, playersMax: players, phaseOffset: $0) }
    let ids = rooms.map { room in (0..<players).compactMap { room.join(name: "bot\($0)") } }
    var scripts = (0..<roomCount).map { ArenaScript(seed: UInt64($0 + 100)) }
    var acks = Array(repeating: LateAcknowledgements(ackDelay: ackDelay), count: roomCount)
    var simulateNs: UInt64 = 0, encodeNs: UInt64 = 0, snapshots = 0, bytes = 0
    let ticks = seconds * settings.tickRateHz
    let warmupTicks = min(120, ticks / 4)
    for tickIndex in 0..<ticks {
        for (index, room) in rooms.enumerated() {
            acks[index].feed(room, players: ids[index], script: &scripts[index])
            let start = monotonicNowNs()
            let outcome = room.tick()
            let simulated = monotonicNowNs()
            try room.encodeSnapshots { player, header, delta in
                acks[index].sent(tick: outcome.tick, to: player)
                if tickIndex >= warmupTicks {
                    snapshots += 1
                    bytes += header.count + delta.count
                }
            }
            let encoded = monotonicNowNs()
            if tickIndex >= warmupTicks {
                simulateNs += simulated - start
                encodeNs += encoded - simulated
            }
        }
    }
    let roomTicks = Double((ticks - warmupTicks) * roomCount)
    let simulateUs = Double(simulateNs) / 1000 / roomTicks, encodeUs = Double(encodeNs) / 1000 / roomTicks
    print("small rooms: \(roomCount) rooms of \(players) scripted players (Arena \(config.worldWidth.floor)×\(config.worldHeight.floor)), "
          + "\(seconds) s of game time at \(settings.tickRateHz) Hz, a snapshot every \(snapshotEvery) tick(s), acks \(ackDelay) ticks late")
    print("  µs per room-tick: simulation (step, and the snapshot record on snapshot ticks) \(format(simulateUs, 2)), snapshot encoding \(format(encodeUs, 2)), "
          + "total \(format(simulateUs + encodeUs, 2))")
    print("  µs per client-tick: \(format((simulateUs + encodeUs) / Double(players), 2)); per snapshot encoded: \(format(Double(encodeNs) / 1000 / Double(max(snapshots, 1)), 2)) "
          + "(mean \(format(Double(bytes) / Double(max(snapshots, 1)), 1)) bytes)")
    let clientsAt = { (share: Double) in Int(share * 1_000_000 / (Double(settings.tickRateHz) * (simulateUs + encodeUs) / Double(players))) }
    print("  clients one core could tick and encode for, before any socket work: \(clientsAt(1.0)) (all of it), \(clientsAt(0.5)) (half of it)")
}

/// What a bot spends per snapshot, without sockets: one room of scripted players and one spectator runs with late
/// acknowledgements, every message sent is kept, then each client's messages are decoded in order with a fresh
/// `SnapshotTracker`, as `tickwire bots` does (`ServerMessage.read`, then `receive`), `passes` times.
func decodeCost() throws {
    let players = flag("--players", 10), seconds = flag("--seconds", 20), passes = flag("--passes", 5)
    let snapshotEvery = flag("--snapshot-every", 3), ackDelay = UInt32(flag("--ack-delay-ticks", 6))
    let coldTrackers = flag("--spectators", 4000)
    var settings = RoomSettings()
    settings.snapshotEveryTicks = snapshotEvery
    let room = RoomCore(game: Arena(config: ArenaConfig.sized(forPlayers: players), seed: 5), settings: settings, playersMax: players)
    let ids = (0..<players).compactMap { room.join(name: "bot\($0)") }
    guard let spectator = room.join(name: "watcher", spectator: true) else { fatalError("the room refused a spectator") }
    var script = ArenaScript(seed: 9)
    var sent: [PlayerID: [[UInt8]]] = [:]
    var acks = LateAcknowledgements(ackDelay: ackDelay)
    for _ in 0..<(seconds * settings.tickRateHz) {
        acks.feed(room, players: ids, script: &script)
        let outcome = room.tick()
        try room.encodeSnapshots { player, header, delta in
            acks.sent(tick: outcome.tick, to: player)
            sent[player, default: []].append(header + delta)
        }
    }
    func decodeAll(_ messages: [[UInt8]]) -> (ns: UInt64, failures: Int) {
        var best = UInt64.max, failures = 0
        for _ in 0..<passes {
            var tracker = SnapshotTracker(schema: Arena.schema)
            failures = 0
            let start = monotonicNowNs()
            for message in messages {
                var reader = BitReader(message)
                guard case .snapshot(let header)? = try? ServerMessage.read(from: &reader),
                      case .success = tracker.receive(header, from: &reader) else { failures += 1; continue }
            }
            best = min(best, monotonicNowNs() - start)
        }
        return (best, failures)
    }
    let playerMessages = ids.flatMap { sent[$0] ?? [] }
    // One tracker per player: decode each player's stream separately, and add the times up.
    var playerNs: UInt64 = 0, playerFailures = 0
    for id in ids {
        let (ns, failures) = decodeAll(sent[id] ?? [])
        playerNs += ns
        playerFailures += failures
    }
    let spectatorMessages = sent[spectator] ?? []
    let (spectatorNs, spectatorFailures) = decodeAll(spectatorMessages)
    // Many bots in one process: each message goes to every tracker in turn, so each decode finds its bot's worlds
    // as cold in the cache as a swarm does.
    var trackers = [SnapshotTracker](repeating: SnapshotTracker(schema: Arena.schema), count: coldTrackers)
    var coldFailures = 0
    let coldStart = monotonicNowNs()
    for message in spectatorMessages {
        for position in trackers.indices {
            var reader = BitReader(message)
            guard case .snapshot(let header)? = try? ServerMessage.read(from: &reader),
                  case .success = trackers[position].receive(header, from: &reader) else { coldFailures += 1; continue }
        }
    }
    let coldNs = monotonicNowNs() - coldStart
    func perSnapshotUs(_ ns: UInt64, _ count: Int) -> String { format(Double(ns) / 1000 / Double(max(count, 1)), 2) }
    func meanBytes(_ messages: [[UInt8]]) -> String { format(Double(messages.reduce(0) { $0 + $1.count }) / Double(max(messages.count, 1)), 1) }
    print("decode: one room of \(players) scripted players and a spectator, \(seconds) s at \(settings.tickRateHz) Hz, a snapshot every "
          + "\(snapshotEvery) tick(s), acks \(ackDelay) ticks late; best of \(passes) passes")
    print("  a player's view: \(perSnapshotUs(playerNs, playerMessages.count)) µs per snapshot (\(playerMessages.count) snapshots, mean "
          + "\(meanBytes(playerMessages)) bytes, \(playerFailures) not decoded)")
    print("  the whole room (spectator): \(perSnapshotUs(spectatorNs, spectatorMessages.count)) µs per snapshot (\(spectatorMessages.count) "
          + "snapshots, mean \(meanBytes(spectatorMessages)) bytes, \(spectatorFailures) not decoded)")
    print("  the whole room, \(coldTrackers) spectators taking turns (cold caches, as in a swarm): "
          + "\(perSnapshotUs(coldNs, spectatorMessages.count * coldTrackers)) µs per snapshot (\(coldFailures) not decoded)")
}

/// A room of scripted players recorded through the real writer thread into a file: the recorder's cost on the tick
/// (timed around `record`, keyframes included), the file's size per player-minute, and how fast `verify` re-simulates it.
func recordingCost() throws {
    let players = flag("--players", 64), minutes = flag("--minutes", 10)
    let directory = "/tmp/tickwire-bench-recording-\(getpid())"
    let writer = RecordingWriter(settings: RecordingSettings(directory: directory), log: { print("recording: \($0)") })
    let game = Arena(config: ArenaConfig(), seed: 11)
    let room = RoomCore(game: game, settings: RoomSettings(), playersMax: players)
    let header = RecordingHeader(gameName: Arena.name, gameVersion: Arena.version, wireVersion: wireSubprotocol, seed: game.seed, tickRateHz: 60,
                                 snapshotEveryTicks: 1, config: Arena.encodeConfig(game.config), startUnixMs: 0, roomID: "bench",
                                 keyframeEveryTicks: 300)
    guard let recorder = SessionRecorder(header: header, schema: Arena.schema, inputBitCount: Arena.inputBitCount, sink: writer,
                                         flushEveryTicks: 60) else { throw RecordingError.unreadable(path: directory, reason: "cannot open") }
    let ids = (0..<players).compactMap { room.join(name: "bot\($0)") }
    var script = ArenaScript(seed: 3)
    var recordUs: [Double] = [], tickUs: [Double] = []
    var sequence: UInt32 = 0
    for _ in 0..<(minutes * 3600) {
        sequence += 1
        for (player, bits) in script.inputs(for: ids, tick: room.game.tick) {
            room.receiveInput(from: player, sequence: sequence, acknowledgedTick: nil, bits: bits)
        }
        let start = monotonicNowNs()
        let outcome = room.tick()
        let ticked = monotonicNowNs()
        let joins = zip(outcome.joined, outcome.joinedNames).map { TickRecord.Join(player: $0, name: $1) }
        recorder.record(tick: outcome.tick, leaves: outcome.left, joins: joins, inputs: outcome.inputs, stateHash: room.stateHash(),
                        world: { room.game.entityStates() }, state: { room.game.encodeState() })
        let recorded = monotonicNowNs()
        tickUs.append(Double(ticked - start) / 1000)
        recordUs.append(Double(recorded - ticked) / 1000)
    }
    recorder.finish()
    writer.stopAndWait()
    let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
    guard let name = names.first else { throw RecordingError.unreadable(path: directory, reason: "no file") }
    let path = directory + "/" + name
    let loadStart = monotonicNowNs()
    let recording = try RecordingReader.read(path: path, game: Arena.self)
    let verifyStart = monotonicNowNs()
    let divergence = try Replayer<Arena>.verify(recording)
    let verifyEnd = monotonicNowNs()
    let seconds = Double(minutes * 60)
    let verifySeconds = Double(verifyEnd - verifyStart) / 1e9
    print("recording: Arena, \(players) scripted players, \(minutes) min (\(minutes * 3600) ticks at 60 Hz), keyframes every 300 ticks")
    print("  cost on the tick (record call, keyframes included): mean \(format(recordUs.reduce(0, +) / Double(recordUs.count), 2)) µs, "
          + "p50 \(format(percentile(recordUs, 0.5), 2)) p99 \(format(percentile(recordUs, 0.99), 2)) max \(format(recordUs.max() ?? 0)) µs; "
          + "the tick itself p50 \(format(percentile(tickUs, 0.5))) µs")
    print("  size: \(recording.fileBytes) bytes = \(format(Double(recording.fileBytes) / Double(players) / Double(minutes) / 1024, 2)) KiB per player-minute "
          + "(\(recording.keyframes.count) keyframes)")
    print("  read: \(format(Double(verifyStart - loadStart) / 1e6)) ms; verify: \(format(verifySeconds, 2)) s = "
          + "\(format(seconds / verifySeconds)) × real time; \(divergence == nil ? "every tick matches" : "DIVERGED at \(divergence!.tick)")")
    try? FileManager.default.removeItem(atPath: directory)
}

let command = CommandLine.arguments.dropFirst().first ?? "help"
do {
    switch command {
    case "wire": try wireEfficiency()
    case "tick": try tickCost()
    case "record": try recordingCost()
    case "rooms": try smallRoomsCost()
    case "decode": try decodeCost()
    default:
        print("usage: tickwire-bench wire|tick|record|rooms [flags]   (see the top of Sources/TickwireBench/main.swift)")
        exit(command == "help" ? 0 : 2)
    }
} catch {
    print("tickwire-bench: \(error)")
    exit(1)
}
