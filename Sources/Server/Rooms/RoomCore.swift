import Engine
import Wire

/// What one tick did, for the recorder and the metrics.
public struct TickOutcome: Sendable {
    public var tick: UInt32
    public var joined: [PlayerID]
    /// The names the joined players gave, in the same order.
    public var joinedNames: [String]
    public var left: [PlayerID]
    public var inputs: [(player: PlayerID, input: InputBits)]
    /// Some clients get a snapshot this tick (see `RoomCore.phaseBlockSize`): the tick kept a snapshot record, and
    /// `encodeSnapshots` has clients to serve.
    public var isSnapshotTick: Bool
}

/// A room's simulation and snapshot logic, without sockets: players, their bounded input buffers, the fixed
/// tick, the ring of past snapshots, and per-client delta encoding with interest management. The socket side
/// (`Room`) drives it on the room's event loop; tests and benchmarks drive it directly.
public final class RoomCore<G: Game> {
    /// The game's tick, kept apart: reading `game.tick` through the generic room copies the whole game.
    public private(set) var currentTick: UInt32
    public let settings: RoomSettings
    public let codec: EntityDeltaCodec



    /// The view "cell" of a client that sees everything.
    private static var wholeWorld: Int32 { -1 }

    /// Clients in no particular order (a leave moves the last one into the gap), stored flat so the encode loop
    /// reads their fields in place; `clientSlot` finds a player's.
    private var clients: [RoomClient] = []
    private var clientSlot: [PlayerID: Int] = [:]
    /// Scratch of `encodeSnapshots`: the slots of this tick's phase, in player order.
    private var phaseSlots: [Int] = []
    /// Set while `encodeSnapshots` walks `phaseSlots`: a leave then (the room kicking a client too slow from
    /// `deliver`, which closes it at once) waits in `leavesDuringEncode`, since removing a client moves another
    /// into its slot.
    private var isEncoding = false
    private var leavesDuringEncode: [PlayerID] = []
    /// Present players in id order: the order inputs are given to the game.
    private var order: [PlayerID] = []
    private var pendingJoins: [(PlayerID, String)] = []
    private var pendingLeaves: [PlayerID] = []
    private var nextPlayerNumber: UInt16 = 1
    /// The phase the next client gets (round robin, so phases stay the same size).
    /// Clients that joined so far, and how many clients each snapshot phase has now (see `phaseBlockSize`).
    private var joinsTotal = 0
    private var phaseClientCounts: [Int]
    /// The phase of the room's first block of clients: rooms on one loop pass different offsets, so small rooms
    /// spread their snapshot ticks over the phases.
    private let phaseOffset: Int
    /// Past snapshots, newest last, at most `baselineWindowTicks` old.
    private var ring: [SnapshotRecord] = []
    private var interestGrid: SpatialGrid
    /// Scratch for `visiblePositions`: one bit per entity position, all zero between calls.
    private var visibleMarks: [UInt64] = []

    /// Inputs dropped in all (full buffers, stale sequences), for metrics.
    public private(set) var inputsDroppedTotal = 0
    /// Snapshot deltas encoded, and how many deliveries reused one already encoded for another client.
    public private(set) var deltaEncodesTotal = 0
    public private(set) var deltaReusesTotal = 0
    /// Sums over every encode: entities updated, and the bits their updates took.
    public private(set) var updatedEntitiesTotal = 0
    public private(set) var updateBitsTotal = 0
    /// Players the room holds at most, and spectators (counted apart: watching costs no simulation).
    public let playersMax: Int
    public let spectatorsMax: Int
    private var spectatorCount = 0
    /// The simulation. Declared last on purpose: fields after a generic one sit at offsets known only at run time,
    /// read from the type's metadata on every access in the room's unspecialized code.
    public private(set) var game: G

    /// With snapshots every k ticks, clients are spread over k phases in blocks of this many, in the order they
    /// join: a client of phase p gets snapshots on ticks where `tick % k == p`. A room of up to a block has all its
    /// clients in one phase, so it builds a snapshot record (entity states, prepared pieces, interest cells) on 1
    /// tick in k; a large room spreads over every phase, so no tick carries its whole snapshot work.
    public static var phaseBlockSize: Int { 16 }

