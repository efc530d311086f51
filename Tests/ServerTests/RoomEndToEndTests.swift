import Arena
import Engine
import Reactor
import Server
import Synchronization
import WebSocket
import Wire
import XCTest

/// A game client for tests: decodes every server message and keeps what it learned.
final class GameTestClient: WebSocketChannelHandler, @unchecked Sendable {
    struct State {
        var welcome: ServerMessage.Welcome?
        var decoder = SnapshotDecoder()
        var entities: [EntityState] = []
        var snapshotCount = 0
        var pongs = 0
        var chats: [String] = []
        /// Names by player raw id, from roster messages.
        var names: [UInt16: String] = [:]
        var closeCode: UInt16?
        var decodeErrors: [String] = []
    }
    let state = Mutex(State())

    func channel(_ channel: WebSocketChannel, didReceiveBinary bytes: UnsafeRawBufferPointer) {
        let message = Array(bytes)
        state.withLock { state in
            var reader = BitReader(message)
            do {
                switch try ServerMessage.read(from: &reader) {
                case .welcome(let welcome): state.welcome = welcome
                case .snapshot:
                    state.entities = try state.decoder.receive(message)
                    state.snapshotCount += 1
                case .pong: state.pongs += 1
                case .chat(_, let name, let text): state.chats.append("\(name): \(text)")
                case .roster(let player, let name): state.names[player.raw] = name
                case .kick: break
                }
            } catch {
                state.decodeErrors.append("\(error)")
            }
        }
    }

    func channelDidClose(_ channel: WebSocketChannel, code: UInt16, reason: String) { state.withLock { $0.closeCode = code } }

    /// The avatar of `player` in the latest snapshot.
    func avatar(of player: PlayerID) -> EntityState? {
        state.withLock { $0.entities.first { $0.kind == 0 && $0.fields[6] == Int64(player.raw) } }
    }
}

/// Rooms of a small Arena without walls (seed 3), for end-to-end tests.
func smallArenaRooms() -> RoomHosting {
    RoomHosting { context in
        var arena = ArenaConfig()
        arena.worldWidth = 1000
        arena.worldHeight = 800
        arena.obstacleCount = 0
        return Room(game: Arena(config: arena, seed: 3), context: context)
    }
}

/// A server hosting small Arena rooms, a client loop, and helpers to talk to rooms.
class RoomEndToEndTestsBase: XCTestCase {
    var server: TickwireServer!
    var clientLoops: EventLoopGroup!
    let log = LogLines()

    /// Room limits for the test's server (tests that need others change them before `setUpWithError` runs).
    var roomLimits = RoomLimits()

    /// Joins `room` as `name` (with a resume token, if given) and waits for the welcome.
    func joinedClient(_ room: String, name: String, resumeToken: UInt64? = nil) throws -> (GameTestClient, OnLoopChannel) {
        let client = GameTestClient()
        let channel = try XCTUnwrap(try connect("/rooms/\(room)", client: client)?.get())
        send(.join(name: name, resumeToken: resumeToken), on: channel)
        XCTAssertTrue(eventually { client.state.withLock { $0.welcome } != nil }, "welcome for \(name)")
        return (client, channel)
    }

    override func setUpWithError() throws {
        var config = ServerConfig()
        config.port = 0
        config.loopCount = 2
        config.shutdownGraceNs = 200_000_000
        config.roomLimits = roomLimits
        let hosting = smallArenaRooms()
        server = try TickwireServer(config: config, logger: Logger(peerLinesPerSecondMax: 1000, peerLinesPerAddressPerSecondMax: 1000, sink: log.sink), rooms: hosting)
        try server.start()
        clientLoops = try EventLoopGroup(count: 1)
        try clientLoops.start()
    }

    override func tearDown() {
        clientLoops?.shutdown()
        server?.shutdown()
        server?.waitUntilStopped()
    }

    var loop: EventLoop { clientLoops.loops[0] }

    func connect(_ path: String, client: GameTestClient, subprotocols: [String] = [wireSubprotocol])
        -> Result<OnLoopChannel, WebSocketConnectError>? {
        let result = Mutex<Result<OnLoopChannel, WebSocketConnectError>?>(nil)
        let port = server.boundPort
        let loop = self.loop
        loop.execute {
            WebSocketClient.connect(host: "127.0.0.1", port: port, path: path, subprotocols: subprotocols, on: loop, handler: client) { outcome in
                result.withLock { $0 = outcome.map { OnLoopChannel($0) } }
            }
        }
        for _ in 0..<500 where result.withLock({ $0 == nil }) { usleep(10_000) }
        return result.withLock { $0 }
    }

