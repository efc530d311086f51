import Arena
import Engine
@testable import Replay
import Server
import Synchronization
import Wire
import XCTest

/// A sink that keeps recordings in memory.
final class MemorySink: RecordingSink, @unchecked Sendable {
    private let files = Mutex<[Int: [UInt8]]>([:])
    private let next = Atomic<Int>(1)
    func open(roomID: String, startUnixMs: UInt64) -> RecordingFileID? {
        let id = next.wrappingAdd(1, ordering: .relaxed).oldValue
        files.withLock { $0[id] = [] }
        return RecordingFileID(raw: id)
    }
    func append(_ bytes: [UInt8], to file: RecordingFileID) { files.withLock { $0[file.raw, default: []].append(contentsOf: bytes) } }
    func close(_ file: RecordingFileID) {}
    func bytes(of file: Int = 1) -> [UInt8] { files.withLock { $0[file] ?? [] } }
}

/// Drives a RoomCore<Arena> with scripted players (no sockets) and records it the way `Room` does.
struct RecordedSession {
    let sink = MemorySink()
    var liveWorlds: [UInt32: [EntityState]] = [:]

    /// Runs `ticks` ticks with `players` scripted players (some join late, one leaves), recording every tick; keeps
    /// the live world at `captureTicks`.
    static func run(ticks: Int, players: Int, keyframeEveryTicks: Int = 120, captureTicks: Set<UInt32> = []) -> RecordedSession {
        var session = RecordedSession()
        let game = Arena(config: ArenaConfig(), seed: 42)
        let core = RoomCore(game: game, settings: RoomSettings(), playersMax: 64)
        let header = RecordingHeader(gameName: Arena.name, gameVersion: Arena.version, wireVersion: wireSubprotocol, seed: game.seed,
                                     tickRateHz: 60, snapshotEveryTicks: 1, config: Arena.encodeConfig(game.config), startUnixMs: 0,
                                     roomID: "test", keyframeEveryTicks: keyframeEveryTicks)
        let recorder = SessionRecorder(header: header, schema: Arena.schema, inputBitCount: Arena.inputBitCount, sink: session.sink,
                                       flushEveryTicks: 60)!
        var joined: [PlayerID] = []
        var random = DeterministicRandom(seed: 7)
        var sequence: UInt32 = 0
        for tick in 0..<ticks {
            if joined.count < players, tick % 5 == 0, let player = core.join(name: "p\(joined.count)") { joined.append(player) }
            if tick == ticks / 2, let first = joined.first {
                core.leave(first)
                joined.removeFirst()
            }
            sequence += 1
            for (position, player) in joined.enumerated() where (tick / 20 + position) % 3 != 0 {  // inputs change now and then
                let input = ArenaInput(up: random.nextInt(below: 2) == 0, right: true, shoot: tick % 40 < 5,
                                       aim: BinaryAngle(raw: UInt16((tick / 30) * 4096 % 65536)))
                _ = core.receiveInput(from: player, sequence: sequence, acknowledgedTick: nil, bits: input.bits)
            }
            if tick % 90 == 7, let talker = joined.last { recorder.chat(from: talker, text: "hello at \(tick)") }
            let outcome = core.tick()
            let joins = zip(outcome.joined, outcome.joinedNames).map { TickRecord.Join(player: $0, name: $1) }
            recorder.record(tick: outcome.tick, leaves: outcome.left, joins: joins, inputs: outcome.inputs, stateHash: core.stateHash(),
                            world: { core.game.entityStates() },
                            state: { core.game.encodeState() })
            if captureTicks.contains(outcome.tick) { session.liveWorlds[outcome.tick] = core.game.entityStates() }
        }
        recorder.finish()
        return session
    }
}

final class RecordingTests: XCTestCase {
    func testARecordedSessionVerifiesTickForTick() throws {
        let session = RecordedSession.run(ticks: 600, players: 12)
        let recording = try RecordingReader.parse(session.sink.bytes(), game: Arena.self)
        XCTAssertEqual(recording.ending, .clean)
        XCTAssertEqual(recording.ticks.count, 600)
        XCTAssertEqual(recording.ticks.first?.tick, 1)
        XCTAssertEqual(recording.keyframes.map(\.tick), [120, 240, 360, 480, 600])
        XCTAssertEqual(recording.playerCount, 13, "12, and one more after the first left")
        XCTAssertEqual(recording.ticks.reduce(0) { $0 + $1.chat.count }, 7)
        XCTAssertNil(try Replayer<Arena>.verify(recording))
    }