    /// A room; `phaseOffset` is the snapshot phase of its first block of clients (see `phaseBlockSize`).
    public init(game: G, settings: RoomSettings, playersMax: Int = 256, spectatorsMax: Int = 1024, phaseOffset: Int = 0) {
        self.game = game
        phaseClientCounts = Array(repeating: 0, count: settings.snapshotEveryTicks)
        // Any integer is a phase: a negative offset counts back from the last phase.
        let phases = settings.snapshotEveryTicks
        self.phaseOffset = (phaseOffset % phases + phases) % phases
        currentTick = game.tick
        self.settings = settings
        self.playersMax = playersMax
        self.spectatorsMax = spectatorsMax
        codec = EntityDeltaCodec(schema: G.schema)
        interestGrid = SpatialGrid(width: game.worldSize.x, height: game.worldSize.y, cellSize: settings.viewCellSize)
    }

    /// Players present or joining (spectators not included).
    public var playerCount: Int { clients.count - spectatorCount }

    /// The name a player joined with.
    public func name(of player: PlayerID) -> String? { clientSlot[player].map { clients[$0].name } }

    /// The player's connection dropped: it stays in the world, standing still, until it resumes or leaves.
    public func suspend(_ player: PlayerID) {
        updateClient(player) { $0.inputs.stopMoving() }
    }

    /// The player came back on a new connection: it has no snapshots yet, so the next one is full.
    public func resume(_ player: PlayerID) {
        updateClient(player) { client in
            client.acknowledgedTick = nil
            client.sentViews = []
        }
    }

    /// Reserves a player id; the player enters the world at the next tick. Nil when the room is full.
    public func join(name: String, spectator: Bool = false) -> PlayerID? {
        guard spectator ? spectatorCount < spectatorsMax : clients.count - spectatorCount < playersMax else { return nil }
        var number = nextPlayerNumber
        while clientSlot[PlayerID(raw: number)] != nil || number == 0 { number &+= 1 }
        nextPlayerNumber = number &+ 1
        let player = PlayerID(raw: number)
        let phase = (phaseOffset + joinsTotal / Self.phaseBlockSize) % settings.snapshotEveryTicks
        joinsTotal += 1
        phaseClientCounts[phase] += 1
        clientSlot[player] = clients.count
        clients.append(RoomClient(player: player, name: name, inputs: InputBuffer(capacity: settings.inputBufferMax), acknowledgedTick: nil,
                                  isSpectator: spectator, snapshotPhase: phase))
        if spectator { spectatorCount += 1 } else { pendingJoins.append((player, name)) }
        return player
    }

    /// The player leaves at the next tick.
    public func leave(_ player: PlayerID) {
        if isEncoding {
            leavesDuringEncode.append(player)
            return
        }
        guard let slot = clientSlot.removeValue(forKey: player) else { return }
        let client = clients[slot]
        phaseClientCounts[client.snapshotPhase] -= 1
        if slot != clients.count - 1 {
            clients.swapAt(slot, clients.count - 1)
            clientSlot[clients[slot].player] = slot
        }
        clients.removeLast()
        if client.isSpectator { spectatorCount -= 1 }
        pendingJoins.removeAll { $0.0 == player }
        pendingLeaves.append(player)
    }

    /// Takes an input message; false when it was dropped (stale, or the buffer is full).
    @discardableResult
    public func receiveInput(from player: PlayerID, sequence: UInt32, acknowledgedTick: UInt32?, bits: InputBits) -> Bool {
        let currentTick = currentTick
        let accepted = updateClient(player) { client in
            if let acknowledgedTick, acknowledgedTick <= currentTick {
                client.acknowledgedTick = max(client.acknowledgedTick ?? 0, acknowledgedTick)
            }
            return client.isSpectator ? true : client.inputs.push(sequence: sequence, bits: bits)
        }
        guard let accepted else { return false }
        if !accepted { inputsDroppedTotal += 1 }
        return accepted
    }

    /// Records that a client has a snapshot (spectators acknowledge without sending inputs).
    public func acknowledge(_ player: PlayerID, tick acknowledged: UInt32) {
        guard acknowledged <= currentTick else { return }
        updateClient(player) { $0.acknowledgedTick = max($0.acknowledgedTick ?? 0, acknowledged) }
    }

