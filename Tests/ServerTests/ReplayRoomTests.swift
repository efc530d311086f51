import Arena
import Engine
import Reactor
import Replay
import Server
import Synchronization
import Wire
import XCTest

/// A sink that keeps one recording in memory.
private final class OneFileSink: RecordingSink, @unchecked Sendable {
    let bytes = Mutex<[UInt8]>([])
    func open(roomID: String, startUnixMs: UInt64) -> RecordingFileID? { RecordingFileID(raw: 1) }
    func append(_ more: [UInt8], to file: RecordingFileID) { bytes.withLock { $0 += more } }
    func close(_ file: RecordingFileID) {}
}

/// `tickwire replay FILE --serve`: a recording played back as a room, with playback commands in the chat.
final class ReplayRoomTests: RoomEndToEndTestsBase {
    private var recording: Recording!

    /// 600 ticks of four scripted players, recorded the way `Room` records.
    private func makeRecording() throws -> Recording {
        let game = Arena(config: ArenaConfig(), seed: 8)
        let core = RoomCore(game: game, settings: RoomSettings())
        let sink = OneFileSink()
        let header = RecordingHeader(gameName: Arena.name, gameVersion: Arena.version, wireVersion: wireSubprotocol, seed: 8, tickRateHz: 60,
                                     snapshotEveryTicks: 1, config: Arena.encodeConfig(game.config), startUnixMs: 0, roomID: "r",
                                     keyframeEveryTicks: 300)
        let recorder = try XCTUnwrap(SessionRecorder(header: header, schema: Arena.schema, inputBitCount: Arena.inputBitCount, sink: sink,
                                                     flushEveryTicks: 60))
        let players = (0..<4).compactMap { core.join(name: "p\($0)") }
        var script = ArenaScript(seed: 2)
        for tick in 0..<600 {
            for (player, bits) in script.inputs(for: players, tick: core.game.tick) {
                _ = core.receiveInput(from: player, sequence: UInt32(tick + 1), acknowledgedTick: nil, bits: bits)
            }
            let outcome = core.tick()
            recorder.record(tick: outcome.tick, leaves: outcome.left,
                            joins: zip(outcome.joined, outcome.joinedNames).map { TickRecord.Join(player: $0, name: $1) },
                            inputs: outcome.inputs, stateHash: core.stateHash(), world: { core.game.entityStates() },
                            state: { core.game.encodeState() })
        }
        recorder.finish()
        return try RecordingReader.parse(sink.bytes.withLock { $0 }, game: Arena.self)
    }

    override func setUpWithError() throws {
        recording = try makeRecording()
        var config = ServerConfig()
        config.port = 0
        config.loopCount = 1
        config.shutdownGraceNs = 200_000_000
        config.roomLimits.emptyCloseNs = 400_000_000
        let replayer = try Replayer<Arena>(recording: recording)
        let start = UncheckedReplayer(replayer: replayer)
        server = try TickwireServer(config: config, logger: Logger(peerLinesPerSecondMax: 1000, peerLinesPerAddressPerSecondMax: 1000, sink: log.sink),
                                    rooms: RoomHosting { ReplayRoom(replayer: start.replayer, context: $0) })
        try server.start()
        clientLoops = try EventLoopGroup(count: 1)
        try clientLoops.start()
    }

    func testAWatcherSeesTheRecordedWorldAndControlsPlayback() throws {
        let (client, channel) = try joinedClient("replay", name: "viewer")
        XCTAssertTrue(eventually { client.state.withLock { $0.snapshotCount } > 10 })
        XCTAssertTrue(client.state.withLock { $0.entities.filter { $0.kind == 0 }.count } == 4, "the four recorded players")
        XCTAssertTrue(client.state.withLock { $0.chats.first ?? "" }.contains("commands: /play, /pause"))
        send(.chat(text: "/pause"), on: channel)
        XCTAssertTrue(eventually { client.state.withLock { $0.chats.last ?? "" }.hasSuffix("· paused") })
        send(.chat(text: "/seek 450"), on: channel)
        XCTAssertTrue(eventually { client.state.withLock { $0.chats.contains { $0.contains("tick 450 of 600") } } })
        // The world shown after the seek is the recorded world at 450.
        var replayer = try Replayer<Arena>(recording: recording)
        replayer.advance(to: 450)
        XCTAssertTrue(eventually { client.state.withLock { $0.entities } == replayer.game.entityStates() })
        send(.chat(text: "/speed 99"), on: channel)
        XCTAssertTrue(eventually { client.state.withLock { $0.chats.contains("replay: speed: 0.25 to 16") } }, "a bad speed is answered")
        send(.chat(text: "/speed 16"), on: channel)
        send(.chat(text: "/play"), on: channel)
        XCTAssertTrue(eventually { client.state.withLock { $0.chats.contains { $0.contains("the end of the recording") } } }, "16× reaches the end")
        XCTAssertEqual(client.state.withLock { $0.decodeErrors }, [])
    }
}

private struct UncheckedReplayer: @unchecked Sendable {
    let replayer: Replayer<Arena>
}

extension ReplayRoomTests {
    func testAReplayRoomClosesOnceNobodyWatchesAndItsCommandsAreRateLimited() throws {
        let (client, channel) = try joinedClient("replay", name: "viewer")
        XCTAssertTrue(eventually { client.state.withLock { $0.snapshotCount } > 2 })
        for _ in 0..<30 { send(.chat(text: "/pause"), on: channel) }
        XCTAssertTrue(eventually { self.server.defences.total(.replayCommandOverRate) >= 20 }, "\(server.defences.total(.replayCommandOverRate))")
        send(.leave, on: channel)
        XCTAssertTrue(eventually(5) { self.server.roomDirectory.summaries().isEmpty }, "the room closed once empty")
    }
}
