@testable import Server
import XCTest

/// The per-address pieces without sockets: address keys, forwarded clients, the limiter's budgets, the logger's.
final class DefenceUnitTests: XCTestCase {
    func testLimitKeysAreTheIPv4AddressOrTheIPv6Slash64() {
        XCTAssertEqual(PeerAddress.limitKey(ofPeer: "127.0.0.9:51000"), "127.0.0.9")
        XCTAssertEqual(PeerAddress.limitKey(ofPeer: "[2001:db8:1:2:3:4:5:6]:443"), "2001:db8:1:2::/64")
        XCTAssertEqual(PeerAddress.limitKey(ofPeer: "[2001:db8:1:2::99]:443"), "2001:db8:1:2::/64")
        XCTAssertEqual(PeerAddress.limitKey(ofPeer: "[::ffff:10.1.2.3]:80"), "10.1.2.3")
        XCTAssertEqual(PeerAddress.limitKey(ofHost: "::1"), "0:0:0:0::/64")
    }

    func testTheForwardedClientIsTheRightMostEntryThatIsNotATrustedProxy() {
        let proxies: Set<String> = ["10.0.0.1"]
        XCTAssertEqual(PeerAddress.forwardedClient("6.6.6.6, 203.0.113.7", trustedProxies: proxies), "203.0.113.7")
        XCTAssertEqual(PeerAddress.forwardedClient("203.0.113.7, 10.0.0.1", trustedProxies: proxies), "203.0.113.7")
        XCTAssertNil(PeerAddress.forwardedClient("not-an-address", trustedProxies: proxies))
        XCTAssertNil(PeerAddress.forwardedClient("", trustedProxies: proxies))
        XCTAssertFalse(PeerAddress.isIPLiteral("1.2.3.256"))
        XCTAssertFalse(PeerAddress.isIPLiteral("1.2.3"))
        XCTAssertTrue(PeerAddress.isIPLiteral("2001:db8::1"))
    }

    func testTheLimiterCountsConnectionsRefillsBudgetsAndForgetsIdleAddresses() {
        var limits = AddressLimits()
        limits.connectionsMax = 2
        limits.requestBurst = 2
        limits.requestsPerSecond = 10
        limits.exemptAddresses = ["127.0.0.1"]
        let limiter = AddressLimiter(limits: limits)
        XCTAssertEqual(limiter.admitConnection("a", nowNs: 0), .allowed)
        XCTAssertEqual(limiter.admitConnection("a", nowNs: 0), .allowed)
        XCTAssertEqual(limiter.admitConnection("a", nowNs: 0), .refused(.addressConnections))
        limiter.releaseConnection("a")
        XCTAssertEqual(limiter.admitConnection("a", nowNs: 0), .allowed)
        XCTAssertEqual(limiter.admitRequest("b", nowNs: 0), .allowed)
        XCTAssertEqual(limiter.admitRequest("b", nowNs: 0), .allowed)
        XCTAssertEqual(limiter.admitRequest("b", nowNs: 0), .refused(.addressRequestRate))
        XCTAssertEqual(limiter.admitRequest("b", nowNs: 100_000_000), .allowed, "a tenth of a second refills one at 10 a second")
        for _ in 0..<1000 { XCTAssertEqual(limiter.admitConnection("127.0.0.1", nowNs: 0), .allowed) }
        limiter.releaseConnection("a")
        limiter.releaseConnection("a")
        // Two seconds on, "b" is full again and "a" has no connection: the next look prunes both.
        _ = limiter.admitConnection("c", nowNs: 2_000_000_000)
        XCTAssertEqual(limiter.trackedAddressCount, 1)
    }

    func testTheAddressTableIsBounded() {
        var limits = AddressLimits()
        limits.addressesTrackedMax = 16
        let limiter = AddressLimiter(limits: limits)
        for index in 0..<16 { XCTAssertEqual(limiter.admitConnection("10.0.0.\(index)", nowNs: 0), .allowed) }
        XCTAssertEqual(limiter.admitConnection("10.0.1.1", nowNs: 0), .refused(.addressTableFull))
    }

    func testOneAddressCannotUseUpTheWholePeerLogBudget() {
        let lines = LogLines()
        let logger = Logger(peerLinesPerSecondMax: 10, peerLinesPerAddressPerSecondMax: 2, sink: lines.sink)
        for index in 0..<50 { logger.peer("10.0.0.1:\(1000 + index)", "flood \(index)") }
        logger.peer("10.0.0.2:1", "the other attacker")
        XCTAssertEqual(lines.all.filter { $0.contains("flood") }.count, 2)
        XCTAssertEqual(lines.all.filter { $0.contains("the other attacker") }.count, 1)
    }

    func testChannelFailuresAreCountedByTheirReason() {
        XCTAssertEqual(ServerLoopContext.rejectionReason(closeCode: 1008, reason: "message not completed in time"), .messageTimeout)
        XCTAssertEqual(ServerLoopContext.rejectionReason(closeCode: 1001, reason: "idle timeout"), .idleTimeout)
        XCTAssertEqual(ServerLoopContext.rejectionReason(closeCode: 1009, reason: "frame too large"), .messageTooLarge)
        XCTAssertEqual(ServerLoopContext.rejectionReason(closeCode: 1002, reason: "unmasked"), .protocolViolation)
    }
}