    /// Changes a client where it is stored: a copy out of the dictionary and back would copy its buffers on
    /// write (the dictionary still holds them), once per input message.
    @discardableResult
    private func updateClient<Result>(_ player: PlayerID, _ change: (inout RoomClient) -> Result) -> Result? {
        guard let slot = clientSlot[player] else { return nil }
        return change(&clients[slot])
    }

    /// Advances one tick: applies joins and leaves, takes one input per player, steps, and keeps the snapshot for
    /// baselines when some client's phase is this tick's (see `phaseBlockSize`).
    public func tick() -> TickOutcome {
        let joined = pendingJoins.map(\.0)
        let joinedNames = pendingJoins.map(\.1)
        let left = pendingLeaves
        for player in pendingLeaves {
            game.leave(player)
            order.removeAll { $0 == player }
        }
        for (player, name) in pendingJoins {
            if game.join(player, name: name) != nil {
                order.insert(player, at: order.firstIndex { $0 > player } ?? order.count)
            }
        }
        pendingJoins.removeAll()
        pendingLeaves.removeAll()
        var inputs: [(player: PlayerID, input: InputBits)] = []
        inputs.reserveCapacity(order.count)
        for player in order {
            let taken = updateClient(player) { client -> (InputBits, dropped: Int) in
                let droppedBefore = client.inputs.droppedCount
                let input = client.inputs.take()
                return (input, client.inputs.droppedCount - droppedBefore)
            }
            inputs.append((player, taken?.0 ?? .neutral))
            inputsDroppedTotal += taken?.dropped ?? 0
        }
        game.step(inputs: inputs)
        currentTick = game.tick
        // Records only on ticks some client gets a snapshot: a client acknowledges only snapshots it got, so every
        // baseline it can name has its record.
        let isSnapshotTick = phaseClientCounts[Int(currentTick % UInt32(settings.snapshotEveryTicks))] > 0
        if isSnapshotTick {
            let entities = game.entityStates()
            let cells = Self.interestCells(of: entities, in: game, grid: interestGrid)
            let prepared = PreparedSnapshot(tick: currentTick, entities: entities, codec: codec)
            ring.append(SnapshotRecord(prepared: prepared, cells: cells, cellCount: interestGrid.columns * interestGrid.rows))
        }
        let window = UInt32(settings.baselineWindowTicks)
        let oldest = currentTick > window ? currentTick - window : 0
        while let first = ring.first, first.tick < oldest { ring.removeFirst() }
        return TickOutcome(tick: currentTick, joined: joined, joinedNames: joinedNames, left: left, inputs: inputs,
                           isSnapshotTick: isSnapshotTick)
    }

    /// The game's state hash after the last tick: for recordings (hashing every entity costs; a room that does not
    /// record does not pay it).
    public func stateHash() -> UInt64 { game.stateHash() }

    /// The newest input sequence applied for a player.
    public func lastProcessedInput(of player: PlayerID) -> UInt32 { clientSlot[player].map { clients[$0].inputs.lastAppliedSequence } ?? 0 }