    func testTheWorldDumpedAtATickEqualsTheLiveWorld() throws {
        let session = RecordedSession.run(ticks: 400, players: 10, captureTicks: [1, 137, 400])
        let recording = try RecordingReader.parse(session.sink.bytes(), game: Arena.self)
        for tick in [UInt32(1), 137, 400] {
            var replayer = try Replayer<Arena>(recording: recording)
            replayer.advance(to: tick)
            XCTAssertEqual(replayer.game.tick, tick)
            XCTAssertEqual(replayer.game.entityStates(), session.liveWorlds[tick], "tick \(tick)")
        }
        var replayer = try Replayer<Arena>(recording: recording)
        replayer.advance(to: 137)
        let json = WorldDiff.json(tick: 137, stateHash: replayer.game.stateHash(), entities: replayer.game.entityStates(), schema: Arena.schema)
        let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
        XCTAssertEqual(parsed?["tick"] as? Int, 137)
        XCTAssertEqual((parsed?["entities"] as? [[String: Any]])?.count, session.liveWorlds[137]?.count)
    }

    func testAChangedInputIsReportedAtTheExactTickWithAFieldDiff() throws {
        let session = RecordedSession.run(ticks: 300, players: 6)
        var recording = try RecordingReader.parse(session.sink.bytes(), game: Arena.self)
        let target = 214  // tick 215: nobody is shooting then; make one player fire, so a projectile exists only in the re-simulation
        XCTAssertFalse(recording.ticks[target].inputs.isEmpty)
        var changed = ArenaInput(recording.ticks[target].inputs[0].input)
        XCTAssertFalse(changed.shoot)
        changed.shoot = true
        recording.ticks[target].inputs[0].input = changed.bits
        let divergence = try XCTUnwrap(try Replayer<Arena>.verify(recording))
        XCTAssertEqual(divergence.tick, recording.ticks[target].tick)
        XCTAssertEqual(divergence.comparedAtTick, 240)
        XCTAssertTrue(divergence.differences.contains { $0.hasPrefix("projectile ") && $0.hasSuffix("only in the re-simulation") },
                      "\(divergence.differences)")
    }

    func testAFlippedByteIsACorruptChunkAtItsOffset() throws {
        let bytes = RecordedSession.run(ticks: 240, players: 4).sink.bytes()
        let (_, firstChunk) = try RecordingHeader.decode(bytes)
        var flipped = bytes
        flipped[firstChunk + RecordingFormat.chunkHeaderBytes + 20] ^= 0x10
        let recording = try RecordingReader.parse(flipped, game: Arena.self)
        XCTAssertEqual(recording.ending, .corrupt(.corruptChunk(offset: firstChunk, reason: "checksum mismatch")))
        XCTAssertTrue(recording.ticks.isEmpty, "nothing after the damage is trusted")
        var headerFlipped = bytes
        headerFlipped[20] ^= 0x01
        XCTAssertThrowsError(try RecordingReader.parse(headerFlipped, game: Arena.self))
    }

    func testATornTailIsRecoveredUpToTheLastWholeChunk() throws {
        let bytes = RecordedSession.run(ticks: 300, players: 5, keyframeEveryTicks: 1000).sink.bytes()
        // Cut in the middle of the third ticks chunk (each holds 60 ticks).
        var offset = try RecordingHeader.decode(bytes).1
        var chunkStarts: [Int] = []
        while offset < bytes.count {
            chunkStarts.append(offset)
            let length = Int(bytes[offset + 1]) | Int(bytes[offset + 2]) << 8 | Int(bytes[offset + 3]) << 16 | Int(bytes[offset + 4]) << 24
            offset += RecordingFormat.chunkHeaderBytes + length
        }
        let cut = Array(bytes[..<(chunkStarts[2] + 30)])
        let recording = try RecordingReader.parse(cut, game: Arena.self)
        XCTAssertEqual(recording.ending, .recovered(tornBytes: 30))
        XCTAssertEqual(recording.ticks.count, 120)
        XCTAssertNil(try Replayer<Arena>.verify(recording))
        for length in stride(from: 0, to: bytes.count, by: 97) {  // every prefix reads without trapping
            _ = try? RecordingReader.parse(Array(bytes[..<length]), game: Arena.self)
        }
    }

