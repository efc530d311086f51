import Glibc
import Server
import Synchronization
import XCTest
@testable import WebSocket

/// Collects log lines for assertions.
final class LogLines: Sendable {
    private let lines = Mutex<[String]>([])
    var sink: @Sendable (String) -> Void { { [self] line in lines.withLock { $0.append(line) } } }
    var all: [String] { lines.withLock { $0 } }
    func waitFor(_ fragment: String, seconds: Double = 5) -> Bool {
        for _ in 0..<Int(seconds * 100) {
            if all.contains(where: { $0.contains(fragment) }) { return true }
            usleep(10_000)
        }
        return false
    }
}

final class ServerEndToEndTests: XCTestCase {
    private var server: TickwireServer!
    private let log = LogLines()

    private func start(_ adjust: (inout ServerConfig) -> Void = { _ in }) throws {
        var config = ServerConfig()
        config.host = "127.0.0.1"
        config.port = 0
        config.loopCount = 2
        config.echoPath = "/echo"
        config.shutdownGraceNs = 200_000_000
        adjust(&config)
        server = try TickwireServer(config: config, logger: Logger(peerLinesPerSecondMax: 1000, peerLinesPerAddressPerSecondMax: 1000, sink: log.sink))
        try server.start()
    }

    override func tearDown() {
        server?.shutdown()
        server?.waitUntilStopped()
        server = nil
    }

    private func client() throws -> RawClient { try RawClient(port: server.boundPort) }

