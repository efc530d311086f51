import Arena
@testable import Bots
import Engine
import Foundation
import Server
import XCTest

/// Churn, the link conditioner, input batching and the HTML report, against a real server.
final class SwarmConditionsTests: XCTestCase {
    /// A swarm of `bots` against room `room` of `server`.
    private func swarm(against server: TickwireServer, room: String, bots: Int, durationNs: UInt64) throws -> SwarmConfig {
        var config = SwarmConfig(target: try XCTUnwrap(BotTarget(url: "ws://127.0.0.1:\(server.boundPort)/rooms/\(room)")))
        config.bots = bots
        config.durationNs = durationNs
        return config
    }

    func testChurningBotsResumeAsThemselvesOrRejoinAsNewPlayers() throws {
        let server = try startArenaServer(loops: 1, playersPerRoom: 64)
        defer { stop(server) }
        var config = try swarm(against: server, room: "churn", bots: 10, durationNs: 4_000_000_000)
        config.churnPercentPerMinute = 1200  // each bot churns about twice in 4 s
        let result = try Swarm(config: config).run()
        XCTAssertGreaterThan(result.churnDrops, 2)
        XCTAssertGreaterThan(result.churnLeaves, 2)
        XCTAssertGreaterThan(result.resumes, 0, "dropped bots came back with their token")
        XCTAssertEqual(result.resumeFailures, 0, "every resume got its own avatar back")
        XCTAssertGreaterThan(result.rejoins, 0)
        XCTAssertEqual(result.decodeErrors, 0)
        XCTAssertEqual(result.joined, 10)
        XCTAssertGreaterThan(result.closesByCode[1006] ?? 0, 0, "drops are abnormal closures")
        XCTAssertGreaterThan(result.deliveryRatio, 0.5, "time away from the room is not counted as lost snapshots")
        XCTAssertLessThan(result.deliveryRatio, 1.1)
        XCTAssertTrue(SwarmReport.table(result, config: config).contains("resumed as themselves"))
    }

    func testTheLinkConditionerDelaysBothWays() throws {
        let server = try startArenaServer(loops: 1, playersPerRoom: 64)
        defer { stop(server) }
        var config = try swarm(against: server, room: "link", bots: 4, durationNs: 2_600_000_000)
        config.link = LinkConditions(latencyNs: 40_000_000, jitterNs: 10_000_000)
        let result = try Swarm(config: config).run()
        XCTAssertGreaterThan(result.rttUs.count, 0)
        XCTAssertGreaterThanOrEqual(result.rttUs.value(atQuantile: 0.01), 80_000, "40 ms each way is at least 80 ms round trip")
        XCTAssertLessThan(result.rttUs.value(atQuantile: 0.5), 80_000 + 20_000 + 30_000)
        XCTAssertGreaterThanOrEqual(result.inputToAckUs.value(atQuantile: 0.01), 80_000)
        XCTAssertEqual(result.decodeErrors, 0)
    }

    func testALinkDirectionNeverReordersAndStaysWithinItsBounds() {
        var direction = LinkDirection(conditions: LinkConditions(latencyNs: 1000, jitterNs: 500), seed: 3)
        var previous: UInt64 = 0
        var sawJitter = false
        for step in 0..<2000 {
            let nowNs = UInt64(step) * 10
            let due = direction.dueNs(nowNs: nowNs)
            XCTAssertGreaterThanOrEqual(due, previous, "never before the message ahead of it")
            XCTAssertGreaterThanOrEqual(due, nowNs + 1000)
            XCTAssertLessThanOrEqual(due, max(previous, nowNs + 1500))
            if due > nowNs + 1000 { sawJitter = true }
            previous = due
        }
        XCTAssertTrue(sawJitter)
    }

    func testBatchedInputsStillFeedEveryTickInOneWriteABatch() throws {
        let server = try startArenaServer(loops: 1, playersPerRoom: 64)
        defer { stop(server) }
        var config = try swarm(against: server, room: "batch", bots: 6, durationNs: 2_500_000_000)
        config.inputBatch = 6
        let result = try Swarm(config: config).run()
        XCTAssertEqual(result.decodeErrors, 0)
        XCTAssertEqual(result.kicks, 0)
        XCTAssertGreaterThan(result.inputToAckUs.count, 0)
        XCTAssertGreaterThan(result.rttUs.count, 0, "pings ride in the batches' writes")
        XCTAssertEqual(server.roomDirectory.summaries().map(\.inputsDropped), [0], "six inputs every six ticks fit the buffer")
        // One input per tick in the room (60 Hz), less at most the batch each bot had not finished at the end.
        let inRoomSeconds = result.expectedSnapshots / Double(result.snapshotRateHz)
        let ticksInRoom = inRoomSeconds * 60
        XCTAssertGreaterThan(Double(result.inputsSent), ticksInRoom - Double(6 * 6) - ticksInRoom * 0.05)
        XCTAssertLessThanOrEqual(Double(result.inputsSent), ticksInRoom + Double(6))
        // One write a batch, plus each bot's join and leave.
        XCTAssertLessThanOrEqual(result.writes, result.inputsSent / 6 + 2 * 6)
        XCTAssertGreaterThanOrEqual(result.writes, result.inputsSent / 6)
        XCTAssertTrue(SwarmReport.table(result, config: config).contains("(6 tick(s) a write)"))
    }