    func testARecordingOfAnotherGameVersionIsRefusedSayingWhichItNeeds() throws {
        var header = try RecordingHeader.decode(RecordedSession.run(ticks: 10, players: 1).sink.bytes()).0
        header.gameVersion = Arena.version + 1
        XCTAssertThrowsError(try RecordingReader.parse(header.encoded(), game: Arena.self)) { error in
            XCTAssertEqual(error as? RecordingError, .wrongGameVersion(game: "arena", found: Arena.version + 1, expected: Arena.version))
            XCTAssertTrue("\(error)".contains("replay it with a tickwire built with arena version \(Arena.version + 1)"))
        }
        var file = header.encoded()
        file[8] = 9  // format version
        XCTAssertThrowsError(try RecordingReader.parse(file, game: Arena.self)) { error in
            XCTAssertEqual(error as? RecordingError, .unsupportedFormatVersion(found: 9, supported: 1))
        }
        XCTAssertThrowsError(try RecordingReader.parse(Array("hello".utf8), game: Arena.self))
    }

    func testRandomBytesNeverTrapTheReader() throws {
        let bytes = RecordedSession.run(ticks: 120, players: 3).sink.bytes()
        var random = DeterministicRandom(seed: 99)
        for _ in 0..<300 {
            var damaged = bytes
            for _ in 0..<4 { damaged[random.nextInt(below: damaged.count)] = UInt8(random.nextInt(below: 256)) }
            if let recording = try? RecordingReader.parse(damaged, game: Arena.self) { _ = try? Replayer<Arena>.verify(recording) }
        }
    }

    func testARepeatedInputCostsAboutABit() throws {
        // 40 players that never change input: per tick, one bit each, the hash (64 bits) and two flags.
        let game = Arena(config: ArenaConfig(), seed: 1)
        let sink = MemorySink()
        let header = RecordingHeader(gameName: Arena.name, gameVersion: Arena.version, wireVersion: wireSubprotocol, seed: 1, tickRateHz: 60,
                                     snapshotEveryTicks: 1, config: Arena.encodeConfig(game.config), startUnixMs: 0, roomID: "r",
                                     keyframeEveryTicks: 1_000_000)
        let recorder = SessionRecorder(header: header, schema: Arena.schema, inputBitCount: Arena.inputBitCount, sink: sink, flushEveryTicks: 60)!
        let players = (1...40).map { PlayerID(raw: UInt16($0)) }
        let input = ArenaInput(up: true, aim: BinaryAngle(raw: 100)).bits
        recorder.record(tick: 1, leaves: [], joins: players.map { TickRecord.Join(player: $0, name: "n") }, inputs: players.map { ($0, input) },
                        stateHash: 1, world: { [] })
        let before = sink.bytes().count
        for tick in 2...601 { recorder.record(tick: UInt32(tick), leaves: [], joins: [], inputs: players.map { ($0, input) }, stateHash: UInt64(tick), world: { [] }) }
        recorder.finish()
        let bitsPerTick = Double(sink.bytes().count - before) * 8 / 600
        XCTAssertLessThan(bitsPerTick, 40 + 64 + 2 + 8, "\(bitsPerTick) bits per tick")
    }

    func testSeekingRestoresTheNearestKeyframeAndMatchesTheLiveWorld() throws {
        let session = RecordedSession.run(ticks: 600, players: 8, captureTicks: [100, 333, 599])
        let recording = try RecordingReader.parse(session.sink.bytes(), game: Arena.self)
        XCTAssertTrue(recording.keyframes.allSatisfy { !$0.state.isEmpty })
        var replayer = try Replayer<Arena>(recording: recording)
        XCTAssertEqual(replayer.seek(to: 333), 240, "restored from the keyframe at 240, then 93 ticks re-simulated")
        XCTAssertEqual(replayer.game.entityStates(), session.liveWorlds[333])
        XCTAssertEqual(replayer.seek(to: 100), nil, "back before the first keyframe: from the seed")
        XCTAssertEqual(replayer.game.entityStates(), session.liveWorlds[100])
        XCTAssertEqual(replayer.seek(to: 599), 480)
        XCTAssertEqual(replayer.game.entityStates(), session.liveWorlds[599])
        // After a restore, stepping on reproduces every recorded hash.
        var fromKeyframe = try Replayer<Arena>(recording: recording)
        fromKeyframe.seek(to: 360)
        while let (record, hash) = fromKeyframe.step() { XCTAssertEqual(hash, record.stateHash, "tick \(record.tick)") }
    }

