/// A binary min-heap of timer deadlines. Cancelled timers stay in the heap and are skipped when they surface.
struct TimerHeap {
    struct Entry {
        var deadlineNs: UInt64
        var id: UInt64
    }

    private(set) var entries: [Entry] = []

    var isEmpty: Bool { entries.isEmpty }
    var earliest: Entry? { entries.first }

    mutating func insert(_ entry: Entry) {
        entries.append(entry)
        var child = entries.count - 1
        while child > 0 {
            let parent = (child - 1) / 2
            guard precedes(entries[child], entries[parent]) else { break }
            entries.swapAt(child, parent)
            child = parent
        }
    }

    mutating func popEarliest() -> Entry? {
        guard !entries.isEmpty else { return nil }
        entries.swapAt(0, entries.count - 1)
        let earliest = entries.removeLast()
        var parent = 0
        while true {
            let left = 2 * parent + 1
            let right = left + 1
            var smallest = parent
            if left < entries.count && precedes(entries[left], entries[smallest]) { smallest = left }
            if right < entries.count && precedes(entries[right], entries[smallest]) { smallest = right }
            guard smallest != parent else { break }
            entries.swapAt(parent, smallest)
            parent = smallest
        }
        return earliest
    }

    /// Earlier deadline first; equal deadlines in scheduling order, so timers fire in a deterministic order.
    private func precedes(_ a: Entry, _ b: Entry) -> Bool {
        a.deadlineNs < b.deadlineNs || (a.deadlineNs == b.deadlineNs && a.id < b.id)
    }
}
