import Foundation
import Glibc
import Reactor
import Synchronization
import XCTest

/// Echoes bytes back and records what happened, for transport tests.
final class EchoDelegate: TCPConnectionDelegate {
    let closes = Collected<TCPCloseReason>()
    let loopsSeen = Collected<Int>()
    func connectionDidRead(_ connection: TCPConnection, _ bytes: UnsafeMutableRawBufferPointer) {
        loopsSeen.append(connection.loop.index)
        connection.write(UnsafeRawBufferPointer(bytes))
    }
    func connectionDidClose(_ connection: TCPConnection, reason: TCPCloseReason) { closes.append(reason) }
}

/// A client side that records bytes, writability changes, and closes.
final class RecordingDelegate: TCPConnectionDelegate, @unchecked Sendable {
    let received = Mutex<[UInt8]>([])
    let connected = Mutex(false)
    let writability = Collected<Bool>()
    let closes = Collected<TCPCloseReason>()
    func connectionDidConnect(_ connection: TCPConnection) { connected.withLock { $0 = true } }
    func connectionDidRead(_ connection: TCPConnection, _ bytes: UnsafeMutableRawBufferPointer) {
        received.withLock { $0.append(contentsOf: bytes) }
    }
    func connectionDidChangeWritability(_ connection: TCPConnection, isWritable: Bool) { writability.append(isWritable) }
    func connectionDidClose(_ connection: TCPConnection, reason: TCPCloseReason) { closes.append(reason) }
}

final class TCPConnectionTests: LoopGroupTestCase {
    private let accepted = Collected<OnLoop<TCPConnection>>()

    /// Starts a listener on loop 0 whose connections get `makeDelegate()`; returns its port.
    private func listen(limits: ConnectionLimits = ConnectionLimits(), _ makeDelegate: @escaping () -> TCPConnectionDelegate) throws -> UInt16 {
        let accepted = self.accepted
        return try startListener(on: group.loops[0], limits: limits, onAccepted: { accepted.append(OnLoop($0)) }, makeDelegate)
    }

    private func connect(port: UInt16, loop: EventLoop, limits: ConnectionLimits = ConnectionLimits(),
                         delegate: RecordingDelegate) -> OnLoop<TCPConnection> {
        runOn(loop) { OnLoop(try! TCPConnection.connect(host: "127.0.0.1", port: port, on: loop, limits: limits, delegate: delegate)) }
    }

    func testClientConnectsAndBytesEchoBack() throws {
        let port = try listen { EchoDelegate() }
        let client = RecordingDelegate()
        let connection = connect(port: port, loop: group.loops[1], delegate: client)
        XCTAssertTrue(waitUntil { client.connected.withLock { $0 } })
        let message = Array("hello over loopback".utf8)
        runOn(group.loops[1]) { _ = message.withUnsafeBytes { connection.value.write($0) } }
        XCTAssertTrue(waitUntil { client.received.withLock { $0 } == message })
    }

    func testConnectToAClosedPortReportsAnError() throws {
        let client = RecordingDelegate()
        _ = connect(port: 1, loop: group.loops[1], delegate: client)  // nothing listens on port 1 here
        XCTAssertTrue(waitUntil { !client.closes.values.isEmpty })
        guard case .error(let error) = client.closes.values.first else { return XCTFail("\(client.closes.values)") }
        XCTAssertEqual(error.errno, ECONNREFUSED)
    }

    func testPeerThatStopsReadingTurnsBackpressureOnAndOffAtTheWatermarks() throws {
        var limits = ConnectionLimits()
        limits.writeHighWatermarkBytes = 64 * 1024
        limits.writeLowWatermarkBytes = 16 * 1024
        let serverSide = RecordingDelegate()
        let port = try listen(limits: limits) { serverSide }
        let client = RecordingDelegate()
        let clientConnection = connect(port: port, loop: group.loops[1], delegate: client)
        XCTAssertTrue(waitUntil { !self.accepted.values.isEmpty && client.connected.withLock { $0 } })
        let server = accepted.values[0].value
        // Stop reading on the client so the kernel buffers fill, then write until the server's queue passes the watermark.
        runOn(group.loops[1]) { clientConnection.value.pauseReading() }
        let chunk = [UInt8](repeating: 0x5A, count: 64 * 1024)
        let queued = runOn(group.loops[0]) { () -> Int in
            var rounds = 0
            while server.isWritable && rounds < 2000 {
                _ = chunk.withUnsafeBytes { server.write($0) }
                rounds += 1
            }
            return server.unsentBytes
        }
        XCTAssertGreaterThan(queued, limits.writeHighWatermarkBytes)
        XCTAssertEqual(serverSide.writability.values, [false])
        runOn(group.loops[1]) { clientConnection.value.resumeReading() }
        XCTAssertTrue(waitUntil { serverSide.writability.values == [false, true] })
        XCTAssertTrue(waitUntil { runOn(self.group.loops[0]) { server.unsentBytes } == 0 })
    }

    func testPeerThatNeverReadsIsDisconnectedAtTheWriteQueueLimit() throws {
        var limits = ConnectionLimits()
        limits.writeHighWatermarkBytes = 64 * 1024
        limits.writeLowWatermarkBytes = 0
        limits.writeQueueBytesMax = 256 * 1024
        let serverSide = RecordingDelegate()
        let port = try listen(limits: limits) { serverSide }
        let client = RecordingDelegate()
        let clientConnection = connect(port: port, loop: group.loops[1], delegate: client)
        XCTAssertTrue(waitUntil { !self.accepted.values.isEmpty && client.connected.withLock { $0 } })
        runOn(group.loops[1]) { clientConnection.value.pauseReading() }
        let server = accepted.values[0].value
        let chunk = [UInt8](repeating: 1, count: 64 * 1024)
        runOn(group.loops[0]) {
            for _ in 0..<1000 where server.isOpen { _ = chunk.withUnsafeBytes { server.write($0) } }
        }
        XCTAssertEqual(serverSide.closes.values, [.writeQueueOverflow])
    }

