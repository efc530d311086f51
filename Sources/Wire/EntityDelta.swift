import Engine

/// Limits of the snapshot codec; decoding refuses more so a hostile message cannot make us allocate much.
public struct SnapshotLimits: Sendable, Equatable {
    /// Entities in one snapshot at most (and creates, updates and removes each).
    public var entityCountMax: Int
    /// Entity slot indices are below this.
    public var entityIndexLimit: UInt32

    public init(entityCountMax: Int = 4096, entityIndexLimit: UInt32 = 1 << 16) {
        self.entityCountMax = entityCountMax
        self.entityIndexLimit = entityIndexLimit
    }
}

/// What one delta encode contained, for metrics and benchmarks.
public struct EntityDeltaSummary: Sendable, Equatable {
    public var removes = 0
    public var creates = 0
    /// Entities present in both whose fields changed.
    public var updates = 0
    /// Bits spent on the updates section (indices, changed bits, values).
    public var updateBits = 0
    public init() {}
}

/// Encodes the entities of a snapshot as a delta against a baseline the client has (an empty baseline gives a
/// full snapshot), driven by the game's `EntitySchema`:
///
///     removes: count, then ascending slot indices (gap-coded)
///     creates: count, then per entity: index gap, generation (32 bits), kind, every field absolute
///     updates: count, then per entity: index gap, then per field a changed bit and, if changed,
///              a small-delta bit and the delta (smallDeltaBits), or the absolute value (the field's range bits)
///
/// An entity that did not change costs nothing. One `serialize` function writes, reads and measures.
public struct EntityDeltaCodec: Sendable {
    public let schema: EntitySchema
    public let limits: SnapshotLimits
    private let indexBits: Int

    public init(schema: EntitySchema, limits: SnapshotLimits = SnapshotLimits()) {
        self.schema = schema
        self.limits = limits
        indexBits = bitsRequired(forSpan: UInt64(limits.entityIndexLimit - 1))
    }

    /// Writes `current` (sorted by slot index) as a delta against `baseline` (sorted by slot index).
    @discardableResult
    public func encode(_ current: [EntityState], against baseline: [EntityState],
                       into writer: inout BitWriter) throws(WireError) -> EntityDeltaSummary {
        try encodeAny(current, against: baseline, into: &writer)
    }

    /// Counts the bits `encode` would write.
    @discardableResult
    public func encode(_ current: [EntityState], against baseline: [EntityState],
                       into measurer: inout BitMeasurer) throws(WireError) -> EntityDeltaSummary {
        try encodeAny(current, against: baseline, into: &measurer)
    }

    // Concrete entry points above, generic body here: called from this module, it is specialised for each stream
    // (a public generic called from another module would run unspecialised, a witness call per field).
    private func encodeAny<Stream: BitStream>(_ current: [EntityState], against baseline: [EntityState],
                                              into stream: inout Stream) throws(WireError) -> EntityDeltaSummary {
        precondition(!stream.isReading)
        var removes: [EntityID] = []
        var creates: [EntityState] = []
        var updates: [(EntityState, EntityState)] = []
        var baselineIndex = 0
        var currentIndex = 0
        while baselineIndex < baseline.count || currentIndex < current.count {
            let old = baselineIndex < baseline.count ? baseline[baselineIndex] : nil
            let new = currentIndex < current.count ? current[currentIndex] : nil
            if let old, new == nil || old.id.index < new!.id.index {
                removes.append(old.id)
                baselineIndex += 1
            } else if let new, old == nil || new.id.index < old!.id.index {
                creates.append(new)
                currentIndex += 1
            } else if let old, let new {
                if old.id != new.id || old.kind != new.kind {
                    removes.append(old.id)
                    creates.append(new)
                } else if old.fields != new.fields {
                    updates.append((old, new))
                }
                baselineIndex += 1
                currentIndex += 1
            }
        }
        try writeIndices(removes.map(\.index), into: &stream, field: "removes")
        try writeCount(creates.count, into: &stream, field: "creates")
        var previous: Int64 = -1
        for var entity in creates {  // a plain copy: fields are stored inline
            try serializeIndexGap(&entity.id.index, previous: &previous, stream: &stream)
            try serializeCreatedBody(&entity, stream: &stream)
        }
        try writeCount(updates.count, into: &stream, field: "updates")
        let updatesStart = stream.bitsProcessed
        previous = -1
        for (old, var new) in updates {
            try serializeIndexGap(&new.id.index, previous: &previous, stream: &stream)
            try serializeChangedFields(&new.fields, baseline: old.fields, kind: schema.kinds[Int(old.kind)], stream: &stream)
        }
        var summary = EntityDeltaSummary()
        summary.removes = removes.count
        summary.creates = creates.count
        summary.updates = updates.count
        summary.updateBits = stream.bitsProcessed - updatesStart
        return summary
    }