    /// Encodes this tick's snapshot for every client whose phase this tick is (all of them at one snapshot a
    /// tick) and calls `deliver(player, header, delta)`: the header is
    /// per client (it carries the client's last processed input); the entity delta bytes are shared by every
    /// client with the same baseline and the same views (encoded once, written many times).
    public func encodeSnapshots(_ deliver: (PlayerID, [UInt8], [UInt8]) -> Void) throws(WireError) {
        guard let current = ring.last, current.tick == currentTick else { return }
        let oldestKept = ring.first?.tick ?? current.tick
        var shared: [SnapshotViewKey: [UInt8]] = [:]
        // Clients in id order, read and changed where they are stored (a copy of one would copy its buffers).
        let phase = Int(current.tick % UInt32(settings.snapshotEveryTicks))
        phaseSlots.removeAll(keepingCapacity: true)
        for slot in clients.indices where clients[slot].snapshotPhase == phase { phaseSlots.append(slot) }
        phaseSlots.sort { clients[$0].player < clients[$1].player }
        isEncoding = true
        defer {
            isEncoding = false
            for player in leavesDuringEncode { leave(player) }
            leavesDuringEncode.removeAll()
        }
        let centers = Self.viewCenters(of: phaseSlots.map { clients[$0].player }, in: game)
        for (order, index) in phaseSlots.enumerated() {
            let player = clients[index].player
            let view: Int32
            if clients[index].isSpectator {
                view = Self.wholeWorld
            } else if let center = centers[order] {
                let cell = interestGrid.cell(of: center)
                view = Int32(cell.row * interestGrid.columns + cell.column)
            } else {
                view = Self.wholeWorld  // no avatar yet (just joined, or dead and gone): see the room
            }
            // The baseline: the acknowledged snapshot, filtered by the view this client had then.
            var baseline: (record: SnapshotRecord, view: Int32)?
            if let acknowledged = clients[index].acknowledgedTick, acknowledged != current.tick,
               let recordIndex = ringIndex(of: acknowledged),
               let sent = clients[index].sentViews.last(where: { $0.tick == acknowledged }) {
                baseline = (ring[recordIndex], sent.cell)
            }
            let key = SnapshotViewKey(baselineTick: baseline?.record.tick, baselineView: baseline?.view ?? Self.wholeWorld, view: view)
            let delta: [UInt8]
            if let cached = shared[key] {
                delta = cached
                deltaReusesTotal += 1
            } else {
                let visible = visiblePositions(of: current, view: view)
                let previous = baseline.map { visiblePositions(of: $0.record, view: $0.view) } ?? []
                var writer = BitWriter(capacity: 256)
                let summary = try codec.encode(current.prepared, positions: visible, against: baseline?.record.prepared, positions: previous,
                                               into: &writer)
                delta = writer.finish()
                deltaEncodesTotal += 1
                updatedEntitiesTotal += summary.updates
                updateBitsTotal += summary.updateBits
                shared[key] = delta
            }
            var header = BitWriter(capacity: 16)
            try ServerMessage.snapshot(SnapshotHeader(tick: current.tick, baselineTick: baseline?.record.tick,
                                                      lastProcessedInput: clients[index].inputs.lastAppliedSequence)).write(into: &header)
            clients[index].sentViews.append((current.tick, view))
            if let oldest = clients[index].sentViews.first, oldest.tick < oldestKept {
                clients[index].sentViews.removeAll { $0.tick < oldestKept }
            }
            deliver(player, header.finish(), delta)
        }
    }

    // The game is passed in once for a whole loop: each `game.…` call through the generic room copies the whole
    // world first (a class property read for a protocol witness), once per entity or per client.

    /// Each entity's interest cell, or `wholeWorld` for entities without a position.
    private static func interestCells(of entities: [EntityState], in game: G, grid: SpatialGrid) -> [Int32] {
        var cells: [Int32] = []
        cells.reserveCapacity(entities.count)
        for state in entities {
            if let position = game.position(of: state.id) {
                let cell = grid.cell(of: position)
                cells.append(Int32(cell.row * grid.columns + cell.column))
            } else {
                cells.append(wholeWorld)
            }
        }
        return cells
    }

    /// Where each player's view is centred (nil: no avatar).
    private static func viewCenters(of players: [PlayerID], in game: G) -> [FixedVector?] {
        players.map { game.viewCenter(of: $0) }
    }

    /// Where the snapshot of `tick` is in the ring (ticks increase along it), without copying records.
    private func ringIndex(of tick: UInt32) -> Int? {
        var low = 0, high = ring.count - 1
        while low <= high {
            let middle = (low + high) / 2
            let middleTick = ring[middle].tick
            if middleTick == tick { return middle }
            if middleTick < tick { low = middle + 1 } else { high = middle - 1 }
        }
        return nil
    }


