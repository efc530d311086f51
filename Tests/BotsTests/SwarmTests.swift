import Arena
@testable import Bots
import Engine
import Server
import Foundation
@testable import Reactor
import XCTest

final class SwarmTests: XCTestCase {
    func testASwarmJoinsDecodesEverySnapshotAndLeavesCleanly() throws {
        let server = try startArenaServer(loops: 1, playersPerRoom: 12)
        defer { stop(server) }
        var config = SwarmConfig(target: try XCTUnwrap(BotTarget(url: "ws://127.0.0.1:\(server.boundPort)/rooms/swarm")))
        config.bots = 14  // two more than the room holds
        config.durationNs = 2_500_000_000
        config.rampUpNs = 300_000_000
        config.behaviours = [.wander, .chaser, .shooter, .chatty, .idle]
        var progressLines = 0
        var previous: SwarmSnapshot?
        var lastLine = ""
        let result = try Swarm(config: config).run { now in
            progressLines += 1
            lastLine = SwarmReport.progressLine(now, previous: previous)
            previous = now
        }
        XCTAssertEqual(result.joined, 12)
        XCTAssertEqual(result.kicks, 2, "the room was full for two of them")
        XCTAssertEqual(result.decodeErrors, 0)
        XCTAssertEqual(result.connectFailures, 0)
        XCTAssertGreaterThan(result.snapshots, 12 * 30)
        XCTAssertGreaterThan(result.deliveryRatio, 0.5, "a debug build on a shared machine still delivers most snapshots")
        XCTAssertGreaterThan(result.rttUs.count, 0)
        XCTAssertGreaterThan(result.inputToAckUs.count, 0)
        XCTAssertEqual(result.closesByCode[1000], 12, "every joined bot left cleanly")
        XCTAssertEqual(result.closesByCode[1008], 2)
        XCTAssertGreaterThanOrEqual(progressLines, 2)
        XCTAssertTrue(lastLine.contains("bots 14/14  snapshots ") || lastLine.contains("bots 12/14  snapshots "), lastLine)
        XCTAssertNotNil(lastLine.range(of: #"bots cpu [0-9]+%$"#, options: .regularExpression), lastLine)
        let table = SwarmReport.table(result, config: config)
        XCTAssertTrue(table.contains("connected       12/14 joined, 0 failed to connect"), table)
        XCTAssertTrue(table.contains("decode errors   0"), table)
        // Both ends' CPU and memory: the bots measure themselves, and read the server's /metrics before and after.
        let resources = try XCTUnwrap(result.resources)
        XCTAssertGreaterThan(resources.botsCPUSeconds, 0)
        XCTAssertGreaterThan(resources.botsResidentBytesEnd, 1_000_000)
        XCTAssertEqual(resources.connectedBots, 12)
        guard case .success(let serverFigures) = resources.server else { return XCTFail("no server figures: \(resources.server)") }
        XCTAssertGreaterThan(serverFigures.residentBytesEnd, 1_000_000)
        XCTAssertGreaterThan(resources.serverCPUPercent ?? 0, 0, "the test process, server included, ran rooms for 2.5 s")
        XCTAssertTrue(table.contains("load generator  CPU "), table)
        XCTAssertTrue(table.contains("server          CPU "), table)
        // A Tickwire server's own account of the run: nothing the bots sent failed to decode there.
        let troubles = try XCTUnwrap(serverFigures.troubles)
        XCTAssertEqual(troubles[.decodeErrors], 0)
        XCTAssertEqual(Set(troubles.keys), Set(SwarmResources.Trouble.allCases))
        XCTAssertTrue(table.contains("it counted during the run: "), table)
        XCTAssertTrue(table.contains(" 0 messages it could not decode"), table)
    }

    func testSpectatorsAcknowledgeInBatchesThatRideOnTheNextSnapshot() throws {
        let server = try startArenaServer(loops: 1, playersPerRoom: 4)
        defer { stop(server) }
        let url = "ws://127.0.0.1:\(server.boundPort)/rooms/watched"
        var players = SwarmConfig(target: try XCTUnwrap(BotTarget(url: url)))
        players.bots = 2
        players.durationNs = 3_000_000_000
        var spectators = SwarmConfig(target: try XCTUnwrap(BotTarget(url: url)))
        spectators.bots = 4
        spectators.spectate = true
        spectators.inputBatch = 12  // 5 writes a second at 60 Hz, each held for the next snapshot
        spectators.durationNs = 2_500_000_000
        let playersDone = DispatchSemaphore(value: 0)
        Thread { [players] in
            _ = try? Swarm(config: players).run()
            playersDone.signal()
        }.start()
        Thread.sleep(forTimeInterval: 0.3)
        let result = try Swarm(config: spectators).run()
        XCTAssertEqual(playersDone.wait(timeout: .now() + 10), .success, "the players' swarm ends on its own")
        XCTAssertEqual(result.joined, 4)
        XCTAssertEqual(result.decodeErrors, 0)
        XCTAssertGreaterThan(result.snapshots, 4 * 20)
        // Every tick's input goes out, twelve to a write; the acknowledgements they carry let the server send deltas.
        XCTAssertGreaterThan(result.inputsSent, 4 * 60, "each spectator sends a neutral input for every tick")
        XCTAssertLessThanOrEqual(result.writes, result.inputsSent / 12 + 4 * 3, "a write carries a whole batch (plus join and leave)")
        XCTAssertGreaterThan(result.deltaSnapshots, result.snapshots / 2, "acknowledged baselines: most snapshots are deltas")
        // A snapshot arrives every 50 ms and a batch falls due every 200 ms: almost every batch waits for one.
        XCTAssertGreaterThan(result.batchesBeforeReads, result.inputsSent / 12 / 2, "batches leave just before a snapshot is read")
    }

    func testWithoutAServerTheReportSaysWhyThereAreNoServerFigures() throws {
        // A port nothing listens on: bind one, note it, close it.
        var probeConfig = ServerConfig()
        probeConfig.port = 0
        let probe = try TickwireServer(config: probeConfig, logger: Logger(sink: { _ in }))
        try probe.start()
        let port = probe.boundPort
        stop(probe)
        var config = SwarmConfig(target: try XCTUnwrap(BotTarget(url: "ws://127.0.0.1:\(port)/rooms/none")))
        config.bots = 2
        config.durationNs = 300_000_000
        let result = try Swarm(config: config).run()
        XCTAssertEqual(result.connectFailures, 2)
        let resources = try XCTUnwrap(result.resources)
        XCTAssertEqual(resources.server, .failure(.request(.connect(errno: ECONNREFUSED))))
        XCTAssertTrue(SwarmReport.table(result, config: config).contains("server          – (no process figures from http://127.0.0.1:\(port)/metrics"))
        // With the read turned off, nothing is asked and the report says so.
        config.serverMetricsTimeoutNs = 0
        let unasked = try Swarm(config: config).run()
        XCTAssertEqual(unasked.resources?.server, .failure(.notRequested))
        XCTAssertTrue(SwarmReport.table(unasked, config: config).contains("not read (--metrics-timeout 0s)"))
    }

    func testARealMetricsPageIsReadWholeAndALimitBelowItsSizeRefusesIt() throws {
        let server = try startArenaServer(loops: 1, playersPerRoom: 4)
        defer { stop(server) }
        let whole = try BlockingHTTPGet.get(host: "127.0.0.1", port: server.boundPort, path: "/metrics").get()
        XCTAssertEqual(whole.status, 200)
        XCTAssertNotNil(PrometheusText.unlabeledSamples(String(decoding: whole.body, as: UTF8.self))["process_resident_memory_bytes"])
        let limited = BlockingHTTPGet.get(host: "127.0.0.1", port: server.boundPort, path: "/metrics", responseBytesMax: 256)
        XCTAssertEqual(limited.map(\.status), .failure(.tooLarge))
    }

    func testPrometheusTextGivesUnlabeledSamplesAndSkipsTheRest() {
        let text = """
        # HELP process_cpu_seconds_total CPU.
        # TYPE process_cpu_seconds_total counter
        process_cpu_seconds_total 12.5
        process_resident_memory_bytes 1.5e+08 1700000000000
        tickwire_websocket_closes_total{code="1000"} 3
        not a sample line
        bad-name 1
        nan_value NaN
        huge_value 1e300
        tickwire_inputs_dropped_total -9e18
        empty_value
        """
        let samples = PrometheusText.unlabeledSamples(text + "\r\n")
        XCTAssertEqual(samples, ["process_cpu_seconds_total": 12.5, "process_resident_memory_bytes": 150_000_000])
        XCTAssertEqual(PrometheusText.unlabeledSamples(""), [:])
    }

    func testAnHTTPResponseIsCompleteAtItsContentLengthOrAtTheEnd() throws {
        func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }
        let head = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n"
        XCTAssertNil(BlockingHTTPGet.completeResponse(bytes(head + "abc")), "two bytes short")
        let whole = try XCTUnwrap(BlockingHTTPGet.completeResponse(bytes(head + "abcdeEXTRA"))).get()
        XCTAssertEqual(whole.status, 200)
        XCTAssertEqual(whole.body, bytes("abcde"))
        XCTAssertEqual(BlockingHTTPGet.completeResponse(bytes(head + "abc"), atEnd: true)?.map(\.status), .failure(.malformedResponse))
        let unsized = "HTTP/1.1 404 Not Found\r\nConnection: close\r\n\r\nnope"
        XCTAssertNil(BlockingHTTPGet.completeResponse(bytes(unsized)), "without a length, the end of the stream ends it")
        XCTAssertEqual(try XCTUnwrap(BlockingHTTPGet.completeResponse(bytes(unsized), atEnd: true)).get().body, bytes("nope"))
        XCTAssertEqual(BlockingHTTPGet.completeResponse(bytes("garbage\r\n\r\n"))?.map(\.status), .failure(.malformedResponse))
        XCTAssertEqual(BlockingHTTPGet.completeResponse(bytes("HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n"))?.map(\.status),
                       .failure(.malformedResponse))
        XCTAssertEqual(BlockingHTTPGet.completeResponse(bytes("HTTP/1.1 200"), atEnd: true)?.map(\.status), .failure(.malformedResponse))
    }

    func testFlagsParseAndRefuseMistakes() throws {
        let config = try BotsFlags.parse(["--url", "ws://localhost:9000/rooms/x", "--bots", "500", "--duration", "90s", "--ramp-up=500ms",
                                          "--behaviour", "chaser,idle", "--threads", "2"])
        XCTAssertEqual(config.target, BotTarget(url: "ws://127.0.0.1:9000/rooms/x"))
        XCTAssertEqual(config.bots, 500)
        XCTAssertEqual(config.durationNs, 90_000_000_000)
        XCTAssertEqual(config.rampUpNs, 500_000_000)
        XCTAssertEqual(config.behaviours, [.chaser, .idle])
        XCTAssertEqual(config.threads, 2)
        XCTAssertThrowsError(try BotsFlags.parse(["--bots", "3"]))
        XCTAssertThrowsError(try BotsFlags.parse(["--url", "http://x:1/"]))
        XCTAssertThrowsError(try BotsFlags.parse(["--url", "ws://127.0.0.1:1/r", "--behaviour", "dance"]))
        XCTAssertEqual(BotsFlags.durationNs("2m"), 120_000_000_000)
        XCTAssertNil(BotsFlags.durationNs("soon"))
    }
}

final class ScenarioTests: XCTestCase {
    func testScenarioConfiguresTheSwarmAndNamesBrokenThresholds() throws {
        let server = try startArenaServer(loops: 2, playersPerRoom: 64)
        defer { stop(server) }
        let path = NSTemporaryDirectory() + "tickwire-scenario-\(getpid()).json"
        try """
        {"bots": 6, "rooms": 2, "duration": "1500ms", "behaviours": ["wander", "idle"],
         "thresholds": {"decodeErrorsMax": 0, "joinedRatioMin": 1.0, "kicksMax": 0, "rttMsP99Max": 0.0,
                        "loadGeneratorCpuPercentMax": 400, "serverCpuPercentMax": 0.0}}
        """.write(toFile: path, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: path) }
        let command = try BotsFlags.parseCommand(["--url", "ws://127.0.0.1:\(server.boundPort)/rooms/sc", "--scenario", path, "--json", "/dev/null"])
        XCTAssertEqual(command.config.bots, 6)
        XCTAssertEqual(command.config.rooms, 2)
        XCTAssertEqual(command.config.behaviours, [.wander, .idle])
        XCTAssertEqual(command.jsonPath, "/dev/null")
        let result = try Swarm(config: command.config).run()
        XCTAssertEqual(Set(server.roomDirectory.summaries().map(\.id)), ["sc-0", "sc-1"], "bots were spread over two rooms")
        let checks = try XCTUnwrap(command.scenario).evaluate(result)
        XCTAssertEqual(checks.filter { !$0.held }.map { $0.line.split(separator: " ")[0] }, ["rttMsP99Max", "serverCpuPercentMax"],
                       "the server ran rooms, so it used some CPU: \(checks)")
        XCTAssertEqual(checks.count, 6)
        XCTAssertTrue(result.json(config: command.config).contains("\"joined\" : 6"))
    }
}

/// An in-process server on a free loopback port hosting Arena rooms, for swarm tests.
func startArenaServer(loops: Int, playersPerRoom: Int) throws -> TickwireServer {
    var config = ServerConfig()
    config.port = 0
    config.loopCount = loops
    config.roomLimits.playersMax = playersPerRoom
    config.shutdownGraceNs = 200_000_000
    let server = try TickwireServer(config: config, logger: Logger(sink: { _ in }),
                                    rooms: RoomHosting { Room(game: Arena(config: ArenaConfig(), seed: 1), context: $0) })
    try server.start()
    return server
}

func stop(_ server: TickwireServer) {
    server.shutdown()
    server.waitUntilStopped()
}
