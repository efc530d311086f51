import Arena
import Engine
import Foundation
import Glibc
import Reactor
import Replay
import Server
import WebSocket
import Wire
import XCTest

/// One defence each: what a client that breaks a limit gets, that it is counted, and that nothing stays held.
final class HostileClientTests: XCTestCase {
    private var server: TickwireServer!
    private let log = LogLines()

    private func start(_ adjust: (inout ServerConfig) -> Void = { _ in }) throws {
        var config = ServerConfig()
        config.port = 0
        config.loopCount = 2
        config.echoPath = "/echo"
        config.shutdownGraceNs = 200_000_000
        adjust(&config)
        let hosting = smallArenaRooms()
        server = try TickwireServer(config: config, logger: Logger(peerLinesPerSecondMax: 1000, peerLinesPerAddressPerSecondMax: 1000, sink: log.sink),
                                    rooms: hosting)
        try server.start()
    }

    override func tearDown() {
        server?.shutdown()
        server?.waitUntilStopped()
        server = nil
    }

    private func eventually(_ seconds: Double = 5, _ condition: () -> Bool) -> Bool {
        for _ in 0..<Int(seconds * 100) {
            if condition() { return true }
            usleep(10_000)
        }
        return condition()
    }

    private func client(from address: String = "127.0.0.1", receiveBufferBytes: Int32? = nil) throws -> RawClient {
        try RawClient(port: server.boundPort, sourceAddress: address, receiveBufferBytes: receiveBufferBytes)
    }

    private func get(_ path: String, from address: String = "127.0.0.1", headers: String = "") throws -> Int {
        let client = try client(from: address)
        client.send("GET \(path) HTTP/1.1\r\nHost: x\r\n\(headers)\r\n")
        return try client.readResponse().head.status
    }