    /// The positions (in `record.prepared.entities`) of the entities within the cell-aligned view around cell
    /// `view`, ascending (slot order, which the codec needs). Views are whole cells so that every player in one cell
    /// sees exactly the same set; each view is computed once per snapshot and kept with it, since it serves again
    /// as the baseline view of the next snapshots.
    private func visiblePositions(of record: SnapshotRecord, view: Int32) -> [Int32] {
        guard view != Self.wholeWorld else { return record.prepared.allPositions }
        if let cached = record.views[view] { return cached }
        let columnsTotal = interestGrid.columns, rowsTotal = interestGrid.rows
        let (viewColumn, viewRow) = (Int(view) % columnsTotal, Int(view) / columnsTotal)
        let size = settings.viewCellSize
        let reachColumns = (settings.viewHalfExtent.x / size).floor + 1
        let reachRows = (settings.viewHalfExtent.y / size).floor + 1
        // Marks in a bitmap over positions, then reads them back in order: a sort without comparisons.
        let wordCount = (record.prepared.entities.count + 63) / 64
        if visibleMarks.count < wordCount { visibleMarks = [UInt64](repeating: 0, count: wordCount) }
        var positions: [Int32] = []
        visibleMarks.withUnsafeMutableBufferPointer { marks in
            var firstWord = Int.max, lastWord = -1
            func mark(_ position: Int32) {
                let word = Int(position) >> 6
                marks[word] |= 1 << UInt64(position & 63)
                firstWord = min(firstWord, word)
                lastWord = max(lastWord, word)
            }
            for position in record.unplaced { mark(position) }
            for row in max(0, viewRow - reachRows)...min(rowsTotal - 1, viewRow + reachRows) {
                let first = row * columnsTotal + max(0, viewColumn - reachColumns)
                let last = row * columnsTotal + min(columnsTotal - 1, viewColumn + reachColumns)
                // A row of cells is contiguous in `byCell`.
                for index in Int(record.cellStart[first])..<Int(record.cellStart[last + 1]) { mark(record.byCell[index]) }
            }
            guard lastWord >= 0 else { return }
            for wordIndex in firstWord...lastWord {
                var word = marks[wordIndex]
                marks[wordIndex] = 0
                while word != 0 {
                    positions.append(Int32(wordIndex * 64 + word.trailingZeroBitCount))
                    word &= word &- 1
                }
            }
        }
        record.views[view] = positions
        return positions
    }
}

// Outside the generic class on purpose: nested in `RoomCore<G>` they would be generic too, and their metadata
// would be looked up at run time on every use in the tick.

fileprivate struct RoomClient {
    let player: PlayerID
    var name: String
    var inputs: InputBuffer
    /// The newest snapshot tick the client says it has.
    var acknowledgedTick: UInt32?
    /// A spectator has no avatar and sees the whole room.
    var isSpectator: Bool
    /// Snapshots go to this client on ticks where `tick % snapshotEveryTicks == snapshotPhase`.
    var snapshotPhase: Int
    /// The view cell each recent snapshot was filtered with (`wholeWorld` for spectators), so a baseline can
    /// be rebuilt exactly as this client received it.
    var sentViews: [(tick: UInt32, cell: Int32)] = []
}

/// A past snapshot: its entities prepared for encoding, bucketed by grid cell (a counting sort done once per
/// snapshot, so a client's view visits only its own cells instead of scanning the world), and the views computed
/// from it so far. A class: the ring and the encode loop share one record, and views are added in place.
fileprivate final class SnapshotRecord {
    let prepared: PreparedSnapshot
    var tick: UInt32 { prepared.tick }
    /// Entity positions (into `prepared.entities`) grouped by cell; cell c's are `byCell[cellStart[c]..<cellStart[c+1]]`.
    let byCell: [Int32]
    let cellStart: [Int32]
    /// Entities without a position (seen by everyone).
    let unplaced: [Int32]
    /// Visible positions by view cell.
    var views: [Int32: [Int32]] = [:]

    init(prepared: PreparedSnapshot, cells: [Int32], cellCount: Int) {
        self.prepared = prepared
        var start = [Int32](repeating: 0, count: cellCount + 1)
        var unplaced: [Int32] = []
        for (position, cell) in cells.enumerated() {
            if cell < 0 { unplaced.append(Int32(position)) } else { start[Int(cell) + 1] += 1 }
        }
        for index in 1..<start.count { start[index] += start[index - 1] }
        var fill = start
        var byCell = [Int32](repeating: 0, count: Int(start[cellCount]))
        for (position, cell) in cells.enumerated() where cell >= 0 {
            byCell[Int(fill[Int(cell)])] = Int32(position)
            fill[Int(cell)] += 1
        }
        self.byCell = byCell
        cellStart = start
        self.unplaced = unplaced
    }
}

fileprivate struct SnapshotViewKey: Hashable {
    var baselineTick: UInt32?
    var baselineView: Int32
    var view: Int32
}