    func testTheHTMLReportIsOneFileWithAChartPerFigure() throws {
        let server = try startArenaServer(loops: 1, playersPerRoom: 64)
        defer { stop(server) }
        let config = try swarm(against: server, room: "html", bots: 3, durationNs: 3_200_000_000)
        let swarm = Swarm(config: config)
        let result = try swarm.run()
        XCTAssertGreaterThanOrEqual(swarm.timeline.count, 3)
        XCTAssertEqual(swarm.timeline.last?.connected, 3)
        XCTAssertGreaterThan(swarm.timeline.last?.snapshotsPerSecond ?? 0, 100)
        let html = SwarmHTMLReport.render(result: result, config: config, timeline: swarm.timeline, checks: [("rttMsP99Max 1 < 2", false)])
        XCTAssertEqual(html.components(separatedBy: "<svg").count - 1, 8)
        for title in ["Bots connected", "Round-trip time", "Input → acknowledgement", "jitter", "tick lateness", "Bandwidth", "Load generator CPU"] {
            XCTAssertTrue(html.contains(title), title)
        }
        XCTAssertTrue(html.contains("BROKEN rttMsP99Max 1 &lt; 2"), "text is escaped")
        XCTAssertFalse(html.contains("<script"), "no scripts")
        XCTAssertFalse(html.contains("src=\"http"), "no external files")
        let json = result.json(config: config, timeline: swarm.timeline)
        XCTAssertTrue(json.contains("\"timeline\""))
        XCTAssertTrue(json.contains("\"botsCpuPercent\""))
        XCTAssertTrue(json.contains("\"loadGenerator\""))
        XCTAssertGreaterThan(swarm.timeline.map(\.botsCPUPercent).max() ?? 0, 0, "the bots' own CPU, second by second")
    }

    func testWatchingBotsAreSpectatorsThatDecodeTheWholeRoom() throws {
        let server = try startArenaServer(loops: 1, playersPerRoom: 2)
        defer { stop(server) }
        let players = try swarm(against: server, room: "watched", bots: 2, durationNs: 2_500_000_000)
        var watchers = players
        watchers.bots = 5
        watchers.spectate = true
        watchers.inputBatch = 3
        let playerSwarm = players
        let background = Thread { _ = try? Swarm(config: playerSwarm).run() }
        background.start()
        let result = try Swarm(config: watchers).run()
        XCTAssertEqual(result.joined, 5, "spectators do not take players' places (the room holds 2 players)")
        XCTAssertEqual(result.kicks, 0)
        XCTAssertEqual(result.decodeErrors, 0)
        XCTAssertGreaterThan(result.deliveryRatio, 0.5)
    }

    func testAWindowOfAHistogramHoldsOnlyTheLaterValues() {
        var histogram = LatencyHistogram()
        for value in 1...100 { histogram.record(UInt64(value)) }
        let earlier = histogram
        for _ in 0..<100 { histogram.record(5000) }
        let window = histogram.since(earlier)
        XCTAssertEqual(window.count, 100)
        XCTAssertEqual(window.value(atQuantile: 0.01), 5000, accuracy: 5000 / 64, "only the 5,000s: the 1...100 are before the window")
        XCTAssertEqual(histogram.since(histogram).count, 0)
    }

    func testNewFlagsParse() throws {
        let command = try BotsFlags.parseCommand(["--url", "ws://127.0.0.1:1/r", "--input-batch", "3", "--latency", "40ms", "--jitter=5ms",
                                                  "--churn", "12.5", "--html", "/tmp/x.html"])
        XCTAssertEqual(command.config.inputBatch, 3)
        XCTAssertEqual(command.config.link, LinkConditions(latencyNs: 40_000_000, jitterNs: 5_000_000))
        XCTAssertEqual(command.config.churnPercentPerMinute, 12.5)
        XCTAssertEqual(command.htmlPath, "/tmp/x.html")
        XCTAssertFalse(command.config.spectate)
        XCTAssertTrue(try BotsFlags.parse(["--url", "ws://127.0.0.1:1/r", "--watch", "--bots", "2"]).spectate)
        XCTAssertThrowsError(try BotsFlags.parse(["--url", "ws://127.0.0.1:1/r", "--churn", "-1"]))
        XCTAssertEqual(command.config.serverMetricsTimeoutNs, 2_000_000_000, "2 s by default")
        XCTAssertEqual(try BotsFlags.parse(["--url", "ws://127.0.0.1:1/r", "--metrics-timeout", "0s"]).serverMetricsTimeoutNs, 0)
        XCTAssertEqual(try BotsFlags.parse(["--url", "ws://127.0.0.1:1/r", "--metrics-timeout", "500ms"]).serverMetricsTimeoutNs, 500_000_000)
        XCTAssertThrowsError(try BotsFlags.parse(["--url", "ws://127.0.0.1:1/r", "--metrics-timeout", "2h"]))
        XCTAssertThrowsError(try BotsFlags.parse(["--url", "ws://127.0.0.1:1/r", "--input-batch", "0"]))
        XCTAssertEqual(command.config.timerSlackNs, 1_000_000, "1 ms by default")
        XCTAssertEqual(try BotsFlags.parse(["--url", "ws://127.0.0.1:1/r", "--timer-slack", "0ms"]).timerSlackNs, 0)
        XCTAssertEqual(try BotsFlags.parse(["--url", "ws://127.0.0.1:1/r", "--timer-slack", "5ms"]).timerSlackNs, 5_000_000)
        XCTAssertThrowsError(try BotsFlags.parse(["--url", "ws://127.0.0.1:1/r", "--timer-slack", "1s"]), "at most 50 ms")
    }
}
