import Engine

/// A client's side of snapshots (bots, tests; `tickwire.js` has the same for browsers): decodes each snapshot
/// against the baseline it names, keeps what it decoded for `keepTicks` to serve as later baselines, and
/// remembers the newest tick to acknowledge.
public struct SnapshotTracker {
    public let codec: EntityDeltaCodec
    public let keepTicks: UInt32
    private var baselines: [UInt32: [EntityState]] = [:]
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
            guard let stored = baselines[tick] else { return .failure(.unknownBaseline(tick)) }
            baseline = stored
        }
        let entities: [EntityState]
        do throws(WireError) {
            try reader.alignToByte(field: "delta")
            entities = try codec.decode(from: &reader, against: baseline)
            try reader.finish()
        } catch {
            return .failure(.malformed(error))
        }
        baselines[header.tick] = entities
        if header.tick > keepTicks {
            let oldest = header.tick - keepTicks
            baselines = baselines.filter { $0.key >= oldest }
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