    private func frame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true) -> [UInt8] {
        WebSocketFrameEncoder.frame(opcode: WebSocketOpcode(rawValue: opcode)!, payload: payload, fin: fin, maskKey: WebSocketMask.randomKey())
    }

    // MARK: Plain HTTP

    func testHealthzAnswers200Ok() throws {
        try start()
        let client = try client()
        client.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.head.status, 200)
        XCTAssertEqual(response.body, "ok\n")
        XCTAssertTrue(client.readsEndOfStream())
    }

    func testRootServesTheBrowserClientAndItsModules() throws {
        try start()
        let page = try client()
        page.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try page.readResponse()
        XCTAssertEqual(response.head.status, 200)
        XCTAssertEqual(response.head.headers["Content-Type"], "text/html; charset=utf-8")
        XCTAssertTrue(response.body.contains("<title>Tickwire Arena</title>"))
        XCTAssertTrue(response.body.contains("<script type=\"module\" src=\"/app.js\"></script>"))
        let module = try client()
        module.send("GET /tickwire.js HTTP/1.1\r\nHost: x\r\n\r\n")
        let script = try module.readResponse()
        XCTAssertEqual(script.head.headers["Content-Type"], "text/javascript; charset=utf-8")
        XCTAssertTrue(script.body.contains("export const SUBPROTOCOL = \"tickwire.v1\";"))
    }

    func testWithoutClientFilesTheServerFallsBackToThePlaceholderPage() throws {
        try start { $0.staticDirectory = "/nonexistent-tickwire-static" }
        let page = try client()
        page.send("GET / HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try page.readResponse()
        XCTAssertEqual(response.head.status, 200)
        XCTAssertTrue(response.body.contains("<h1>Tickwire</h1>"))
    }

    func testUnknownPathIs404WithAReason() throws {
        try start()
        let client = try client()
        client.send("GET /nope HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.head.status, 404)
        XCTAssertEqual(response.body, "404 Not Found: no route for /nope\n")
    }

    func testOversizedRequestHeadIs431AndLogged() throws {
        try start { $0.headBytesMax = 1024 }
        let client = try client()
        client.send("GET / HTTP/1.1\r\nHost: x\r\nX-Big: \(String(repeating: "a", count: 2000))\r\n\r\n")
        XCTAssertEqual(try client.readResponse().head.status, 431)
        XCTAssertTrue(log.waitFor("bad HTTP request: headTooLarge(limitBytes: 1024) (431)"))
    }

    func testMalformedRequestIs400() throws {
        try start()
        let client = try client()
        client.send("HELLO\r\n\r\n")
        XCTAssertEqual(try client.readResponse().head.status, 400)
    }

    func testPlainGetOnTheEchoPathIs426() throws {
        try start()
        let client = try client()
        client.send("GET /echo HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.head.status, 426)
        XCTAssertEqual(response.head.headers["Upgrade"], "websocket")
    }

    func testWrongWebSocketVersionIs426WithVersion13() throws {
        try start()
        let client = try client()
        client.send("GET /echo HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 8\r\n\r\n")
        let response = try client.readResponse()
        XCTAssertEqual(response.head.status, 426)
        XCTAssertEqual(response.head.headers["Sec-WebSocket-Version"], "13")
    }

    func testCrossSiteOriginIs403AndLoggedUnlessAllowed() throws {
        try start { $0.allowedOrigins = ["http://friend.example"] }
        let refused = try client()
        XCTAssertEqual(try refused.upgrade(extraHeaders: "Origin: http://evil.example\r\n").status, 403)
        XCTAssertTrue(log.waitFor("handshake refused: origin http://evil.example is not allowed (403)"))
        let allowed = try client()
        XCTAssertEqual(try allowed.upgrade(extraHeaders: "Origin: http://friend.example\r\n").status, 101)
    }

    func testClientThatSendsNothingIsClosedAtTheHandshakeTimeout() throws {
        try start { $0.connectionLimits.handshakeTimeoutNs = 200_000_000 }
        let client = try client()
        XCTAssertTrue(client.readsEndOfStream())
        XCTAssertTrue(log.waitFor("handshake timeout after 200 ms"))
    }

    func testConnectionsOverTheLimitGet503() throws {
        try start { $0.connectionsMax = 1 }
        let first = try client()
        XCTAssertEqual(try first.upgrade().status, 101)
        let second = try client()
        second.send("GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        let response = try second.readResponse()
        XCTAssertEqual(response.head.status, 503)
        XCTAssertEqual(response.body, "503 Service Unavailable: server is full\n")
    }

    // MARK: WebSocket echo

    func testEchoReturnsTextAndBinaryUnchanged() throws {
        try start()
        let client = try client()
        XCTAssertEqual(try client.upgrade().status, 101)
        client.send(frame(0x1, Array("héllo".utf8)))
        let text = try client.readFrame()
        XCTAssertEqual(text.opcode, 0x1)
        XCTAssertEqual(text.payload, Array("héllo".utf8))
        let binary = (0..<70_000).map { UInt8(truncatingIfNeeded: $0 * 31) }
        client.send(frame(0x2, binary))
        let echoed = try client.readFrame()
        XCTAssertEqual(echoed.opcode, 0x2)
        XCTAssertEqual(echoed.payload, binary)
    }

    func testFragmentedMessageIsEchoedWhole() throws {
        try start()
        let client = try client()
        XCTAssertEqual(try client.upgrade().status, 101)
        client.send(frame(0x1, Array("frag".utf8), fin: false) + frame(0x9, [7]) + frame(0x0, Array("ment".utf8)))
        let pong = try client.readFrame()
        XCTAssertEqual(pong.opcode, 0xA)
        XCTAssertEqual(pong.payload, [7])
        let echoed = try client.readFrame()
        XCTAssertEqual(echoed.payload, Array("fragment".utf8))
    }

    func testFramePipelinedWithTheUpgradeRequestIsNotLost() throws {
        try start()
        let client = try client()
        XCTAssertEqual(try client.upgrade(pipelined: frame(0x1, Array("early".utf8))).status, 101)
        XCTAssertEqual(try client.readFrame().payload, Array("early".utf8))
    }

    func testPingIsAnsweredWithTheSamePayload() throws {
        try start()
        let client = try client()
        XCTAssertEqual(try client.upgrade().status, 101)
        client.send(frame(0x9, Array("are you there".utf8)))
        let pong = try client.readFrame()
        XCTAssertEqual(pong.opcode, 0xA)
        XCTAssertEqual(pong.payload, Array("are you there".utf8))
    }

    func testCleanCloseIsAnsweredWithTheSameCodeThenTCPEnds() throws {
        try start()
        let client = try client()
        XCTAssertEqual(try client.upgrade().status, 101)
        client.send(frame(0x8, [0x03, 0xE8] + Array("bye".utf8)))
        XCTAssertEqual(try client.readClose().code, 1000)
        XCTAssertTrue(client.readsEndOfStream())
    }

    func testUnmaskedFrameIsClosedWith1002AndLogged() throws {
        try start()
        let client = try client()
        XCTAssertEqual(try client.upgrade().status, 101)
        client.send([0x81, 0x02, 0x68, 0x69])
        let close = try client.readClose()
        XCTAssertEqual(close.code, 1002)
        XCTAssertEqual(close.reason, "client frames must be masked")
        XCTAssertTrue(client.readsEndOfStream())
        XCTAssertTrue(log.waitFor("closing with 1002: client frames must be masked"))
    }

    func testOversizedMessageIsClosedWith1009() throws {
        try start { $0.webSocketLimits = WebSocketLimits(frameBytesMax: 4096, messageBytesMax: 4096) }
        let client = try client()
        XCTAssertEqual(try client.upgrade().status, 101)
        client.send(frame(0x2, [UInt8](repeating: 0, count: 4097)))
        XCTAssertEqual(try client.readClose().code, 1009)
        XCTAssertTrue(client.readsEndOfStream())
    }

    func testInvalidUTF8IsClosedWith1007() throws {
        try start()
        let client = try client()
        XCTAssertEqual(try client.upgrade().status, 101)
        client.send(frame(0x1, [0x61, 0xFF]))
        XCTAssertEqual(try client.readClose().code, 1007)
    }

    func testShutdownClosesClientsWith1001AndStops() throws {
        try start()
        let client = try client()
        XCTAssertEqual(try client.upgrade().status, 101)
        server.shutdown()
        let close = try client.readClose()
        XCTAssertEqual(close.code, 1001)
        XCTAssertEqual(close.reason, "server shutting down")
        client.send(frame(0x8, [0x03, 0xE9]))
        XCTAssertTrue(client.readsEndOfStream())
        server.waitUntilStopped()
        server = nil
        XCTAssertTrue(log.all.contains { $0.contains("tickwire stopped") })
    }
}