    func send(_ message: ClientMessage, on channel: OnLoopChannel) {
        let bytes = try! message.encoded(inputBitCount: Arena.inputBitCount)
        loop.execute { _ = bytes.withUnsafeBytes { channel.value.send(binary: $0) } }
    }

    func eventually(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
        for _ in 0..<Int(seconds * 100) {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }
}

final class RoomEndToEndTests: RoomEndToEndTestsBase {

    func testTwoPlayersSeeEachOtherMoveAndALeaverDisappears() throws {
        let alice = GameTestClient(), bob = GameTestClient()
        let aliceChannel = try XCTUnwrap(try connect("/rooms/duel", client: alice)?.get())
        let bobChannel = try XCTUnwrap(try connect("/rooms/duel", client: bob)?.get())
        XCTAssertEqual(aliceChannel.value.subprotocol, "tickwire.v1")
        send(.join(name: "alice", resumeToken: nil), on: aliceChannel)
        send(.join(name: "bob", resumeToken: nil), on: bobChannel)
        XCTAssertTrue(eventually { alice.state.withLock { $0.welcome } != nil && bob.state.withLock { $0.welcome } != nil })
        let alicePlayer = try XCTUnwrap(alice.state.withLock { $0.welcome?.player })
        XCTAssertEqual(alice.state.withLock { $0.welcome?.tickRateHz }, 60)
        XCTAssertTrue(eventually { bob.avatar(of: alicePlayer) != nil }, "bob sees alice")
        let startX = try XCTUnwrap(bob.avatar(of: alicePlayer)?.fields[0])

        // Alice holds "right" for half a second, acknowledging what she has; Bob only acknowledges.
        for sequence in 1...30 as ClosedRange<UInt32> {
            let aliceTick = alice.state.withLock { $0.decoder.newestTick }
            let bobTick = bob.state.withLock { $0.decoder.newestTick }
            send(.input(sequence: sequence, acknowledgedTick: aliceTick, bits: ArenaInput(right: true).bits), on: aliceChannel)
            send(.input(sequence: sequence, acknowledgedTick: bobTick, bits: .neutral), on: bobChannel)
            usleep(16_000)
        }
        XCTAssertTrue(eventually { (bob.avatar(of: alicePlayer)?.fields[0] ?? 0) > startX + 16 * 40 }, "bob saw alice move right by 40+ units")
        XCTAssertTrue(eventually { alice.state.withLock { $0.decoder.lastProcessedInput } == 30 }, "alice's inputs were all applied")

        // Ping, chat, and the room list.
        send(.ping(clientTimeUs: 1), on: aliceChannel)
        send(.chat(text: "gg"), on: aliceChannel)
        XCTAssertTrue(eventually { alice.state.withLock { $0.pongs } == 1 })
        XCTAssertTrue(eventually { bob.state.withLock { $0.chats } == ["alice: gg"] })
        XCTAssertTrue(eventually(3) { self.server.roomDirectory.summaries().first?.players == 2 })
        XCTAssertEqual(server.roomDirectory.summaries().map(\.id), ["duel"])

        // Alice leaves; Bob's snapshots drop her avatar.
        send(.leave, on: aliceChannel)
        XCTAssertTrue(eventually { alice.state.withLock { $0.closeCode } == 1000 })
        XCTAssertTrue(eventually { bob.avatar(of: alicePlayer) == nil }, "bob no longer sees alice")
        XCTAssertEqual(bob.state.withLock { $0.decodeErrors }, [])
        XCTAssertGreaterThan(bob.state.withLock { $0.snapshotCount }, 30)
    }

    private func get(_ path: String) throws -> (status: Int, body: String) {
        let client = try RawClient(port: server.boundPort)
        client.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try client.readResponse()
        return (response.head.status, response.body)
    }