    private func frame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
        WebSocketFrameEncoder.frame(opcode: WebSocketOpcode(rawValue: opcode)!, payload: payload, fin: fin, maskKey: WebSocketMask.randomKey())
    }

    private func roomUpgradeHeaders(_ extra: String = "") -> String { "Sec-WebSocket-Protocol: \(wireSubprotocol)\r\n\(extra)" }

    private func gameMessage(_ message: ClientMessage) -> [UInt8] {
        frame(0x2, try! message.encoded(inputBitCount: Arena.inputBitCount))
    }

    // MARK: Deadlines and the connection count

    func testAResponseToAPeerThatNeverReadsIsClosedAtTheResponseTimeoutAndNoLongerCounted() throws {
        let directory = "/tmp/tickwire-slow-readers-\(getpid())"
        mkdir(directory, 0o755)
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        FileManager.default.createFile(atPath: directory + "/index.html", contents: Data("<p>hi</p>".utf8))
        FileManager.default.createFile(atPath: directory + "/big.js", contents: Data(repeating: 0x20, count: 3 << 20))
        try start {
            $0.connectionLimits.responseTimeoutNs = 300_000_000
            $0.staticDirectory = directory
        }
        // A tiny receive window and no reads: 3 MB can never all leave.
        let readers = try (0..<5).map { _ in try client(receiveBufferBytes: 1024) }
        for reader in readers { reader.send("GET /big.js HTTP/1.1\r\nHost: x\r\n\r\n") }
        XCTAssertTrue(eventually { self.server.openConnectionCount == 5 })
        XCTAssertTrue(eventually(5) { self.server.openConnectionCount == 0 }, "still open: \(server.openConnectionCount)")
        XCTAssertEqual(server.defences.total(.flushTimeout), 5)
        withExtendedLifetime(readers) {}
    }

    func testAClosingWebSocketWhosePeerNeverReadsCountsUntilItsSocketIsClosed() throws {
        try start {
            $0.connectionLimits.closeTimeoutNs = 300_000_000
            $0.connectionLimits.writeQueueBytesMax = 1 << 20
            $0.connectionLimits.writeHighWatermarkBytes = 1 << 19
        }
        let client = try client(receiveBufferBytes: 1024)
        XCTAssertEqual(try client.upgrade().status, 101)
        // Echoes fill the server's queue (the client never reads), then a protocol error makes the server fail the
        // connection: its close frame waits behind the queue, and the connection must still end.
        let payload = [UInt8](repeating: 7, count: 60_000)
        for _ in 0..<10 { _ = client.sendWithoutBlocking(frame(0x2, payload)) }
        client.send([0x82, 0x05, 1, 2, 3, 4, 5])  // unmasked: 1002
        XCTAssertTrue(eventually { self.server.openConnectionCount == 0 }, "open: \(server.openConnectionCount)")
    }

    // MARK: Control-frame floods

    func testAPingFloodFromAPeerThatNeverReadsQueuesOnePongNotOneEach() throws {
        try start()
        let client = try client(receiveBufferBytes: 2048)
        XCTAssertEqual(try client.upgrade().status, 101)
        var flood: [UInt8] = []
        for index in 0..<20_000 { flood += frame(0x9, [UInt8(index & 0xFF), 1]) }
        var sent = 0
        for _ in 0..<200 where sent < flood.count {
            let count = flood[sent...].withUnsafeBytes { Glibc.send(client.fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
            if count > 0 { sent += count } else { usleep(5_000) }
        }
        XCTAssertEqual(sent, flood.count, "the server kept reading the flood")
        // Then a ping the test can see answered: reading everything, the pongs that arrive are far fewer than pings.
        var pongs = 0
        client.send(frame(0x1, Array("end".utf8)))
        while let frame = try? client.readFrame() {
            if frame.opcode == 0xA { pongs += 1 }
            if frame.opcode == 0x1 { break }
        }
        XCTAssertLessThan(pongs, 2_000, "pongs answered one by one")
        XCTAssertGreaterThan(pongs, 0)
    }

    // MARK: Per-address limits

    func testConnectionsPerAddressAreCappedAndOtherAddressesAreNotAffected() throws {
        try start { $0.addressLimits.connectionsMax = 3 }
        var held: [RawClient]? = try (0..<3).map { _ in try client(from: "127.0.0.2") }
        XCTAssertTrue(eventually { self.server.openConnectionCount == 3 })
        XCTAssertEqual(try get("/healthz", from: "127.0.0.2"), 503)
        XCTAssertEqual(try get("/healthz", from: "127.0.0.3"), 200)
        XCTAssertEqual(server.defences.total(.addressConnections), 1)
        XCTAssertEqual(held?.count, 3)
        held = nil
        XCTAssertTrue(eventually { self.server.openConnectionCount == 0 })
        XCTAssertEqual(try get("/healthz", from: "127.0.0.2"), 200, "the address's count went back down")
    }

    func testRequestsPerAddressAreRateLimitedWith429() throws {
        try start {
            $0.addressLimits.requestBurst = 3
            $0.addressLimits.requestsPerSecond = 1
        }
        let statuses = try (0..<5).map { _ in try get("/healthz", from: "127.0.0.4") }
        XCTAssertEqual(Array(statuses.prefix(3)), [200, 200, 200])
        XCTAssertTrue(statuses.suffix(2).contains(429), "\(statuses)")
        XCTAssertEqual(try get("/healthz", from: "127.0.0.5"), 200)
        XCTAssertGreaterThanOrEqual(server.defences.total(.addressRequestRate), 1)
    }

    func testATrustedProxysForwardedClientIsTheOneLimitedAndOnlyFromThatProxy() throws {
        try start {
            $0.addressLimits.requestBurst = 2
            $0.addressLimits.requestsPerSecond = 1
            $0.addressLimits.trustedProxies = ["127.0.0.6"]
        }
        let forwardedA = "X-Forwarded-For: 203.0.113.9, 198.51.100.1\r\n"
        XCTAssertEqual(try get("/healthz", from: "127.0.0.6", headers: forwardedA), 200)
        XCTAssertEqual(try get("/healthz", from: "127.0.0.6", headers: forwardedA), 200)
        XCTAssertEqual(try get("/healthz", from: "127.0.0.6", headers: forwardedA), 429, "198.51.100.1 is over its budget")
        XCTAssertEqual(try get("/healthz", from: "127.0.0.6", headers: "X-Forwarded-For: 198.51.100.2\r\n"), 200)
        // From an untrusted peer the header is ignored: the peer itself is charged.
        XCTAssertEqual(try get("/healthz", from: "127.0.0.7", headers: "X-Forwarded-For: 198.51.100.3\r\n"), 200)
        XCTAssertEqual(try get("/healthz", from: "127.0.0.7", headers: "X-Forwarded-For: 198.51.100.4\r\n"), 200)
        XCTAssertEqual(try get("/healthz", from: "127.0.0.7", headers: "X-Forwarded-For: 198.51.100.5\r\n"), 429)
    }

    // MARK: Rooms

    func testRoomsCreatedPerAddressAreRateLimitedButJoiningAnExistingRoomIsNot() throws {
        try start {
            $0.addressLimits.roomsCreatedBurst = 2
            $0.addressLimits.roomsCreatedPerMinute = 1
        }
        let first = try client(from: "127.0.0.8"), second = try client(from: "127.0.0.8"), third = try client(from: "127.0.0.8")
        XCTAssertEqual(try first.upgrade(path: "/rooms/a1", extraHeaders: roomUpgradeHeaders()).status, 101)
        XCTAssertEqual(try second.upgrade(path: "/rooms/a2", extraHeaders: roomUpgradeHeaders()).status, 101)
        XCTAssertEqual(try third.upgrade(path: "/rooms/a3", extraHeaders: roomUpgradeHeaders()).status, 429)
        let joiner = try client(from: "127.0.0.8")
        XCTAssertEqual(try joiner.upgrade(path: "/rooms/a1", extraHeaders: roomUpgradeHeaders()).status, 101)
        XCTAssertEqual(server.defences.total(.addressRoomCreateRate), 1)
    }

    func testRoomsNobodyPlaysInCloseSoonAndRecordNothingEvenWhenTheirUpgradesWereReset() throws {
        let directory = "/tmp/tickwire-unused-rooms-\(getpid())"
        mkdir(directory, 0o755)
        defer { _ = try? FileManager.default.removeItem(atPath: directory) }
        try start {
            $0.roomLimits.unusedCloseNs = 300_000_000
            $0.recordDirectory = directory
            $0.addressLimits.roomsCreatedBurst = 100
        }
        // A sweep through room ids whose upgrades are reset at once, and one spectator who never plays.
        for index in 0..<40 {
            let client = try client()
            client.resetOnClose()
            client.send(Array(("GET /rooms/sweep\(index) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                               + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\(roomUpgradeHeaders())\r\n").utf8))
        }
        let watcher = try client()
        XCTAssertEqual(try watcher.upgrade(path: "/rooms/quiet?watch=1", extraHeaders: roomUpgradeHeaders()).status, 101)
        XCTAssertTrue(eventually(5) { self.server.roomDirectory.summaries().isEmpty }, "\(server.roomDirectory.summaries().map(\.id))")
        XCTAssertTrue(eventually { self.server.openConnectionCount == 0 }, "open: \(server.openConnectionCount)")
        XCTAssertGreaterThanOrEqual(server.defences.total(.unusedRoomClosed), 1)
        let files = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        XCTAssertEqual(files.filter { $0.hasSuffix(".twrec") }, [], "rooms without players recorded nothing")
    }

    // MARK: Room messages

    func testARoomRefusesMessagesOverItsOwnSmallLimitWith1009() throws {
        try start { $0.roomMessageBytesMax = 1024 }
        let client = try client()
        XCTAssertEqual(try client.upgrade(path: "/rooms/big", extraHeaders: roomUpgradeHeaders()).status, 101)
        client.send(frame(0x2, [UInt8](repeating: 1, count: 2000)))
        XCTAssertEqual(try client.readClose().code, 1009)
        XCTAssertTrue(eventually { self.server.defences.total(.messageTooLarge) == 1 })
    }

    func testAMessageTrickledOrNeverFinishedIsClosedWith1008AtTheMessageTimeout() throws {
        try start { $0.connectionLimits.messageTimeoutNs = 300_000_000 }
        let client = try client()
        XCTAssertEqual(try client.upgrade(path: "/rooms/slow", extraHeaders: roomUpgradeHeaders()).status, 101)
        // A fragmented message that only ever gets empty fragments: bytes keep coming, the message never ends.
        client.send(frame(0x2, [1], fin: false))
        for _ in 0..<4 {
            client.send(frame(0x0, [], fin: false))
            usleep(100_000)
        }
        var code: UInt16?
        while code == nil, let frame = try? client.readFrame() {
            if frame.opcode == 0x8 { code = UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1]) }
        }
        XCTAssertEqual(code, 1008)
        XCTAssertEqual(server.defences.total(.messageTimeout), 1)
    }

    func testSpectatorsCannotChatAndGamePingsOverTheirRateAreDropped() throws {
        try start()
        let player = try client(), watcher = try client()
        XCTAssertEqual(try player.upgrade(path: "/rooms/talk", extraHeaders: roomUpgradeHeaders()).status, 101)
        XCTAssertEqual(try watcher.upgrade(path: "/rooms/talk?watch=1", extraHeaders: roomUpgradeHeaders()).status, 101)
        player.send(gameMessage(.join(name: "p", resumeToken: nil)))
        watcher.send(gameMessage(.join(name: "w", resumeToken: nil)))
        watcher.send(gameMessage(.chat(text: "from the stands")))
        var pings: [UInt8] = []
        for time in 1...50 as ClosedRange<UInt64> { pings += gameMessage(.ping(clientTimeUs: time)) }
        player.send(pings)
        XCTAssertTrue(eventually { self.server.defences.total(.spectatorChat) == 1 })
        XCTAssertTrue(eventually { self.server.defences.total(.pingOverRate) >= 40 }, "\(server.defences.total(.pingOverRate))")
    }

    func testGetRoomsIsRenderedOnceWithinItsCacheTime() throws {
        try start { $0.roomsListCacheNs = 60_000_000_000 }
        let before = try client()
        before.send("GET /rooms HTTP/1.1\r\nHost: x\r\n\r\n")
        let first = try before.readResponse().body
        let player = try client()
        XCTAssertEqual(try player.upgrade(path: "/rooms/cached", extraHeaders: roomUpgradeHeaders()).status, 101)
        XCTAssertTrue(eventually { !self.server.roomDirectory.summaries().isEmpty })
        let after = try client()
        after.send("GET /rooms HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(try after.readResponse().body, first, "the cached rendering")
    }
}
