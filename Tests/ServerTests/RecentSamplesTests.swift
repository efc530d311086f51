@testable import Server
import XCTest

final class RecentSamplesTests: XCTestCase {
    func testThePercentileIsTakenOverTheLastCapacityValuesOnly() {
        var samples = RecentSamples(capacity: 100)
        XCTAssertEqual(samples.percentile(0.99), 0, "an empty window")
        for value in 1...100 { samples.record(Double(value)) }
        XCTAssertEqual(samples.percentile(0.99), 100)
        XCTAssertEqual(samples.percentile(0.5), 51)
        // 100 more, all small: the first hundred have left the window.
        for _ in 1...100 { samples.record(1) }
        XCTAssertEqual(samples.percentile(0.99), 1)
        samples.record(500)
        XCTAssertEqual(samples.percentile(1.0), 500)
        XCTAssertEqual(samples.percentile(0.5), 1)
    }
}