    func testConnectionMovedToAnotherLoopIsServedThere() throws {
        let echo = EchoDelegate()
        let port = try listen { echo }
        let client = RecordingDelegate()
        let clientConnection = connect(port: port, loop: group.loops[1], delegate: client)
        XCTAssertTrue(waitUntil { !self.accepted.values.isEmpty && client.connected.withLock { $0 } })
        let server = OnLoop(accepted.values[0].value)
        let moved = Collected<Int>()
        let target = group.loops[1]
        runOn(group.loops[0]) { server.value.move(to: target) { connection in moved.append(connection.loop.index) } }
        XCTAssertTrue(waitUntil { moved.values == [1] })
        runOn(group.loops[1]) { _ = Array("x".utf8).withUnsafeBytes { clientConnection.value.write($0) } }
        XCTAssertTrue(waitUntil { client.received.withLock { $0 } == Array("x".utf8) })
        XCTAssertEqual(echo.loopsSeen.values, [1])
    }

    func testPeerClosingIsReported() throws {
        let echo = EchoDelegate()
        let port = try listen { echo }
        let client = RecordingDelegate()
        let clientConnection = connect(port: port, loop: group.loops[1], delegate: client)
        XCTAssertTrue(waitUntil { !self.accepted.values.isEmpty && client.connected.withLock { $0 } })
        runOn(group.loops[1]) { clientConnection.value.close() }
        XCTAssertTrue(waitUntil { echo.closes.values == [.peerClosed] })
        XCTAssertEqual(client.closes.values, [.local])
    }
}

final class LoopShutdownTests: XCTestCase {
    private func openFileDescriptorCount() -> Int {
        var count = 0
        guard let directory = opendir("/proc/self/fd") else { return -1 }
        while readdir(directory) != nil { count += 1 }
        closedir(directory)
        return count
    }

    func testStoppingLoopsClosesTheirListenersAndConnections() throws {
        let before = openFileDescriptorCount()
        try runLoopsWithConnectionsThenStop()
        XCTAssertEqual(openFileDescriptorCount(), before, "every socket, epoll and eventfd fd was closed")
    }

    private func runLoopsWithConnectionsThenStop() throws {
        let group = try EventLoopGroup(count: 2)
        try group.start()
        let loop = group.loops[0]
        let port = try startListener(on: loop) { EchoDelegate() }
        let clients = (0..<5).map { _ in RecordingDelegate() }
        for client in clients {
            runOn(group.loops[1]) { _ = try? TCPConnection.connect(host: "127.0.0.1", port: port, on: group.loops[1], limits: ConnectionLimits(), delegate: client) }
        }
        XCTAssertTrue(waitUntil { clients.allSatisfy { $0.connected.withLock { $0 } } })
        XCTAssertTrue(waitUntil { runOn(loop) { loop.registeredHandlerCount } == 6 }, "listener + 5 accepted connections")
        group.shutdown()
        // Each client closes exactly once: by its own loop stopping, or first by the server's end going away.
        XCTAssertTrue(clients.allSatisfy { $0.closes.values == [.shutdown] || $0.closes.values == [.peerClosed] },
                      "\(clients.map { $0.closes.values })")
    }
}

/// Out of descriptors: the listener pauses instead of spinning, and accepts again once descriptors free.
final class ListenerDescriptorExhaustionTests: XCTestCase {
    func testAcceptOutOfDescriptorsPausesTheListenerAndResumes() throws {
        let group = try EventLoopGroup(count: 1)
        try group.start()
        defer { group.shutdown() }
        let loop = group.loops[0]
        let accepted = Collected<Int32>()
        let errors = Collected<Int32>()
        let listener = try runOn(loop) { () -> Result<OnLoop<TCPListener>, SystemError> in
            do throws(SystemError) {
                let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop, reusePort: false, acceptPauseNs: 50_000_000,
                                               onAccept: { fd, _ in accepted.append(fd) }, onError: { errors.append($0.errno) })
                try listener.start()
                return .success(OnLoop(listener))
            } catch {
                return .failure(error)
            }
        }.get()
        var saved = rlimit()
        getrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved)
        // Every descriptor number under the limit taken (holes filled with /dev/null), the last by the client: the
        // server's accept of it fails with EMFILE.
        let highest = try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").compactMap { Int32($0) }.max() ?? 0
        var tight = saved
        tight.rlim_cur = rlim_t(highest + 2)
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &tight)
        var fillers: [Int32] = []
        for _ in 0..<10_000 {
            let fd = open("/dev/null", O_RDONLY)
            if fd < 0 { break }
            fillers.append(fd)
        }
        close(fillers.removeLast())
        let client = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(client, 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = listener.value.port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        _ = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(client, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) } }
        XCTAssertTrue(waitUntil { errors.values.contains(EMFILE) }, "accept failed for want of descriptors")
        let pauses = runOn(loop) { listener.value.acceptPausesTotal }
        XCTAssertGreaterThanOrEqual(pauses, 1)
        XCTAssertLessThan(errors.values.count, 50, "the listener paused instead of waking again at once")
        setrlimit(Int32(RLIMIT_NOFILE.rawValue), &saved)
        for fd in fillers { close(fd) }
        XCTAssertTrue(waitUntil { accepted.values.count == 1 }, "accepted once descriptors were free")
        for fd in accepted.values { close(fd) }
        close(client)
        runOn(loop) { listener.value.close() }
    }
}