    func testEveryoneLearnsEveryNameTheNewcomerAtOnceTheOthersWithTheirNextSnapshot() throws {
        let (ada, _) = try joinedClient("names", name: "ada")
        let (bob, _) = try joinedClient("names", name: "bob")
        let (cy, _) = try joinedClient("names", name: "cy")
        let players = try [ada, bob, cy].map { client in try XCTUnwrap(client.state.withLock { $0.welcome?.player.raw }) }
        let expected = Dictionary(uniqueKeysWithValues: zip(players, ["ada", "bob", "cy"]))
        for (client, name) in [(ada, "ada"), (bob, "bob"), (cy, "cy")] {
            XCTAssertTrue(eventually { client.state.withLock { $0.names } == expected }, "\(name) knows every name, its own included")
        }
        XCTAssertEqual(cy.state.withLock { $0.decodeErrors }, [])
    }

    func testSpectatorsLearnThePlayersNamesAndNobodyHearsOfSpectators() throws {
        let (ada, _) = try joinedClient("audience", name: "ada")
        let (first, _) = try joinedClient("audience?watch=1", name: "first watcher")
        let (second, _) = try joinedClient("audience?watch=1", name: "second watcher")
        let adaID = try XCTUnwrap(ada.state.withLock { $0.welcome?.player.raw })
        // The greeting is one write with the welcome: once Ada's name is in, so is every name it carried.
        for watcher in [first, second] {
            XCTAssertTrue(eventually { watcher.state.withLock { $0.names[adaID] } == "ada" })
            XCTAssertEqual(watcher.state.withLock { $0.names }, [adaID: "ada"], "the greeting names players only")
        }
        XCTAssertTrue(eventually { ada.state.withLock { $0.names } == [adaID: "ada"] })
    }

    func testRoomsAndMetricsReportPlayersTicksAndCloses() throws {
        let client = GameTestClient()
        let channel = try XCTUnwrap(try connect("/rooms/metrics-room", client: client)?.get())
        send(.join(name: "m", resumeToken: nil), on: channel)
        XCTAssertTrue(eventually(3) { self.server.roomDirectory.summaries().first?.players == 1 })
        let rooms = try get("/rooms")
        XCTAssertEqual(rooms.status, 200)
        XCTAssertTrue(rooms.body.hasPrefix("{\"rooms\":[{\"id\":\"metrics-room\",\"loop\":"), rooms.body)
        XCTAssertTrue(rooms.body.contains("\"players\":1,\"spectators\":0,\"tickRateHz\":60,"), rooms.body)
        send(.leave, on: channel)
        XCTAssertTrue(eventually { client.state.withLock { $0.closeCode } == 1000 })
        let metrics = try get("/metrics")
        XCTAssertEqual(metrics.status, 200)
        for line in ["# TYPE tickwire_tick_duration_us histogram", "tickwire_rooms 1", "tickwire_tick_lateness_us_bucket{le=\"+Inf\"} ",
                     "tickwire_websocket_closes_total{code=\"1000\"} 1", "tickwire_decode_errors_total 0"] {
            XCTAssertTrue(metrics.body.contains(line), "missing \(line) in:\n\(metrics.body)")
        }
        // Rooms publish their figures every second: within a few, the ticks show.
        func ticks() -> Int {
            let body = (try? get("/metrics").body) ?? ""
            return body.split(separator: "\n").first { $0.hasPrefix("tickwire_ticks_total ") }.flatMap { Int($0.split(separator: " ")[1]) } ?? 0
        }
        XCTAssertTrue(eventually(4) { ticks() > 30 })
        let received = metrics.body.split(separator: "\n").first { $0.hasPrefix("tickwire_bytes_received_total ") }
            .flatMap { Int($0.split(separator: " ")[1]) }
        XCTAssertGreaterThan(received ?? 0, 100)
        // The process's own figures, under their standard names: the test process has a resident heap and has run.
        func value(_ name: String) -> Double? {
            metrics.body.split(separator: "\n").first { $0.hasPrefix(name + " ") }.flatMap { Double($0.split(separator: " ")[1]) }
        }
        XCTAssertGreaterThan(value("process_resident_memory_bytes") ?? 0, 1_000_000)
        XCTAssertGreaterThan(value("process_cpu_seconds_total") ?? 0, 0)
    }

