import Glibc
@testable import Reactor
import XCTest

/// The write queue under a peer that never reads: small writes share chunks, the cost counted is what is held,
/// and draining is linear.
final class WriteQueueTests: XCTestCase {
    func testSmallWritesArePackedIntoSharedChunksAndCostWhatTheyHold() {
        var queue = WriteQueue()
        let pong: [UInt8] = [0x8A, 0x00]
        for _ in 0..<100_000 { pong.withUnsafeBytes { queue.append($0) } }
        XCTAssertEqual(queue.byteCount, 200_000)
        let chunks = (200_000 + WriteQueue.packedChunkBytes - 1) / WriteQueue.packedChunkBytes
        XCTAssertEqual(queue.chunkCount, chunks)
        XCTAssertEqual(queue.costBytes, chunks * (WriteQueue.packedChunkBytes + WriteQueue.chunkOverheadBytes))
        XCTAssertEqual(queue.costOfAppending(2), 0, "room left in the tail")
    }

    func testALargeWriteTakesAChunkOfItsOwnSizeAndDrainingReleasesEverything() throws {
        var queue = WriteQueue()
        let big = [UInt8](repeating: 1, count: 100_000)
        big.withUnsafeBytes { queue.append($0) }
        for _ in 0..<5000 { [UInt8](repeating: 2, count: 10).withUnsafeBytes { queue.append($0) } }
        XCTAssertEqual(queue.costBytes, 100_000 + WriteQueue.chunkOverheadBytes + 13 * (WriteQueue.packedChunkBytes + WriteQueue.chunkOverheadBytes))
        var sockets: [Int32] = [0, 0]
        XCTAssertEqual(socketpair(AF_UNIX, Int32(SOCK_STREAM.rawValue), 0, &sockets), 0)
        defer { close(sockets[0]); close(sockets[1]) }
        var drained = [UInt8](repeating: 0, count: 1 << 16)
        var received = 0
        for _ in 0..<10_000 where !queue.isEmpty {
            XCTAssertGreaterThanOrEqual(queue.flush(to: sockets[0]), 0)
            received += drained.withUnsafeMutableBytes { recv(sockets[1], $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
        }
        XCTAssertTrue(queue.isEmpty)
        XCTAssertEqual(queue.costBytes, 0)
        XCTAssertEqual(queue.chunkCount, 0)
        while received < 150_000 {
            let count = drained.withUnsafeMutableBytes { recv(sockets[1], $0.baseAddress, $0.count, Int32(MSG_DONTWAIT)) }
            guard count > 0 else { break }
            received += count
        }
        XCTAssertEqual(received, 150_000)
    }
}
