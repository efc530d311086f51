@testable import Bots
import XCTest

final class LatencyHistogramTests: XCTestCase {
    func testSmallValuesAreExact() {
        var histogram = LatencyHistogram()
        for value in 1...100 as ClosedRange<UInt64> { histogram.record(value) }
        XCTAssertEqual(histogram.value(atQuantile: 0.5), 50)
        XCTAssertEqual(histogram.value(atQuantile: 0.99), 99)
        XCTAssertEqual(histogram.value(atQuantile: 1), 100)
        XCTAssertEqual(histogram.count, 100)
        XCTAssertEqual(histogram.mean, 50.5)
    }

    func testLargeValuesAreWithinOnePercentAndNeverBelow() {
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<2000 {
            let value = UInt64.random(in: 1...(1 << 36), using: &generator)
            var histogram = LatencyHistogram()
            histogram.record(value)
            let reported = histogram.value(atQuantile: 0.5)
            XCTAssertGreaterThanOrEqual(reported, value)
            XCTAssertLessThanOrEqual(Double(reported - value), Double(value) / 64, "\(value) reported as \(reported)")
        }
    }

    func testBucketsAreMonotonicAndBoundsContainTheirValues() {
        var previous = -1
        for value in stride(from: UInt64(0), to: 1 << 20, by: 7) {
            let bucket = LatencyHistogram.bucket(of: value)
            XCTAssertGreaterThanOrEqual(bucket, previous)
            XCTAssertGreaterThanOrEqual(LatencyHistogram.upperBound(of: bucket), value)
            if bucket > 0 { XCTAssertLessThan(LatencyHistogram.upperBound(of: bucket - 1), value) }
            previous = bucket
        }
    }

    func testPercentilesOfAKnownDistributionAndMerging() {
        var low = LatencyHistogram(), high = LatencyHistogram()
        for _ in 0..<990 { low.record(1000) }
        for _ in 0..<10 { high.record(50_000) }
        low.merge(high)
        XCTAssertEqual(low.count, 1000)
        XCTAssertEqual(low.value(atQuantile: 0.5), 1000 + 7, "1000 lands in a bucket of width 8 (1000...1007)")
        XCTAssertEqual(low.value(atQuantile: 0.995), 50_000)
        XCTAssertEqual(low.max, 50_000)
    }
}
