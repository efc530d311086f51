import Arena
import Bots
import Foundation
import Replay
import Server
import XCTest

/// Recordings made by a real server with bots on real sockets.
final class RecordingEndToEndTests: XCTestCase {
    private func recordings(in directory: String) -> [String] { recordingNames(in: directory).map { directory + "/" + $0 } }

    func testABotSessionOverRealSocketsIsRecordedAndVerifies() throws {
        let directory = temporaryRecordingDirectory()
        var config = ServerConfig()
        config.port = 0
        config.loopCount = 2
        config.recordDirectory = directory
        config.recordingLimits.keyframeEveryTicks = 60
        config.shutdownGraceNs = 200_000_000
        let server = try TickwireServer(config: config, logger: Logger(sink: { _ in }),
                                        rooms: RoomHosting { Room(game: Arena(config: ArenaConfig(), seed: UInt64.random(in: 0...UInt64.max)), context: $0) })
        try server.start()
        var swarm = SwarmConfig(target: try XCTUnwrap(BotTarget(url: "ws://127.0.0.1:\(server.boundPort)/rooms/recorded")))
        swarm.bots = 8
        swarm.durationNs = 2_500_000_000
        swarm.behaviours = [.wander, .chaser, .shooter, .chatty]
        swarm.churnPercentPerMinute = 600
        let result = try Swarm(config: swarm).run()
        XCTAssertEqual(result.decodeErrors, 0)
        server.shutdown()
        server.waitUntilStopped()
        let files = recordings(in: directory)
        XCTAssertEqual(files.count, 1)
        let recording = try RecordingReader.read(path: try XCTUnwrap(files.first), game: Arena.self)
        XCTAssertEqual(recording.ending, .clean, "the drain finished the recording")
        XCTAssertEqual(recording.header.roomID, "recorded")
        XCTAssertGreaterThan(recording.ticks.count, 120)
        XCTAssertGreaterThanOrEqual(recording.playerCount, 8)
        XCTAssertFalse(recording.keyframes.isEmpty)
        XCTAssertNil(try Replayer<Arena>.verify(recording))
    }

    func testKillingTheServerLeavesARecordingThatRecoversAndVerifies() throws {
        let binary = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/debug/tickwire").path
        try XCTSkipUnless(FileManager.default.isExecutableFile(atPath: binary), "needs the debug tickwire binary (swift build)")
        let directory = temporaryRecordingDirectory()
        let process = Process()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["serve", "--host", "127.0.0.1", "--port", "0", "--loops", "1", "--record", directory]
        let errors = Pipe()
        process.standardError = errors
        try process.run()
        addTeardownBlock { if process.isRunning { kill(process.processIdentifier, SIGKILL) } }
        // The port from the start-up line (at most 20 s).
        var log = ""
        var port: UInt16?
        let deadline = Date().addingTimeInterval(20)
        while port == nil, Date() < deadline {
            log += String(decoding: errors.fileHandleForReading.availableData, as: UTF8.self)
            if let range = log.range(of: "listening on http://127.0.0.1:") {
                port = UInt16(log[range.upperBound...].prefix { $0.isNumber })
            }
        }
        let boundPort = try XCTUnwrap(port, log)
        var swarm = SwarmConfig(target: try XCTUnwrap(BotTarget(url: "ws://127.0.0.1:\(boundPort)/rooms/killed")))
        swarm.bots = 6
        swarm.durationNs = 3_200_000_000
        swarm.threads = 1
        let killer = Thread {
            usleep(3_000_000)
            kill(process.processIdentifier, SIGKILL)
        }
        killer.start()
        _ = try Swarm(config: swarm).run()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationReason, .uncaughtSignal)
        let files = recordings(in: directory)
        XCTAssertEqual(files.count, 1)
        let recording = try RecordingReader.read(path: try XCTUnwrap(files.first), game: Arena.self)
        guard case .recovered = recording.ending else { return XCTFail("expected a recovered recording, got \(recording.ending)") }
        // Chunks are sealed every second: at most about a second is lost.
        XCTAssertGreaterThanOrEqual(recording.ticks.count, 60, "at least the first whole second was flushed")
        XCTAssertNil(try Replayer<Arena>.verify(recording))
    }
}
