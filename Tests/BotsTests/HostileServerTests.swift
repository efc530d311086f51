@testable import Bots
import Engine
import Glibc
import Reactor
import Synchronization
import WebSocket
import Wire
import XCTest

/// A server that answers every bot message with what a hostile one could send: a pong echoing a time far in the
/// bot's future (whose RTT would underflow), and snapshots that do not decode.
private final class HostileGameServer: TCPConnectionDelegate, WebSocketChannelHandler {
    private var head: [UInt8] = []

    func connectionDidRead(_ connection: TCPConnection, _ bytes: UnsafeMutableRawBufferPointer) {
        head.append(contentsOf: bytes)
        guard let length = try? HTTPHeadParser.headLength(in: head, limitBytes: 8192),
              let request = try? HTTPHeadParser.parseRequest(head, length: length),
              case .success(let acceptance) = ServerHandshake.accept(request, policy: HandshakePolicy(subprotocols: [wireSubprotocol]))
        else { return }
        _ = acceptance.response.withUnsafeBytes { connection.write($0) }
        _ = WebSocketChannel(connection: connection, role: .server, subprotocol: acceptance.subprotocol, limits: WebSocketLimits(), handler: self)
    }
    func connectionDidClose(_ connection: TCPConnection, reason: TCPCloseReason) {}

    func channel(_ channel: WebSocketChannel, didReceiveBinary bytes: UnsafeRawBufferPointer) {
        var messages: [ServerMessage] = [.pong(clientTimeUs: .max, serverTimeUs: .max, serverTick: .max)]
        if bytes.first == 1 {  // a join: welcome it at the slowest and the fastest rates the wire allows
            messages.insert(.welcome(.init(player: PlayerID(raw: 1), tickRateHz: 240, snapshotRateHz: 1, serverTick: .max,
                                           worldWidthRaw: .max, worldHeightRaw: .max, resumeToken: .max)), at: 0)
        }
        for message in messages {
            var writer = BitWriter(capacity: 64)
            try? message.write(into: &writer)
            _ = writer.finish().withUnsafeBytes { channel.send(binary: $0) }
        }
        _ = [UInt8]([2, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]).withUnsafeBytes { channel.send(binary: $0) }  // a snapshot cut short
    }
    func channelDidClose(_ channel: WebSocketChannel, code: UInt16, reason: String) {}
}

final class HostileServerTests: XCTestCase {
    /// Starts a listener on `loop` whose connections meet a `HostileGameServer`; returns its port.
    private func listen(on loop: EventLoop) throws -> UInt16 {
        let port = Mutex<Result<UInt16, SystemError>?>(nil)
        loop.execute {
            do throws(SystemError) {
                let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop, reusePort: false, onAccept: { fd, peer in
                    _ = try? TCPConnection.adopt(fd: fd, peer: peer, on: loop, limits: ConnectionLimits(), delegate: HostileGameServer())
                })
                try listener.start()
                port.withLock { $0 = .success(listener.port) }
            } catch {
                port.withLock { $0 = .failure(error) }
            }
        }
        for _ in 0..<500 where port.withLock({ $0 == nil }) { usleep(10_000) }
        return try XCTUnwrap(port.withLock { $0 }).get()
    }

    func testBotsSurviveAServerThatEchoesImpossibleTimesAndBrokenSnapshots() throws {
        let group = try EventLoopGroup(count: 1)
        try group.start()
        defer { group.shutdown() }
        let loop = group.loops[0]
        let port = try listen(on: loop)
        var config = SwarmConfig(target: try XCTUnwrap(BotTarget(url: "ws://127.0.0.1:\(port)/rooms/x")))
        config.bots = 3
        config.durationNs = 1_500_000_000
        config.serverMetricsTimeoutNs = 0
        let result = try Swarm(config: config).run()
        XCTAssertEqual(result.joined, 3)
        XCTAssertGreaterThan(result.implausiblePongs, 0, "pongs from the future are counted, not measured")
        XCTAssertEqual(result.rttUs.count, 0)
        XCTAssertGreaterThan(result.decodeErrors, 0)
    }
}
