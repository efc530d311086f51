import Engine

/// A client's side of snapshots (bots, tests; `tickwire.js` has the same for browsers): decodes each snapshot
/// against the baseline it names, keeps what it decoded for `keepTicks` to serve as later baselines, and
/// remembers the newest tick to acknowledge.
public struct SnapshotTracker {
    public let codec: EntityDeltaCodec
    public let keepTicks: UInt32
    /// Decoded snapshots that may still be named as baselines, oldest first (ticks ascend).
    private var baselines: [(tick: UInt32, entities: [EntityState])] = []
    /// The newest snapshot tick decoded (to acknowledge in inputs).
    public private(set) var newestTick: UInt32?

    public init(schema: EntitySchema, keepTicks: UInt32 = 240) {
        codec = EntityDeltaCodec(schema: schema)
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
        var baseline: [EntityState] = []
        if let tick = header.baselineTick {
            // The server bases deltas on the newest acknowledgement it has, and acknowledgements only move
            // forward: nothing older than this baseline will be named again.
            if let first = baselines.firstIndex(where: { $0.tick >= tick }), first > 0 { baselines.removeFirst(first) }
            guard let stored = baselines.first, stored.tick == tick else { return .failure(.unknownBaseline(tick)) }
            baseline = stored.entities
        }
        let entities: [EntityState]
        do throws(WireError) {
            try reader.alignToByte(field: "delta")
            entities = try codec.decode(from: &reader, againstSorted: baseline)  // every baseline here came from decode
            try reader.finish()
        } catch {
            return .failure(.malformed(error))
        }
        if let last = baselines.last, last.tick >= header.tick {
            baselines.removeAll { $0.tick >= header.tick }  // out of order (a new connection): keep ticks ascending
        }
        baselines.append((header.tick, entities))
        if header.tick > keepTicks, let first = baselines.firstIndex(where: { $0.tick >= header.tick - keepTicks }), first > 0 {
            baselines.removeFirst(first)
        }
        if newestTick.map({ header.tick > $0 }) ?? true { newestTick = header.tick }
        return .success(entities)
    }

    /// Forgets everything (a new connection starts from a full snapshot).
    public mutating func reset() {
        baselines.removeAll()
        newestTick = nil
    }
}