    /// Reads a delta and applies it to `baseline` (sorted by slot index, as `decode` returns it); the result is
    /// sorted by slot index. Removes, creates and updates each come in ascending order, so this is a linear merge:
    /// no dictionary and no sort per snapshot (bots decode 100,000 snapshots a second).
    public func decode(from reader: inout BitReader, against baseline: [EntityState]) throws(WireError) -> [EntityState] {
        let baseline = Self.sortedUnique(baseline)
        // Removes: the baseline without them.
        let removeCount = try readCount(from: &reader, field: "removes")
        var kept: [EntityState] = []
        kept.reserveCapacity(baseline.count)
        var baselinePosition = 0
        var previous: Int64 = -1
        for _ in 0..<removeCount {
            var index: UInt32 = 0
            try serializeIndexGap(&index, previous: &previous, stream: &reader)
            while baselinePosition < baseline.count, baseline[baselinePosition].id.index < index {
                kept.append(baseline[baselinePosition])
                baselinePosition += 1
            }
            guard baselinePosition < baseline.count, baseline[baselinePosition].id.index == index else {
                throw .outOfRange(field: "remove of an unknown entity", value: Int64(index))
            }
            baselinePosition += 1
        }
        kept.append(contentsOf: baseline[baselinePosition...])
        // Creates, merged in.
        let createCount = try readCount(from: &reader, field: "creates")
        var merged: [EntityState] = []
        merged.reserveCapacity(kept.count + createCount)
        var keptPosition = 0
        previous = -1
        for _ in 0..<createCount {
            var entity = EntityState(id: EntityID(index: 0, generation: 0), kind: 0, fields: [])
            try serializeIndexGap(&entity.id.index, previous: &previous, stream: &reader)
            try serializeCreatedBody(&entity, stream: &reader)
            while keptPosition < kept.count, kept[keptPosition].id.index < entity.id.index {
                merged.append(kept[keptPosition])
                keptPosition += 1
            }
            guard keptPosition == kept.count || kept[keptPosition].id.index != entity.id.index else {
                throw .outOfRange(field: "create over a live entity", value: Int64(entity.id.index))
            }
            merged.append(entity)
        }
        merged.append(contentsOf: kept[keptPosition...])
        // Updates, in place.
        let updateCount = try readCount(from: &reader, field: "updates")
        var position = 0
        previous = -1
        for _ in 0..<updateCount {
            var index: UInt32 = 0
            try serializeIndexGap(&index, previous: &previous, stream: &reader)
            while position < merged.count, merged[position].id.index < index { position += 1 }
            guard position < merged.count, merged[position].id.index == index else {
                throw .outOfRange(field: "update of an unknown entity", value: Int64(index))
            }
            let baselineFields = merged[position].fields
            try serializeChangedFields(&merged[position].fields, baseline: baselineFields, kind: schema.kinds[Int(merged[position].kind)],
                                       stream: &reader)
        }
        guard merged.count <= limits.entityCountMax else { throw .outOfRange(field: "entity count", value: Int64(merged.count)) }
        return merged
    }

    /// The baseline itself when it is strictly ascending by slot index (always, for one `decode` returned);
    /// otherwise sorted, the last of equal indices kept.
    private static func sortedUnique(_ entities: [EntityState]) -> [EntityState] {
        var ascending = true
        for position in entities.indices.dropFirst() where entities[position - 1].id.index >= entities[position].id.index {
            ascending = false
            break
        }
        if ascending { return entities }
        var byIndex: [UInt32: EntityState] = [:]
        for entity in entities { byIndex[entity.id.index] = entity }
        return byIndex.values.sorted { $0.id.index < $1.id.index }
    }

    // MARK: Pieces shared by both directions