    func testARoomStalledForPeriodsSimulatesEveryTickButSendsNoSnapshotsUntilItCatchesUp() throws {
        let (client, _) = try joinedClient("stall-room", name: "s")
        XCTAssertTrue(eventually { client.state.withLock { $0.snapshotCount } > 5 })
        let summary = try XCTUnwrap(server.roomDirectory.summaries().first { $0.id == "stall-room" })
        let (tickBefore, catchUpBefore) = (summary.tick, summary.catchUpTicks)
        // Stall the room's loop for 15 periods (250 ms at 60 Hz): on waking, the missed ticks run back to back.
        let stalled = DispatchSemaphore(value: 0)
        server.loops[summary.loopIndex].execute {
            usleep(250_000)
            stalled.signal()
        }
        XCTAssertEqual(stalled.wait(timeout: .now() + 5), .success)
        let snapshotsAfterStall = client.state.withLock { $0.snapshotCount }
        XCTAssertTrue(eventually { client.state.withLock { $0.snapshotCount } > snapshotsAfterStall + 5 }, "snapshots resume")
        XCTAssertTrue(eventually(4) {
            guard let now = self.server.roomDirectory.summaries().first(where: { $0.id == "stall-room" }) else { return false }
            return now.catchUpTicks >= catchUpBefore + 10 && now.tick >= tickBefore + 15
        }, "every missed tick was simulated, and most of them without snapshots")
    }

    func testShutdownKicksRoomClientsWith1001() throws {
        let client = GameTestClient()
        let channel = try XCTUnwrap(try connect("/rooms/closing", client: client)?.get())
        send(.join(name: "z", resumeToken: nil), on: channel)
        XCTAssertTrue(eventually { client.state.withLock { $0.welcome } != nil })
        server.shutdown()
        XCTAssertTrue(eventually { client.state.withLock { $0.closeCode } == 1001 })
        server.waitUntilStopped()
        server = nil
    }

    func testAChatFloodIsCutToTheBurstAndTheRateLimit() throws {
        let (talker, talkerChannel) = try joinedClient("chatty", name: "talker")
        let (listener, _) = try joinedClient("chatty", name: "listener")
        for line in 1...12 { send(.chat(text: "line \(line)"), on: talkerChannel) }
        XCTAssertTrue(eventually { listener.state.withLock { $0.chats.count } >= 5 })
        usleep(300_000)
        XCTAssertEqual(listener.state.withLock { $0.chats }, (1...5).map { "talker: line \($0)" }, "a burst of 5; the rest dropped")
        XCTAssertNil(talker.state.withLock { $0.closeCode }, "flooding chat drops lines, it does not disconnect")
    }

    func testRoomsRefuseAnotherWireVersionAndTextMessages() throws {
        let refused = connect("/rooms/a", client: GameTestClient(), subprotocols: ["tickwire.v2"])
        guard case .failure(.handshakeRejected(.unexpectedStatus(400, _))) = refused else { return XCTFail("\(String(describing: refused))") }
        let client = GameTestClient()
        let channel = try XCTUnwrap(try connect("/rooms/a", client: client)?.get())
        loop.execute { channel.value.send(text: "hello") }
        XCTAssertTrue(eventually { client.state.withLock { $0.closeCode } == 1003 })
    }

    func testGarbageAndInputBeforeJoinAreClosedWithTheirCodes() throws {
        let garbage = GameTestClient()
        let garbageChannel = try XCTUnwrap(try connect("/rooms/b", client: garbage)?.get())
        loop.execute { _ = [UInt8]([0xEE, 1, 2]).withUnsafeBytes { garbageChannel.value.send(binary: $0) } }
        XCTAssertTrue(eventually { garbage.state.withLock { $0.closeCode } == 1002 })
        let early = GameTestClient()
        let earlyChannel = try XCTUnwrap(try connect("/rooms/b", client: early)?.get())
        send(.input(sequence: 1, acknowledgedTick: nil, bits: .neutral), on: earlyChannel)
        XCTAssertTrue(eventually { early.state.withLock { $0.closeCode } == 1008 })
        XCTAssertTrue(log.waitFor("closing with 1008: input before join"))
    }
}

/// Rooms that close quickly when empty.
final class RoomLifecycleTests: RoomEndToEndTestsBase {
    override func setUpWithError() throws {
        roomLimits.emptyCloseNs = 300_000_000
        try super.setUpWithError()
    }

    func testAnEmptyRoomClosesAndAReturningClientGetsAFreshOne() throws {
        try joinAndLeave()
        XCTAssertTrue(eventually(3) { self.server.roomDirectory.summaries().isEmpty }, "the empty room closed")
        XCTAssertTrue(log.waitFor("room lifecycle closed after 300 ms empty"))
        try joinAndLeave()
        XCTAssertTrue(eventually(3) { self.server.roomDirectory.summaries().isEmpty })
    }

