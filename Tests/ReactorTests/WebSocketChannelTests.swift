import Reactor
import Synchronization
import WebSocket
import XCTest

/// Server side for channel tests: performs the upgrade with `ServerHandshake`, then echoes.
final class UpgradeThenEcho: TCPConnectionDelegate, WebSocketChannelHandler {
    private var head: [UInt8] = []
    let limits: WebSocketLimits
    let closes = Collected<UInt16>()
    let violations = Collected<String>()
    init(limits: WebSocketLimits) { self.limits = limits }

    func connectionDidRead(_ connection: TCPConnection, _ bytes: UnsafeMutableRawBufferPointer) {
        head.append(contentsOf: bytes)
        guard let length = try? HTTPHeadParser.headLength(in: head, limitBytes: 8192),
              let request = try? HTTPHeadParser.parseRequest(head, length: length),
              case .success(let acceptance) = ServerHandshake.accept(request, policy: HandshakePolicy(subprotocols: ["tickwire.v1"]))
        else { return }
        _ = acceptance.response.withUnsafeBytes { connection.write($0) }
        let channel = WebSocketChannel(connection: connection, role: .server, subprotocol: acceptance.subprotocol, limits: limits, handler: self)
        let violations = self.violations
        channel.violationLogger = { _, code, reason in violations.append("\(code) \(reason)") }
    }
    func connectionDidClose(_ connection: TCPConnection, reason: TCPCloseReason) {}

    func channel(_ channel: WebSocketChannel, didReceiveText bytes: UnsafeRawBufferPointer) { channel.send(.text, bytes) }
    func channel(_ channel: WebSocketChannel, didReceiveBinary bytes: UnsafeRawBufferPointer) { channel.send(.binary, bytes) }
    func channelDidClose(_ channel: WebSocketChannel, code: UInt16, reason: String) { closes.append(code) }
}

/// Client side: records messages, pongs and the close.
final class RecordingChannelHandler: WebSocketChannelHandler, @unchecked Sendable {
    let texts = Collected<String>()
    let binaries = Collected<[UInt8]>()
    let pongs = Collected<[UInt8]>()
    let closes = Collected<UInt16>()
    func channel(_ channel: WebSocketChannel, didReceiveText bytes: UnsafeRawBufferPointer) { texts.append(String(decoding: bytes, as: UTF8.self)) }
    func channel(_ channel: WebSocketChannel, didReceiveBinary bytes: UnsafeRawBufferPointer) { binaries.append(Array(bytes)) }
    func channel(_ channel: WebSocketChannel, didReceivePong bytes: UnsafeRawBufferPointer) { pongs.append(Array(bytes)) }
    func channelDidClose(_ channel: WebSocketChannel, code: UInt16, reason: String) { closes.append(code) }
}

/// Client side that notes each read it is told of before its messages, and sends one message from the first notice.
final class NotesReadsBeforeMessages: WebSocketChannelHandler, @unchecked Sendable {
    let events = Collected<String>()
    private var sentFromNotice = false
    func channelWillRead(_ channel: WebSocketChannel) {
        events.append("will read")
        guard !sentFromNotice else { return }
        sentFromNotice = true
        _ = [UInt8]([42]).withUnsafeBytes { channel.send(binary: $0) }
    }
    func channel(_ channel: WebSocketChannel, didReceiveBinary bytes: UnsafeRawBufferPointer) { events.append("binary \(Array(bytes))") }
    func channelDidClose(_ channel: WebSocketChannel, code: UInt16, reason: String) {}
}

final class WebSocketChannelTests: LoopGroupTestCase {
    private func startServer(_ server: UpgradeThenEcho, limits: ConnectionLimits = ConnectionLimits()) throws -> UInt16 {
        try startListener(on: group.loops[0], limits: limits) { server }
    }

    private func connectClient(port: UInt16, handler: WebSocketChannelHandler & Sendable, limits: ConnectionLimits = ConnectionLimits())
        -> Result<OnLoop<WebSocketChannel>, WebSocketConnectError>?
    {
        let loop = group.loops[1]
        let result = Collected<Result<OnLoop<WebSocketChannel>, WebSocketConnectError>>()
        runOn(loop) {
            WebSocketClient.connect(host: "127.0.0.1", port: port, path: "/x", subprotocols: ["tickwire.v1"], on: loop, limits: limits,
                                    handler: handler) { outcome in result.append(outcome.map { OnLoop($0) }) }
        }
        _ = waitUntil { !result.values.isEmpty }
        return result.values.first
    }

    func testClientHandshakeNegotiatesSubprotocolAndMessagesEchoInBothTypes() throws {
        let port = try startServer(UpgradeThenEcho(limits: WebSocketLimits()))
        let handler = RecordingChannelHandler()
        let channel = try XCTUnwrap(try connectClient(port: port, handler: handler)?.get())
        XCTAssertEqual(channel.value.subprotocol, "tickwire.v1")
        let big = (0..<200_000).map { UInt8(truncatingIfNeeded: $0) }
        runOn(group.loops[1]) {
            channel.value.send(text: "héllo")
            _ = big.withUnsafeBytes { channel.value.send(binary: $0) }
            _ = [UInt8]([1, 2, 3]).withUnsafeBytes { channel.value.sendPing($0) }
        }
        XCTAssertTrue(waitUntil { handler.texts.values == ["héllo"] && handler.binaries.values.count == 1 && handler.pongs.values.count == 1 })
        XCTAssertEqual(handler.binaries.values[0], big)
        XCTAssertEqual(handler.pongs.values, [[1, 2, 3]])
    }

