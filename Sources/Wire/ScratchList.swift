/// A list of at most `storage.count` elements in memory someone else owns (a `withUnsafeTemporaryAllocation`
/// buffer): appends without any allocation. The owner calls `removeAll()` before the memory goes away.
struct ScratchList<Element> {
    private let storage: UnsafeMutableBufferPointer<Element>
    private(set) var count = 0

    init(_ storage: UnsafeMutableBufferPointer<Element>) { self.storage = storage }

    /// Adds `element`; the caller sized the storage for every append.
    mutating func append(_ element: Element) {
        precondition(count < storage.count, "scratch list full")
        (storage.baseAddress! + count).initialize(to: element)
        count &+= 1
    }

    subscript(position: Int) -> Element {
        precondition(position >= 0 && position < count, "scratch list index out of range")
        return storage[position]
    }

    /// Deinitializes every element.
    mutating func removeAll() {
        if count > 0 { storage.baseAddress!.deinitialize(count: count) }
        count = 0
    }
}
