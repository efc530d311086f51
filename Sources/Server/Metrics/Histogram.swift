/// A cumulative histogram with fixed bucket bounds in microseconds, as Prometheus exposes them.
public struct Histogram: Sendable, Equatable {
    /// Upper bounds (µs) of the buckets; the last bucket is +Inf. Chosen around a 60 Hz tick (16,667 µs).
    /// Fine enough below a tick for capacity runs to read percentiles from it (tools/bench/capacity.sh).
    public static let boundsUs: [Double] = [25, 50, 75, 100, 150, 200, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 4000, 5000, 7500, 10000,
                                            16667, 33333, 100000, 1_000_000]

    /// Observations per bucket (not cumulative; the last is +Inf).
    public private(set) var counts = [Int](repeating: 0, count: Histogram.boundsUs.count + 1)
    public private(set) var sumUs: Double = 0
    public private(set) var count = 0
    /// The largest observation.
    public private(set) var maxUs: Double = 0

    public init() {}

    /// Adds one observation.
    public mutating func record(_ valueUs: Double) {
        var bucket = Histogram.boundsUs.count
        for (index, bound) in Histogram.boundsUs.enumerated() where valueUs <= bound {
            bucket = index
            break
        }
        counts[bucket] += 1
        sumUs += valueUs
        count += 1
        maxUs = max(maxUs, valueUs)
    }

    /// Adds another histogram's observations.
    public mutating func merge(_ other: Histogram) {
        for index in counts.indices { counts[index] += other.counts[index] }
        sumUs += other.sumUs
        count += other.count
        maxUs = max(maxUs, other.maxUs)
    }
}
