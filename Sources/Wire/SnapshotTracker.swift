import Engine

/// A client's side of snapshots (bots, tests; `tickwire.js` has the same for browsers): decodes each snapshot
/// against the baseline it names, keeps what it decoded for `keepTicks` to serve as later baselines, and
/// remembers the newest tick to acknowledge.
public struct SnapshotTracker {
    public let codec: EntityDeltaCodec
    public let keepTicks: UInt32
    /// Ticks of the decoded snapshots that may still be named as baselines, oldest first (ascending), and their
    /// worlds at the same positions. Apart, so that finding a baseline touches only ticks: with thousands of bots in
    /// one process the worlds are cold in the cache, and copying one out to search costs a miss on its header.
    private var baselineTicks: [UInt32] = []
    private var baselineWorlds: [[EntityState]] = []
    /// The newest snapshot tick decoded (to acknowledge in inputs).
    public private(set) var newestTick: UInt32?
    /// Arrays of dropped baselines, emptied, for the next decodes to fill without allocating (a world is a few
    /// kilobytes: too large for malloc's fast path).
    private var spareWorlds: [[EntityState]] = []
    /// Spare arrays kept at most (a few: baselines are dropped a few at a time).
    static let spareWorldsMax = 4
    /// What `touch` loaded, kept only so that the loads are not optimised away.
    private var touchedBytes: UInt8 = 0

    public init(schema: EntitySchema, keepTicks: UInt32 = 240) {
        self.init(codec: EntityDeltaCodec(schema: schema), keepTicks: keepTicks)
    }

    /// A tracker decoding with `codec`. Many trackers in one process (a bot swarm) should share one codec: its
    /// tables are then one copy, warm in the cache, instead of one cold copy a bot.
    public init(codec: EntityDeltaCodec, keepTicks: UInt32 = 240) {
        self.codec = codec
        self.keepTicks = keepTicks
    }

    /// Why a snapshot could not be used.
    public enum Failure: Error, Equatable {
        /// It names a baseline this client never had (or dropped): wait for the next one.
        case unknownBaseline(UInt32)
        case malformed(WireError)
    }

    /// Decodes a snapshot whose header was read from `reader` (positioned after the header).
    public mutating func receive(_ header: SnapshotHeader, from reader: inout BitReader) -> Result<[EntityState], Failure> {
        if let tick = header.baselineTick {
            // The server bases deltas on the newest acknowledgement it has, and acknowledgements only move
            // forward: nothing older than this baseline will be named again.
            if let first = baselineTicks.firstIndex(where: { $0 >= tick }), first > 0 { dropOldestBaselines(first) }
            guard baselineTicks.first == tick else { return .failure(.unknownBaseline(tick)) }
        }
        var world = spareWorlds.popLast() ?? []
        do throws(WireError) {
            try reader.alignToByte(field: "delta")
            // The named baseline is now the oldest kept; every baseline here came from decode, so it is sorted.
            let baseline = header.baselineTick == nil ? [] : baselineWorlds[0]
            touch(baseline, &world)
            try codec.decode(from: &reader, againstSorted: baseline, into: &world)
            try reader.finish()
        } catch {
            return .failure(.malformed(error))
        }
        if let last = baselineTicks.last, last >= header.tick, let first = baselineTicks.firstIndex(where: { $0 >= header.tick }) {
            // Out of order (a new connection): keep ticks ascending.
            baselineTicks.removeSubrange(first...)
            baselineWorlds.removeSubrange(first...)
        }
        baselineTicks.append(header.tick)
        baselineWorlds.append(world)
        if header.tick > keepTicks, let first = baselineTicks.firstIndex(where: { $0 >= header.tick - keepTicks }), first > 0 {
            dropOldestBaselines(first)
        }
        if newestTick.map({ header.tick > $0 }) ?? true { newestTick = header.tick }
        return .success(world)
    }

    /// Loads a byte of every cache line of the baseline and of the array the decode fills, all independent, so that
    /// their misses overlap instead of coming one after another as the decoder walks and copies. With thousands of
    /// bots in one process every world is cold in the cache (`tickwire-bench decode`: a cold decode takes 10–20% less).
    private mutating func touch(_ baseline: [EntityState], _ destination: inout [EntityState]) {
        func loadEveryCacheLine(of bytes: UnsafeRawBufferPointer) -> UInt8 {
            guard let base = bytes.baseAddress else { return 0 }
            var loaded: UInt8 = 0
            for offset in stride(from: 0, to: bytes.count, by: 64) { loaded |= base.load(fromByteOffset: offset, as: UInt8.self) }
            return loaded
        }
        var loaded = baseline.withUnsafeBytes(loadEveryCacheLine)
        let capacityBytes = destination.capacity * MemoryLayout<EntityState>.stride
        destination.withUnsafeMutableBufferPointer { loaded |= loadEveryCacheLine(of: UnsafeRawBufferPointer(start: $0.baseAddress, count: capacityBytes)) }
        touchedBytes |= loaded
    }

    /// Drops the `count` oldest baselines, keeping a few of their arrays (emptied, capacity kept) for later decodes.
    private mutating func dropOldestBaselines(_ count: Int) {
        for position in 0..<count where spareWorlds.count < Self.spareWorldsMax {
            var world = baselineWorlds[position]
            baselineWorlds[position] = []
            world.removeAll(keepingCapacity: true)  // its storage, unless a caller still holds this old world
            spareWorlds.append(world)
        }
        baselineTicks.removeFirst(count)
        baselineWorlds.removeFirst(count)
    }

    /// Forgets everything (a new connection starts from a full snapshot).
    public mutating func reset() {
        baselineTicks.removeAll()
        baselineWorlds.removeAll()
        newestTick = nil
    }
}
