/// An HDR-style histogram of non-negative integers (microseconds here): each power of two is split into 128
/// linear sub-buckets, so any percentile is within 1/128 (0.8%) of the true value, from 1 µs up to 2^40 µs, in a
/// fixed 5,248-bucket array. Recording is O(1) and allocation-free; histograms merge by adding counts.
public struct LatencyHistogram: Sendable, Equatable {
    static let subBucketBits = 7
    static let subBucketCount = 1 << subBucketBits
    static let exponentsMax = 41

    private var counts = [UInt64](repeating: 0, count: LatencyHistogram.subBucketCount * LatencyHistogram.exponentsMax)
    /// Values recorded.
    public private(set) var count: UInt64 = 0
    /// The largest value recorded.
    public private(set) var max: UInt64 = 0
    private var sum: UInt64 = 0

    public init() {}

    /// The mean of the recorded values.
    public var mean: Double { count == 0 ? 0 : Double(sum) / Double(count) }

    static func bucket(of value: UInt64) -> Int {
        if value < UInt64(subBucketCount) { return Int(value) }
        let exponent = 63 - value.leadingZeroBitCount - subBucketBits + 1  // ≥ 1
        let sub = Int(value >> UInt64(exponent)) - subBucketCount / 2       // 64...127 → 0...63, shifted into the upper half
        return Swift.min(exponent * subBucketCount / 2 + subBucketCount / 2 + sub, subBucketCount * exponentsMax - 1)
    }

    /// The highest value that falls in `bucket` (what percentiles report: never below the truth).
    static func upperBound(of bucket: Int) -> UInt64 {
        if bucket < subBucketCount { return UInt64(bucket) }
        let exponent = (bucket - subBucketCount / 2) / (subBucketCount / 2)
        let sub = (bucket - subBucketCount / 2) % (subBucketCount / 2) + subBucketCount / 2
        return (UInt64(sub + 1) << UInt64(exponent)) - 1
    }

    /// Adds one value.
    public mutating func record(_ value: UInt64) {
        counts[LatencyHistogram.bucket(of: value)] += 1
        count += 1
        sum &+= value
        max = Swift.max(max, value)
    }

    /// The value at `quantile` (0...1): at least that fraction of recorded values are at or below it.
    public func value(atQuantile quantile: Double) -> UInt64 {
        guard count > 0 else { return 0 }
        let target = Swift.max(1, UInt64((Double(count) * quantile).rounded(.up)))
        var seen: UInt64 = 0
        for (bucket, bucketCount) in counts.enumerated() where bucketCount > 0 {
            seen += bucketCount
            if seen >= target { return Swift.min(LatencyHistogram.upperBound(of: bucket), max) }
        }
        return max
    }

    /// Adds another histogram's values.
    public mutating func merge(_ other: LatencyHistogram) {
        for index in counts.indices { counts[index] += other.counts[index] }
        count += other.count
        sum &+= other.sum
        max = Swift.max(max, other.max)
    }
}

extension LatencyHistogram {
    /// The values recorded after `earlier` was copied from this histogram (a window of a running histogram).
    /// The window's max is its highest bucket's upper bound.
    public func since(_ earlier: LatencyHistogram) -> LatencyHistogram {
        var window = LatencyHistogram()
        for index in counts.indices where counts[index] > earlier.counts[index] {
            window.counts[index] = counts[index] - earlier.counts[index]
            window.count += window.counts[index]
            window.max = Swift.min(LatencyHistogram.upperBound(of: index), max)
        }
        window.sum = sum > earlier.sum ? sum - earlier.sum : 0
        return window
    }
}