    func testArenaStateRoundTripsAndHostileStateIsRefused() {
        var game = Arena(config: ArenaConfig(), seed: 5)
        let players = (1...12).map { PlayerID(raw: UInt16($0)) }
        for player in players { _ = game.join(player, name: "p\(player.raw)") }
        var script = ArenaScript(seed: 4)
        for _ in 0..<700 { game.step(inputs: script.inputs(for: players, tick: game.tick)) }
        game.leave(players[3])
        let state = game.encodeState()
        guard var restored = Arena.restore(state: state, config: game.config) else { return XCTFail("did not restore") }
        XCTAssertEqual(restored.stateHash(), game.stateHash())
        XCTAssertEqual(restored.encodeState(), state)
        var replayScript = script
        for _ in 0..<400 {
            let survivors = players.filter { $0 != players[3] }
            game.step(inputs: script.inputs(for: survivors, tick: game.tick))
            restored.step(inputs: replayScript.inputs(for: survivors, tick: restored.tick))
            XCTAssertEqual(restored.stateHash(), game.stateHash())
        }
        XCTAssertNotNil(restored.join(PlayerID(raw: 99), name: "late"))
        XCTAssertNotNil(game.join(PlayerID(raw: 99), name: "late"))
        XCTAssertEqual(restored.stateHash(), game.stateHash(), "the free list hands out the same slots")
        XCTAssertNil(Arena.restore(state: Array(state.dropLast(3)), config: game.config))
        XCTAssertNil(Arena.restore(state: [], config: game.config))
        var random = DeterministicRandom(seed: 3)
        for _ in 0..<200 {
            var damaged = state
            for _ in 0..<3 { damaged[random.nextInt(below: damaged.count)] = UInt8(random.nextInt(below: 256)) }
            _ = Arena.restore(state: damaged, config: game.config)  // a value or nil, never a trap
        }
    }

    func testArenaSettingsRoundTripAndHostileOnesAreRefused() {
        let config = ArenaConfig.sized(forPlayers: 5000)
        XCTAssertEqual(Arena.decodeConfig(Arena.encodeConfig(config)), config)
        var huge = Arena.encodeConfig(config)
        huge[3 * 8 + 3] = 0x7F  // playersMax enormous
        XCTAssertNil(Arena.decodeConfig(huge))
        XCTAssertNil(Arena.decodeConfig([1, 2, 3]))
    }

    func testSettingsThatWouldTrapTheSimulationAreRefused() {
        var zeroRadius = ArenaConfig()
        zeroRadius.playerRadius = 0
        XCTAssertNil(Arena.decodeConfig(Arena.encodeConfig(zeroRadius)), "a zero radius makes an empty spatial grid cell")
        var tiny = ArenaConfig()
        tiny.worldWidth = 50
        XCTAssertNil(Arena.decodeConfig(Arena.encodeConfig(tiny)), "walls and spawn points would draw from inverted ranges")
        var hugePlayers = ArenaConfig()
        hugePlayers.worldHeight = 500
        hugePlayers.playerRadius = 200
        XCTAssertNil(Arena.decodeConfig(Arena.encodeConfig(hugePlayers)))
        XCTAssertNotNil(Arena.decodeConfig(Arena.encodeConfig(ArenaConfig())))
    }

    func testARestoredStateWithThingsOutsideTheWorldIsRefused() throws {
        var arena = Arena(config: ArenaConfig(), seed: 9)
        _ = arena.join(PlayerID(raw: 1), name: "a")
        arena.step(inputs: [(PlayerID(raw: 1), .neutral)])
        XCTAssertNotNil(Arena.restore(state: arena.encodeState(), config: arena.config))
        var smaller = arena.config
        smaller.worldWidth = 460
        smaller.worldHeight = 460
        smaller.obstacleCount = 0
        XCTAssertNil(Arena.restore(state: arena.encodeState(), config: smaller), "walls and players of a larger world")
    }

    func testDecodingStopsAtTheMemoryLimitLikeACorruptChunkKeepingWhatCameBefore() throws {
        let session = RecordedSession.run(ticks: 600, players: 8)
        let whole = try RecordingReader.parse(session.sink.bytes(), game: Arena.self)
        XCTAssertEqual(whole.ticks.count, 600)
        let limited = try RecordingReader.parse(session.sink.bytes(), game: Arena.self, decodedBytesMax: 64 * 1024)
        XCTAssertLessThan(limited.ticks.count, 600)
        guard case .corrupt(let error) = limited.ending else { return XCTFail("\(limited.ending)") }
        XCTAssertTrue("\(error)".contains("memory limit"), "\(error)")
    }
}