    func testMessagesStoredBackToBackGoOutAsSeparateMessagesInOrder() throws {
        let port = try startServer(UpgradeThenEcho(limits: WebSocketLimits()))
        let handler = RecordingChannelHandler()
        let channel = try XCTUnwrap(try connectClient(port: port, handler: handler)?.get())
        let small: [[UInt8]] = [[1], [], [2, 3, 4], [UInt8](repeating: 7, count: 300)]
        // Together larger than the loop's scratch buffer: each goes out as a write of its own.
        let large: [[UInt8]] = [[UInt8](repeating: 8, count: 40_000), [UInt8](repeating: 9, count: 40_000)]
        func ends(_ messages: [[UInt8]]) -> [Int] { messages.reduce(into: []) { $0.append(($0.last ?? 0) + $1.count) } }
        runOn(group.loops[1]) {
            _ = small.flatMap { $0 }.withUnsafeBytes { channel.value.send(binaryMessagesIn: $0, ends: ends(small)) }
            _ = large.flatMap { $0 }.withUnsafeBytes { channel.value.send(binaryMessagesIn: $0, ends: ends(large)) }
        }
        XCTAssertTrue(waitUntil { handler.binaries.values.count == small.count + large.count })
        XCTAssertEqual(handler.binaries.values, small + large)
    }

    func testTheHandlerIsToldOfEachReadBeforeItsMessagesAndMaySendThen() throws {
        let port = try startServer(UpgradeThenEcho(limits: WebSocketLimits()))
        let handler = NotesReadsBeforeMessages()
        let channel = try XCTUnwrap(try connectClient(port: port, handler: handler)?.get())
        runOn(group.loops[1]) { _ = [UInt8]([1, 2]).withUnsafeBytes { channel.value.send(binary: $0) } }
        // The echo of [1, 2] is read after a notice, whose send ([42]) is echoed back in turn.
        XCTAssertTrue(waitUntil { handler.events.values.filter { $0.hasPrefix("binary") }.count == 2 })
        let events = handler.events.values
        XCTAssertEqual(events.filter { $0.hasPrefix("binary") }, ["binary [1, 2]", "binary [42]"])
        XCTAssertEqual(events.first, "will read")
        for (position, event) in events.enumerated() where event.hasPrefix("binary") {
            XCTAssertTrue(events[..<position].contains("will read"), "a read is announced before its messages")
        }
    }

    func testCloseHandshakeCompletesWithTheSameCodeOnBothSides() throws {
        let server = UpgradeThenEcho(limits: WebSocketLimits())
        let port = try startServer(server)
        let handler = RecordingChannelHandler()
        let channel = try XCTUnwrap(try connectClient(port: port, handler: handler)?.get())
        runOn(group.loops[1]) { channel.value.close(code: 4001, reason: "done") }
        XCTAssertTrue(waitUntil { server.closes.values == [4001] })
        XCTAssertEqual(handler.closes.values, [4001])
        XCTAssertTrue(waitUntil { runOn(self.group.loops[1]) { !channel.value.connection.isOpen } }, "TCP ends after the handshake")
    }

    func testOversizedMessageFailsTheConnectionWith1009() throws {
        let server = UpgradeThenEcho(limits: WebSocketLimits(frameBytesMax: 1000, messageBytesMax: 1000))
        let port = try startServer(server)
        let handler = RecordingChannelHandler()
        let channel = try XCTUnwrap(try connectClient(port: port, handler: handler)?.get())
        runOn(group.loops[1]) { _ = [UInt8](repeating: 0, count: 1001).withUnsafeBytes { channel.value.send(binary: $0) } }
        XCTAssertTrue(waitUntil { server.closes.values == [1009] && handler.closes.values == [1009] })
        XCTAssertEqual(server.violations.values, ["1009 frame of 1001 bytes over the limit of 1000"])
    }

    func testSilentPeerIsPingedAndThenClosedAtTheIdleTimeout() throws {
        var limits = ConnectionLimits()
        limits.pingIntervalNs = 50_000_000
        limits.idleTimeoutNs = 300_000_000
        let server = UpgradeThenEcho(limits: WebSocketLimits())
        let port = try startServer(server, limits: limits)
        // The client answers pings automatically, so it stays alive past the idle timeout…
        let handler = RecordingChannelHandler()
        let channel = try XCTUnwrap(try connectClient(port: port, handler: handler)?.get())
        usleep(600_000)
        XCTAssertTrue(server.closes.values.isEmpty, "a peer that answers pings is not idle")
        // …until it stops reading altogether.
        runOn(group.loops[1]) { channel.value.connection.pauseReading() }
        XCTAssertTrue(waitUntil(seconds: 3) { server.closes.values == [1001] })
        XCTAssertEqual(server.violations.values, ["1001 idle timeout"])
    }

    func testHandshakeRefusalIsReportedToTheClient() throws {
        // A plain TCP echo is not a WebSocket server: its "response" is our own request.
        let port = try startListener(on: group.loops[0]) { EchoDelegate() }
        let outcome = connectClient(port: port, handler: RecordingChannelHandler())
        guard case .failure(.handshakeRejected(.malformedResponse)) = outcome else { return XCTFail("\(String(describing: outcome))") }
    }
}