    private func joinAndLeave() throws {
        let client = GameTestClient()
        let channel = try XCTUnwrap(try connect("/rooms/lifecycle", client: client)?.get())
        send(.join(name: "x", resumeToken: nil), on: channel)
        XCTAssertTrue(eventually { client.state.withLock { $0.snapshotCount } > 0 }, "the room runs")
        send(.leave, on: channel)
        XCTAssertTrue(eventually { client.state.withLock { $0.closeCode } == 1000 })
    }
}

/// Players whose connection drops get their avatar back with their resume token within the grace period.
final class ResumeTests: RoomEndToEndTestsBase {
    override func setUpWithError() throws {
        roomLimits.resumeGraceNs = 1_500_000_000
        try super.setUpWithError()
    }

    func testADroppedPlayerResumesWithItsAvatarAndPosition() throws {
        let (first, firstChannel) = try joinedClient("resume", name: "ada")
        let welcome = try XCTUnwrap(first.state.withLock { $0.welcome })
        for sequence in 1...20 as ClosedRange<UInt32> {
            send(.input(sequence: sequence, acknowledgedTick: first.state.withLock { $0.decoder.newestTick }, bits: ArenaInput(right: true).bits),
                 on: firstChannel)
            usleep(16_000)
        }
        // Let go of the keys (the server repeats the last input), and let friction stop the slide.
        send(.input(sequence: 21, acknowledgedTick: first.state.withLock { $0.decoder.newestTick }, bits: .neutral), on: firstChannel)
        XCTAssertTrue(eventually { first.state.withLock { $0.decoder.lastProcessedInput } == 21 })
        usleep(1_000_000)
        let before = try XCTUnwrap(first.avatar(of: welcome.player))
        // The network drops: no close frame.
        loop.execute { firstChannel.value.connection.close() }
        usleep(200_000)
        let (second, _) = try joinedClient("resume", name: "someone else", resumeToken: welcome.resumeToken)
        let resumed = try XCTUnwrap(second.state.withLock { $0.welcome })
        XCTAssertEqual(resumed.player, welcome.player, "the same player")
        XCTAssertNotEqual(resumed.resumeToken, welcome.resumeToken, "a fresh token for the next time")
        XCTAssertTrue(eventually { second.avatar(of: welcome.player) != nil })
        let after = try XCTUnwrap(second.avatar(of: welcome.player))
        XCTAssertEqual(after.id, before.id, "the same avatar entity")
        XCTAssertEqual(Array(after.fields[0...1]), Array(before.fields[0...1]), "where it stopped, not respawned")
        XCTAssertEqual(second.state.withLock { $0.decoder.fullSnapshots }, 1, "a new connection starts from a full snapshot")
    }

    func testWithoutAReconnectTheAvatarLeavesAfterTheGracePeriod() throws {
        let (watcher, _) = try joinedClient("grace", name: "watcher")
        let (dropper, dropperChannel) = try joinedClient("grace", name: "dropper")
        let player = try XCTUnwrap(dropper.state.withLock { $0.welcome?.player })
        XCTAssertTrue(eventually { watcher.avatar(of: player) != nil })
        loop.execute { dropperChannel.value.connection.close() }
        usleep(700_000)
        XCTAssertNotNil(watcher.avatar(of: player), "still there within the grace period")
        XCTAssertTrue(eventually(3) { watcher.avatar(of: player) == nil }, "gone after it")
    }

    func testALeaveOnPurposeCannotBeResumed() throws {
        let (client, channel) = try joinedClient("left", name: "x")
        let welcome = try XCTUnwrap(client.state.withLock { $0.welcome })
        send(.leave, on: channel)
        XCTAssertTrue(eventually { client.state.withLock { $0.closeCode } == 1000 })
        let (again, _) = try joinedClient("left", name: "x", resumeToken: welcome.resumeToken)
        XCTAssertNotEqual(again.state.withLock { $0.welcome?.player }, welcome.player, "a new player, not the old one")
    }
}

/// A client channel handed to the test thread; used only through its loop.
struct OnLoopChannel: @unchecked Sendable {
    let value: WebSocketChannel
    init(_ value: WebSocketChannel) { self.value = value }
}
