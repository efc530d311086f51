import Engine

/// One snapshot's entities, prepared for encoding a delta per client. The parts of a delta that do not depend on
/// the client (an entity's created body, and its changed fields against a baseline snapshot) are encoded once,
/// when first needed, and copied as bits into every delta that contains them; a client's own work is the merge of
/// its two views and the index gaps. Deltas come out bit for bit as `EntityDeltaCodec.encode(_:against:into:)`
/// writes them. Loop-confined (the room's event loop).
public final class PreparedSnapshot {
    public let tick: UInt32
    /// Every entity, sorted by slot index.
    public let entities: [EntityState]
    /// Each entity's id and kind, apart from its fields: the merge of two views reads only these, and 8 bytes an
    /// entity stay in cache where whole entities (88 bytes) do not.
    let ids: [EntityID]
    let kinds: [UInt8]
    let codec: EntityDeltaCodec
    /// Update pieces against each baseline clients have used so far (a few: clients acknowledge recent snapshots).
    private var againstBaselines: [BaselinePieces] = []
    /// Created bodies by entity position.
    private var createdPieces: [Piece]
    private var pool: [UInt64] = []
    private var scratch = BitWriter(capacity: 128)
    private var allPositionsCache: [Int32]?

    /// Baselines a snapshot keeps update pieces for; deltas against others compare fields per client.
    public static let cachedBaselinesMax = 8

    /// Bits in the pool: where they start (in words) and how many.
    struct Piece {
        var start: Int32
        var bitCount: Int32
        static let notEncoded = Piece(start: 0, bitCount: -1)
    }

    /// The update pieces of this snapshot's entities against one baseline snapshot.
    final class BaselinePieces {
        /// Weak: a snapshot must not keep its baselines alive (they would keep theirs, back to the first).
        weak var baseline: PreparedSnapshot?
        let baselineEntities: [EntityState]
        /// For each entity, where the same entity (same id and kind) is in the baseline, or -1.
        let baselinePosition: [Int32]
        /// By entity position; 0 bits means unchanged since the baseline, -1 not encoded yet.
        var updated: [Piece]

        init(current: PreparedSnapshot, baseline: PreparedSnapshot) {
            self.baseline = baseline
            baselineEntities = baseline.entities
            var positions = [Int32](repeating: -1, count: current.entities.count)
            var old = 0
            for (position, id) in current.ids.enumerated() {
                while old < baseline.ids.count, baseline.ids[old].index < id.index { old += 1 }
                if old < baseline.ids.count, baseline.ids[old] == id, baseline.kinds[old] == current.kinds[position] {
                    positions[position] = Int32(old)
                }
            }
            baselinePosition = positions
            updated = Array(repeating: .notEncoded, count: current.entities.count)
        }
    }

    /// Prepares `entities` (sorted by slot index) for encoding.
    public init(tick: UInt32, entities: [EntityState], codec: EntityDeltaCodec) {
        self.tick = tick
        self.entities = entities
        ids = entities.map(\.id)
        kinds = entities.map(\.kind)
        self.codec = codec
        createdPieces = Array(repeating: .notEncoded, count: entities.count)
    }

    /// Positions of every entity (the whole world's view).
    public var allPositions: [Int32] {
        if let allPositionsCache { return allPositionsCache }
        let positions = (0..<Int32(entities.count)).map { $0 }
        allPositionsCache = positions
        return positions
    }

    /// Bytes held for pieces (for tests and metrics).
    public var pieceBytes: Int { pool.count * 8 }

    /// Baselines this snapshot holds update pieces against.
    public var cachedBaselineCount: Int { againstBaselines.count }

    /// The update pieces against `baseline`, made on first use; nil once `cachedBaselinesMax` baselines have them.
    func pieces(against baseline: PreparedSnapshot) -> BaselinePieces? {
        for pieces in againstBaselines where pieces.baseline === baseline { return pieces }
        guard againstBaselines.count < Self.cachedBaselinesMax else { return nil }
        let pieces = BaselinePieces(current: self, baseline: baseline)
        againstBaselines.append(pieces)
        return pieces
    }

    /// The created body of the entity at `position`, encoded on first use.
    func createdPiece(at position: Int) throws(WireError) -> Piece {
        let cached = createdPieces[position]
        if cached.bitCount >= 0 { return cached }
        scratch.removeAll()
        var entity = entities[position]
        try codec.serializeCreatedBody(&entity, stream: &scratch)
        let piece = store(scratch)
        createdPieces[position] = piece
        return piece
    }

    /// The changed fields of the entity at `position` against `baseline[baselinePosition]` (0 bits when nothing
    /// changed). Never inlined: the merge must not load the baseline entity (88 bytes, rarely in cache) unless an
    /// update has to be encoded, and inlined, the compiler hoists that load onto every matched entity.
    @inline(never)
    func encodeUpdate(at position: Int, from baseline: [EntityState], at baselinePosition: Int) throws(WireError) -> Piece {
        let old = baseline[baselinePosition].fields
        var new = entities[position]
        guard old != new.fields else { return Piece(start: 0, bitCount: 0) }
        scratch.removeAll()
        try codec.serializeChangedFields(&new.fields, baseline: old, kind: new.kind, stream: &scratch)
        return store(scratch)
    }

    private func store(_ bits: BitWriter) -> Piece {
        let piece = Piece(start: Int32(pool.count), bitCount: Int32(bits.bitCount))
        pool.append(contentsOf: bits.words)
        if bits.pendingBits > 0 { pool.append(bits.pending) }
        return piece
    }

    /// Calls `body` with the pieces' words (no piece may be added meanwhile).
    func withPool<Result>(_ body: (UnsafeBufferPointer<UInt64>) throws(WireError) -> Result) throws(WireError) -> Result {
        try pool.withUnsafeBufferPointer { pool throws(WireError) in try body(pool) }
    }
}

