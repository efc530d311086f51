/// The last `capacity` values recorded, in a ring: recording is O(1) on every tick (a sliding array shifted the
/// whole window per value), and the percentile is taken over the window only when asked (once a second).
struct RecentSamples {
    let capacity: Int
    private var values: [Double] = []
    private var next = 0

    init(capacity: Int) {
        precondition(capacity > 0)
        self.capacity = capacity
        values.reserveCapacity(capacity)
    }

    mutating func record(_ value: Double) {
        if values.count < capacity {
            values.append(value)
        } else {
            values[next] = value
        }
        next = (next + 1) % capacity
    }

    /// The value at or under which `quantile` (0…1) of the window lies; 0 when the window is empty.
    func percentile(_ quantile: Double) -> Double {
        guard !values.isEmpty else { return 0 }
        let sorted = values.sorted()
        return sorted[min(sorted.count - 1, Int(Double(sorted.count) * quantile))]
    }
}
