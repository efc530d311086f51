/// Client messages encoded back to back in one reused buffer, each to go out as a WebSocket message of its own: a
/// client writing several at once (a bot's batch of inputs) encodes them without allocating (a message encoded
/// alone costs two allocations: about half a million a second for 5,000 bots).
public struct ClientMessageBatch {
    /// The messages' bytes, one after another.
    public private(set) var bytes: [UInt8] = []
    /// Where each message ends in `bytes`, in order.
    public private(set) var ends: [Int] = []
    private var writer = BitWriter()

    public init() {}

    /// Messages in the batch.
    public var count: Int { ends.count }
    public var isEmpty: Bool { ends.isEmpty }

    /// Message `position`'s bytes.
    public subscript(position: Int) -> ArraySlice<UInt8> {
        bytes[(position == 0 ? 0 : ends[position - 1])..<ends[position]]
    }

    /// Encodes `message` after the others; `inputBitCount` is the game's.
    public mutating func append(_ message: ClientMessage, inputBitCount: Int) throws(WireError) {
        try message.append(to: &bytes, inputBitCount: inputBitCount, using: &writer)
        ends.append(bytes.count)
    }

    /// Empties the batch, keeping its storage for the next.
    public mutating func removeAll() {
        bytes.removeAll(keepingCapacity: true)
        ends.removeAll(keepingCapacity: true)
    }
}