    private func serializeCreatedBody<Stream: BitStream>(_ entity: inout EntityState, stream: inout Stream) throws(WireError) {
        try stream.serialize(&entity.id.generation, field: "generation")
        try stream.serialize(&entity.kind, in: 0...UInt8(schema.kinds.count - 1), field: "kind")
        let kind = schema.kinds[Int(entity.kind)]
        if stream.isReading { entity.fields = EntityFields(repeating: 0, count: kind.fields.count) }
        guard entity.fields.count == kind.fields.count else { throw .outOfRange(field: "field count", value: Int64(entity.fields.count)) }
        for (position, field) in kind.fields.enumerated() {
            try stream.serialize(&entity.fields[position], in: field.range, field: "field")
        }
    }

    private func serializeChangedFields<Stream: BitStream>(_ fields: inout EntityFields, baseline: EntityFields, kind: EntityKind,
                                                           stream: inout Stream) throws(WireError) {
        guard fields.count == kind.fields.count, baseline.count == kind.fields.count else {
            throw .outOfRange(field: "field count", value: Int64(fields.count))
        }
        for (position, field) in kind.fields.enumerated() {
            var changed = fields[position] != baseline[position]
            try stream.serialize(&changed, field: "field changed")
            guard changed else { continue }
            if field.smallDeltaBits > 0 {
                let reach = Int64(1) << Int64(field.smallDeltaBits - 1)
                var delta = fields[position] &- baseline[position]
                var small = delta != 0 && delta >= -reach && delta < reach
                try stream.serialize(&small, field: "small delta")
                if small {
                    try stream.serialize(&delta, in: -reach...(reach - 1), field: "delta")
                    if stream.isReading {
                        let value = baseline[position] &+ delta
                        guard field.range.contains(value) else { throw .outOfRange(field: "delta result", value: value) }
                        fields[position] = value
                    }
                    continue
                }
            }
            try stream.serialize(&fields[position], in: field.range, field: "field")
        }
    }

    /// Ascending indices as gaps: "0" = next index; "10"+4 bits = up to 16 ahead; "110"+8 bits = up to 272
    /// ahead; "111" + the absolute index.
    private func serializeIndexGap<Stream: BitStream>(_ index: inout UInt32, previous: inout Int64, stream: inout Stream) throws(WireError) {
        var gap = Int64(index) - previous - 1
        if !stream.isReading { precondition(gap >= 0, "indices must ascend") }
        var oneAhead = gap == 0
        try stream.serialize(&oneAhead, field: "index gap")
        if oneAhead {
            gap = 0
        } else {
            var nibble = gap >= 1 && gap <= 16
            try stream.serialize(&nibble, field: "index gap")
            if nibble {
                try stream.serialize(&gap, in: 1...16, field: "index gap")
            } else {
                var byte = gap >= 17 && gap <= 272
                try stream.serialize(&byte, field: "index gap")
                if byte {
                    try stream.serialize(&gap, in: 17...272, field: "index gap")
                } else {
                    var absolute = Int64(index)
                    try stream.serialize(&absolute, in: 0...Int64(limits.entityIndexLimit - 1), field: "index")
                    gap = absolute - previous - 1
                    guard gap >= 0 else { throw .outOfRange(field: "index not ascending", value: absolute) }
                }
            }
        }
        let value = previous + 1 + gap
        guard value < Int64(limits.entityIndexLimit) else { throw .outOfRange(field: "index", value: value) }
        index = UInt32(value)
        previous = value
    }

    private func writeCount<Stream: BitStream>(_ count: Int, into stream: inout Stream, field: StaticString) throws(WireError) {
        var value = count
        try stream.serialize(&value, in: 0...limits.entityCountMax, field: field)
    }

    private func readCount(from reader: inout BitReader, field: StaticString) throws(WireError) -> Int {
        var value = 0
        try reader.serialize(&value, in: 0...limits.entityCountMax, field: field)
        return value
    }

    private func writeIndices<Stream: BitStream>(_ indices: [UInt32], into stream: inout Stream, field: StaticString) throws(WireError) {
        try writeCount(indices.count, into: &stream, field: field)
        var previous: Int64 = -1
        for var index in indices { try serializeIndexGap(&index, previous: &previous, stream: &stream) }
    }

    private func readIndices(from reader: inout BitReader, field: StaticString) throws(WireError) -> [UInt32] {
        let count = try readCount(from: &reader, field: field)
        var previous: Int64 = -1
        var indices: [UInt32] = []
        for _ in 0..<count {
            var index: UInt32 = 0
            try serializeIndexGap(&index, previous: &previous, stream: &reader)
            indices.append(index)
        }
        return indices
    }
}
