import CEpoll
import Glibc
@testable import Reactor
import XCTest

final class BlockingHTTPGetTests: XCTestCase {
    /// A listener that never accepts: the kernel completes the connection, nobody ever answers.
    private func silentListener() throws -> (fd: Int32, port: UInt16) {
        let fd = tw_listen_tcp("127.0.0.1", 0, 8, 0)
        guard fd >= 0 else { throw XCTSkip("no loopback listener: errno \(-fd)") }
        return (fd, UInt16(tw_local_port(fd)))
    }

    func testAServerThatNeverAnswersEndsInATimeoutAtItsDeadline() throws {
        let (fd, port) = try silentListener()
        defer { close(fd) }
        let startNs = monotonicNowNs()
        let result = BlockingHTTPGet.get(host: "127.0.0.1", port: port, path: "/metrics", timeoutMs: 200)
        let elapsedMs = (monotonicNowNs() - startNs) / 1_000_000
        XCTAssertEqual(result.map(\.status), .failure(.timeout))
        XCTAssertGreaterThanOrEqual(elapsedMs, 190)
        XCTAssertLessThan(elapsedMs, 2_000, "the deadline covers the whole exchange")
    }

    func testNothingListeningIsAConnectError() throws {
        let (fd, port) = try silentListener()
        close(fd)  // the port is free again: a connect is refused
        XCTAssertEqual(BlockingHTTPGet.get(host: "127.0.0.1", port: port, path: "/").map(\.status), .failure(.connect(errno: ECONNREFUSED)))
    }

    func testAHostThatIsNotAnIPLiteralIsRefusedBeforeAnyIO() {
        XCTAssertEqual(BlockingHTTPGet.get(host: "example.com", port: 80, path: "/").map(\.status), .failure(.connect(errno: EINVAL)))
    }
}
