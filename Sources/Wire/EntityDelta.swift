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
    public init(removes: Int = 0, creates: Int = 0, updates: Int = 0, updateBits: Int = 0) {
        self.removes = removes
        self.creates = creates
        self.updates = updates
        self.updateBits = updateBits
    }
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
    /// Every kind's fields, flattened (kind k's are `fieldCodings[kindFieldStart[k]..<kindFieldStart[k + 1]]`):
    /// the per-field loops read plain numbers, never the schema's names and arrays.
    let fieldCodings: [FieldCoding]
    let kindFieldStart: [Int]

    public init(schema: EntitySchema, limits: SnapshotLimits = SnapshotLimits()) {
        self.schema = schema
        self.limits = limits
        var codings: [FieldCoding] = []
        var starts = [0]
        for kind in schema.kinds {
            codings += kind.fields.map(FieldCoding.init)
            starts.append(codings.count)
        }
        fieldCodings = codings
        kindFieldStart = starts
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
            try serializeChangedFields(&new.fields, baseline: old.fields, kind: old.kind, stream: &stream)
        }
        return EntityDeltaSummary(removes: removes.count, creates: creates.count, updates: updates.count,
                                  updateBits: stream.bitsProcessed - updatesStart)
    }

    /// Reads a delta and applies it to `baseline` (sorted by slot index, as `decode` returns it); the result is
    /// sorted by slot index.
    public func decode(from reader: inout BitReader, against baseline: [EntityState]) throws(WireError) -> [EntityState] {
        try decode(from: &reader, againstSorted: Self.sortedUnique(baseline))
    }

    /// `decode` for a baseline known to be strictly ascending by slot index (one `decode` returned). Removes,
    /// creates and updates each come in ascending order, so the result is built by copying the baseline's runs
    /// between removes and creates whole, then decoding each update in place: no dictionary, no sort, no
    /// per-entity copies of the unchanged world (bots decode 100,000 snapshots a second).
    func decode(from reader: inout BitReader, againstSorted baseline: [EntityState]) throws(WireError) -> [EntityState] {
        var result: [EntityState] = []
        try decode(from: &reader, againstSorted: baseline, into: &result)
        return result
    }

    /// `decode` into `result`, which must be empty: a client that recycles the arrays of baselines it no longer
    /// needs decodes without allocating (snapshot arrays are a few kilobytes: too large for malloc's fast path).
    func decode(from reader: inout BitReader, againstSorted baseline: [EntityState], into result: inout [EntityState]) throws(WireError) {
        precondition(result.isEmpty, "decode into an empty array")
        try baseline.withUnsafeBufferPointer { baseline throws(WireError) in
            // The removes and creates of a usual snapshot are few: they live in scratch space on the stack, not on
            // the heap (a bot's two allocations a snapshot less).
            let removeCount = try readCount(from: &reader, field: "removes")
            try withUnsafeTemporaryAllocation(of: Int.self, capacity: removeCount) { removedStorage throws(WireError) in
                var removed = ScratchList(removedStorage)
                try readRemoves(removeCount, from: &reader, in: baseline, into: &removed)
                let createCount = try readCount(from: &reader, field: "creates")
                try withUnsafeTemporaryAllocation(of: EntityState.self, capacity: createCount) { createdStorage throws(WireError) in
                    var created = ScratchList(createdStorage)
                    defer { created.removeAll() }
                    try readCreates(createCount, from: &reader, over: baseline, removed: removed, into: &created)
                    Self.merge(baseline, removing: removed, creating: created, into: &result)
                    try readUpdates(from: &reader, into: &result)
                    guard result.count <= limits.entityCountMax else { throw .outOfRange(field: "entity count", value: Int64(result.count)) }
                }
            }
        }
    }

    /// Removes: each must name a baseline entity. Kept as baseline positions (ascending).
    private func readRemoves(_ count: Int, from reader: inout BitReader, in baseline: UnsafeBufferPointer<EntityState>,
                             into removed: inout ScratchList<Int>) throws(WireError) {
        var baselinePosition = 0
        var previous: Int64 = -1
        for _ in 0..<count {
            try readKnownIndex(from: &reader, previous: &previous, position: &baselinePosition, in: baseline, field: "remove of an unknown entity")
            removed.append(baselinePosition)
            baselinePosition &+= 1
        }
    }

    /// Creates: each must land on a slot the baseline (without its removes) leaves free.
    private func readCreates(_ count: Int, from reader: inout BitReader, over baseline: UnsafeBufferPointer<EntityState>,
                             removed: ScratchList<Int>, into created: inout ScratchList<EntityState>) throws(WireError) {
        var baselinePosition = 0
        var removedIndex = 0
        var previous: Int64 = -1
        for _ in 0..<count {
            var entity = EntityState(id: EntityID(index: 0, generation: 0), kind: 0, fields: [])
            try serializeIndexGap(&entity.id.index, previous: &previous, stream: &reader)
            try serializeCreatedBody(&entity, stream: &reader)
            while baselinePosition < baseline.count, baseline[baselinePosition].id.index < entity.id.index { baselinePosition &+= 1 }
            while removedIndex < removed.count, removed[removedIndex] < baselinePosition { removedIndex &+= 1 }
            let occupied = baselinePosition < baseline.count && baseline[baselinePosition].id.index == entity.id.index
            let freed = removedIndex < removed.count && removed[removedIndex] == baselinePosition
            guard !occupied || freed else { throw .outOfRange(field: "create over a live entity", value: Int64(entity.id.index)) }
            created.append(entity)
        }
    }

    /// The world: the baseline's runs between removed positions, copied whole, with the creates merged in (appended
    /// to `result`).
    private static func merge(_ baseline: UnsafeBufferPointer<EntityState>, removing removed: ScratchList<Int>,
                              creating created: ScratchList<EntityState>, into result: inout [EntityState]) {
        result.reserveCapacity(baseline.count - removed.count + created.count)
        var removedIndex = 0
        func appendKept(_ range: Range<Int>) {
            var start = range.lowerBound
            while removedIndex < removed.count, removed[removedIndex] < range.upperBound {
                let position = removed[removedIndex]
                result.append(contentsOf: UnsafeBufferPointer(rebasing: baseline[start..<position]))
                start = position &+ 1
                removedIndex &+= 1
            }
            result.append(contentsOf: UnsafeBufferPointer(rebasing: baseline[start..<range.upperBound]))
        }
        var baselinePosition = 0
        for createdIndex in 0..<created.count {
            let entity = created[createdIndex]
            // The first baseline entity at or past the create's slot (binary search: runs are long).
            var low = baselinePosition, high = baseline.count
            while low < high {
                let middle = (low &+ high) >> 1
                if baseline[middle].id.index < entity.id.index { low = middle &+ 1 } else { high = middle }
            }
            appendKept(baselinePosition..<low)
            baselinePosition = low
            result.append(entity)
        }
        appendKept(baselinePosition..<baseline.count)
    }

    /// Updates, decoded in place.
    private func readUpdates(from reader: inout BitReader, into entities: inout [EntityState]) throws(WireError) {
        let updateCount = try readCount(from: &reader, field: "updates")
        try entities.withUnsafeMutableBufferPointer { result throws(WireError) in
            var position = 0
            var previous: Int64 = -1
            for _ in 0..<updateCount {
                try readKnownIndex(from: &reader, previous: &previous, position: &position, in: result, field: "update of an unknown entity")
                let baselineFields = result[position].fields
                try serializeChangedFields(&result[position].fields, baseline: baselineFields, kind: result[position].kind, stream: &reader)
            }
        }
    }

    /// Reads the next index of an ascending list (removes, updates) and moves `position` to that entity of `entities`;
    /// an index naming no entity there is a `WireError.outOfRange` for `field`.
    @inline(__always)
    private func readKnownIndex<Entities: Collection<EntityState>>(from reader: inout BitReader, previous: inout Int64, position: inout Int,
                                                                   in entities: Entities, field: String) throws(WireError)
    where Entities.Index == Int {
        var index: UInt32 = 0
        try serializeIndexGap(&index, previous: &previous, stream: &reader)
        guard Self.advance(&position, to: index, in: entities) else { throw .outOfRange(field: field, value: Int64(index)) }
    }

    /// Moves `position` forward to the entity in slot `index` of `entities` (ascending by slot); false when there is
    /// none.
    @inline(__always)
    private static func advance<Entities: Collection<EntityState>>(_ position: inout Int, to index: UInt32, in entities: Entities) -> Bool
    where Entities.Index == Int {
        while position < entities.endIndex, entities[position].id.index < index { position &+= 1 }
        return position < entities.endIndex && entities[position].id.index == index
    }

    /// The baseline itself when it is strictly ascending by slot index (always, for one `decode` returned);
    /// otherwise sorted, the last of equal indices kept.
    private static func sortedUnique(_ entities: [EntityState]) -> [EntityState] {
        let ascending = entities.withUnsafeBufferPointer { buffer in
            var position = 1
            while position < buffer.count {
                if buffer[position &- 1].id.index >= buffer[position].id.index { return false }
                position &+= 1
            }
            return true
        }
        if ascending { return entities }
        var byIndex: [UInt32: EntityState] = [:]
        for entity in entities { byIndex[entity.id.index] = entity }
        return byIndex.values.sorted { $0.id.index < $1.id.index }
    }

    // MARK: Pieces shared by both directions

    func serializeCreatedBody<Stream: BitStream>(_ entity: inout EntityState, stream: inout Stream) throws(WireError) {
        try stream.serialize(&entity.id.generation, field: "generation")
        try stream.serialize(&entity.kind, in: 0...UInt8(schema.kinds.count - 1), field: "kind")
        let first = kindFieldStart[Int(entity.kind)], end = kindFieldStart[Int(entity.kind) + 1]
        if stream.isReading { entity.fields = EntityFields(repeating: 0, count: end - first) }
        guard entity.fields.count == end - first else { throw .outOfRange(field: "field count", value: Int64(entity.fields.count)) }
        try fieldCodings.withUnsafeBufferPointer { codings throws(WireError) in
            for position in 0..<(end - first) {
                try serializeAbsolute(&entity.fields[position], codings[first &+ position], stream: &stream)
            }
        }
    }

    func serializeChangedFields<Stream: BitStream>(_ fields: inout EntityFields, baseline: EntityFields, kind: UInt8,
                                                   stream: inout Stream) throws(WireError) {
        let first = kindFieldStart[Int(kind)], count = kindFieldStart[Int(kind) + 1] - first
        guard fields.count == count, baseline.count == count else {
            throw .outOfRange(field: "field count", value: Int64(fields.count))
        }
        try fieldCodings.withUnsafeBufferPointer { codings throws(WireError) in
            for position in 0..<count {
                let coding = codings[first &+ position]
                var changedBit: UInt64 = fields[position] != baseline[position] ? 1 : 0
                try stream.serializeBits(&changedBit, bitCount: 1, field: "field changed")
                guard changedBit != 0 else { continue }
                if coding.smallDeltaBits > 0 {
                    let delta = fields[position] &- baseline[position]
                    var smallBit: UInt64 = delta != 0 && delta >= -coding.reach && delta < coding.reach ? 1 : 0
                    try stream.serializeBits(&smallBit, bitCount: 1, field: "small delta")
                    if smallBit != 0 {
                        // Two's complement offset by `reach`: the range -reach...reach-1 in smallDeltaBits bits.
                        var bits = UInt64(bitPattern: delta &+ coding.reach)
                        try stream.serializeBits(&bits, bitCount: coding.smallDeltaBits, field: "delta")
                        if stream.isReading {
                            let value = baseline[position] &+ (Int64(bitPattern: bits) &- coding.reach)
                            guard value >= coding.lowerBound && value <= coding.upperBound else {
                                throw .outOfRange(field: "delta result", value: value)
                            }
                            fields[position] = value
                        }
                        continue
                    }
                }
                try serializeAbsolute(&fields[position], coding, stream: &stream)
            }
        }
    }

    /// A field's value in its range's bits (what `serialize(_:in:field:)` does, with the bit count precomputed).
    @inline(__always)
    private func serializeAbsolute<Stream: BitStream>(_ value: inout Int64, _ coding: FieldCoding, stream: inout Stream) throws(WireError) {
        guard coding.bitCount > 0 else {
            value = coding.lowerBound
            return
        }
        var bits: UInt64 = 0
        if !stream.isReading {
            guard value >= coding.lowerBound && value <= coding.upperBound else { throw .outOfRange(field: "field", value: value) }
            bits = UInt64(bitPattern: value &- coding.lowerBound)
        }
        try stream.serializeBits(&bits, bitCount: coding.bitCount, field: "field")
        if stream.isReading {
            guard bits <= coding.span else { throw .outOfRange(field: "field", value: coding.lowerBound &+ Int64(bitPattern: bits)) }
            value = coding.lowerBound &+ Int64(bitPattern: bits)
        }
    }

    /// Ascending indices as gaps: "0" = next index; "10"+4 bits = up to 16 ahead; "110"+8 bits = up to 272
    /// ahead; "111" + the absolute index.
    func serializeIndexGap<Stream: BitStream>(_ index: inout UInt32, previous: inout Int64, stream: inout Stream) throws(WireError) {
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

    func writeCount<Stream: BitStream>(_ count: Int, into stream: inout Stream, field: StaticString) throws(WireError) {
        var value = count
        try stream.serialize(&value, in: 0...limits.entityCountMax, field: field)
    }

    private func readCount(from reader: inout BitReader, field: StaticString) throws(WireError) -> Int {
        var value = 0
        try reader.serialize(&value, in: 0...limits.entityCountMax, field: field)
        return value
    }

    func writeIndices<Stream: BitStream>(_ indices: [UInt32], into stream: inout Stream, field: StaticString) throws(WireError) {
        try writeCount(indices.count, into: &stream, field: field)
        var previous: Int64 = -1
        for var index in indices { try serializeIndexGap(&index, previous: &previous, stream: &stream) }
    }
}

/// One field's coding, flattened from its `EntityField`.
struct FieldCoding {
    var lowerBound: Int64
    var upperBound: Int64
    /// `upperBound - lowerBound`, as the bits can hold it.
    var span: UInt64
    /// Bits of an absolute value.
    var bitCount: Int
    /// Bits of a small delta (0: never a delta), and half the deltas it reaches.
    var smallDeltaBits: Int
    var reach: Int64

    init(_ field: EntityField) {
        lowerBound = field.range.lowerBound
        upperBound = field.range.upperBound
        span = UInt64(bitPattern: field.range.upperBound &- field.range.lowerBound)
        bitCount = bitsRequired(forSpan: span)
        smallDeltaBits = field.smallDeltaBits
        reach = field.smallDeltaBits > 0 ? Int64(1) << Int64(field.smallDeltaBits - 1) : 0
    }
}