extension BitWriter {
    /// Appends a piece from a snapshot's pool.
    @inline(__always)
    mutating func write(_ piece: PreparedSnapshot.Piece, from pool: UnsafeBufferPointer<UInt64>) {
        guard piece.bitCount > 0 else { return }
        let wordCount = (Int(piece.bitCount) &+ 63) / 64
        write(words: UnsafeBufferPointer(rebasing: pool[Int(piece.start)..<Int(piece.start) &+ wordCount]), bitCount: Int(piece.bitCount))
    }
}

extension EntityDeltaCodec {
    /// Writes the entities at `positions` of `current` (ascending) as a delta against the entities at
    /// `baselinePositions` of `baseline` (nil: a full snapshot): the same bits `encode(_:against:into:)` writes
    /// for those entities, with each entity's pieces encoded once per snapshot rather than once per client.
    @discardableResult
    public func encode(_ current: PreparedSnapshot, positions: [Int32], against baseline: PreparedSnapshot?, positions baselinePositions: [Int32],
                       into writer: inout BitWriter) throws(WireError) -> EntityDeltaSummary {
        let baselineEntities = baseline?.entities ?? []
        let baselineIDs = baseline?.ids ?? [], currentIDs = current.ids
        let baselineKinds = baseline?.kinds ?? [], currentKinds = current.kinds
        let baselinePositions = baseline == nil ? [] : baselinePositions
        let pieces = baseline.flatMap { current.pieces(against: $0) }
        let sameAsInBaseline = pieces?.baselinePosition ?? []
        // Moved out of the cache for the merge (and back after), so filling it in copies nothing.
        var updatedCache: [PreparedSnapshot.Piece] = []
        if let pieces { swap(&updatedCache, &pieces.updated) }
        defer { if let pieces { swap(&updatedCache, &pieces.updated) } }
        var removes: [UInt32] = []
        var creates: [(index: UInt32, piece: PreparedSnapshot.Piece)] = []
        var updates: [(index: UInt32, piece: PreparedSnapshot.Piece)] = []
        updates.reserveCapacity(positions.count)
        // The merge of the two views by slot index, over raw buffers of ids: it runs once per client per snapshot.
        // Every piece is found (or encoded) here; writing then only copies bits.
        try currentIDs.withUnsafeBufferPointer { currentIDs throws(WireError) in
            try baselineIDs.withUnsafeBufferPointer { baselineIDs throws(WireError) in
                try positions.withUnsafeBufferPointer { positions throws(WireError) in
                    try baselinePositions.withUnsafeBufferPointer { baselinePositions throws(WireError) in
                        try updatedCache.withUnsafeMutableBufferPointer { updatedCache throws(WireError) in
                            var baselineIndex = 0, currentIndex = 0
                            while baselineIndex < baselinePositions.count || currentIndex < positions.count {
                                let oldPosition = baselineIndex < baselinePositions.count ? Int(baselinePositions[baselineIndex]) : -1
                                let newPosition = currentIndex < positions.count ? Int(positions[currentIndex]) : -1
                                let oldSlot = oldPosition >= 0 ? Int64(baselineIDs[oldPosition].index) : Int64.max
                                let newSlot = newPosition >= 0 ? Int64(currentIDs[newPosition].index) : Int64.max
                                if oldSlot < newSlot {
                                    removes.append(UInt32(oldSlot))
                                    baselineIndex &+= 1
                                    continue
                                }
                                if newSlot < oldSlot {
                                    creates.append((UInt32(newSlot), try current.createdPiece(at: newPosition)))
                                    currentIndex &+= 1
                                    continue
                                }
                                baselineIndex &+= 1
                                currentIndex &+= 1
                                let sameEntity = pieces != nil ? sameAsInBaseline[newPosition] == Int32(oldPosition)
                                    : baselineIDs[oldPosition] == currentIDs[newPosition] && baselineKinds[oldPosition] == currentKinds[newPosition]
                                guard sameEntity else {
                                    removes.append(UInt32(oldSlot))
                                    creates.append((UInt32(newSlot), try current.createdPiece(at: newPosition)))
                                    continue
                                }
                                var piece: PreparedSnapshot.Piece
                                if pieces != nil {
                                    piece = updatedCache[newPosition]
                                    if piece.bitCount < 0 {
                                        piece = try current.encodeUpdate(at: newPosition, from: baselineEntities, at: oldPosition)
                                        updatedCache[newPosition] = piece
                                    }
                                } else {
                                    piece = try current.encodeUpdate(at: newPosition, from: baselineEntities, at: oldPosition)
                                }
                                if piece.bitCount > 0 { updates.append((UInt32(newSlot), piece)) }
                            }
                        }
                    }
                }
            }
        }
        try writeIndices(removes, into: &writer, field: "removes")
        var updatesStart = 0
        try current.withPool { pool throws(WireError) in
            try writeCount(creates.count, into: &writer, field: "creates")
            var previous: Int64 = -1
            for (index, piece) in creates {
                var index = index
                try serializeIndexGap(&index, previous: &previous, stream: &writer)
                writer.write(piece, from: pool)
            }
            try writeCount(updates.count, into: &writer, field: "updates")
            updatesStart = writer.bitCount
            previous = -1
            for (index, piece) in updates {
                var index = index
                try serializeIndexGap(&index, previous: &previous, stream: &writer)
                writer.write(piece, from: pool)
            }
        }
        return EntityDeltaSummary(removes: removes.count, creates: creates.count, updates: updates.count,
                                  updateBits: writer.bitCount - updatesStart)
    }
}
