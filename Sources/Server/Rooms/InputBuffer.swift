import Engine

/// One player's inputs waiting for their ticks: bounded, oldest first. A tick takes at most one; when none has
/// arrived the player's last input repeats (so a late packet does not stop a moving player).
struct InputBuffer {
    private var pending: [(sequence: UInt32, bits: InputBits)] = []
    private(set) var lastApplied = InputBits.neutral
    /// The newest sequence applied by the simulation (reported back in snapshots for reconciliation).
    private(set) var lastAppliedSequence: UInt32 = 0
    private var newestQueuedSequence: UInt32 = 0
    private var hasQueued = false
    /// Inputs refused because the buffer was full or they were older than what was already queued, or trimmed.
    private(set) var droppedCount = 0
    let capacity: Int
    /// A client whose clock runs slightly fast keeps a standing queue, and every input waits behind it. When more
    /// than `standingDepthMax` inputs have waited for `standingTicksMax` ticks in a row, the oldest extras are
    /// dropped (and counted). A burst, such as a hiccup on the player's network, is still absorbed.
    static let standingDepthMax = 2
    static let standingTicksMax = 30
    private var ticksAboveStandingDepth = 0

    init(capacity: Int) { self.capacity = capacity }

    /// Queues an input; false (and counted) when it is stale or the buffer is full.
    mutating func push(sequence: UInt32, bits: InputBits) -> Bool {
        // Sequence numbers wrap: "newer" is a forward distance under half the range.
        let reference = hasQueued ? newestQueuedSequence : lastAppliedSequence
        if (hasQueued || lastAppliedSequence != 0) && (sequence &- reference == 0 || sequence &- reference > UInt32.max / 2) {
            droppedCount += 1
            return false
        }
        guard pending.count < capacity else {
            droppedCount += 1
            return false
        }
        pending.append((sequence, bits))
        newestQueuedSequence = sequence
        hasQueued = true
        return true
    }

    /// Drops queued inputs and repeats "no buttons" from now on (a disconnected player stands still).
    mutating func stopMoving() {
        pending.removeAll()
        lastApplied = .neutral
    }

    /// The input for this tick.
    mutating func take() -> InputBits {
        if pending.count > Self.standingDepthMax {
            ticksAboveStandingDepth += 1
            if ticksAboveStandingDepth >= Self.standingTicksMax {
                let extra = pending.count - 1
                pending.removeFirst(extra)
                droppedCount += extra
                ticksAboveStandingDepth = 0
            }
        } else {
            ticksAboveStandingDepth = 0
        }
        if !pending.isEmpty {
            let next = pending.removeFirst()
            lastApplied = next.bits
            lastAppliedSequence = next.sequence
        }
        return lastApplied
    }
}
