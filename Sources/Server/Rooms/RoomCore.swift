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
    public var stateHash: UInt64
    public var isSnapshotTick: Bool
}

/// A room's simulation and snapshot logic, without sockets: players, their bounded input buffers, the fixed
/// tick, the ring of past snapshots, and per-client delta encoding with interest management. The socket side
/// (`Room`) drives it on the room's event loop; tests and benchmarks drive it directly.
public final class RoomCore<G: Game> {
    /// The simulation.
    public private(set) var game: G
    public let settings: RoomSettings
    public let codec: EntityDeltaCodec



    /// The view "cell" of a client that sees everything.
    private static var wholeWorld: Int32 { -1 }

    private var clients: [PlayerID: RoomClient] = [:]
    /// Present players in id order: the order inputs are given to the game.
    private var order: [PlayerID] = []
    private var pendingJoins: [(PlayerID, String)] = []
    private var pendingLeaves: [PlayerID] = []
    private var nextPlayerNumber: UInt16 = 1
    /// Past snapshots, newest last, at most `baselineWindowTicks` old.
    private var ring: [SnapshotRecord] = []
    private var interestGrid: SpatialGrid

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

    public init(game: G, settings: RoomSettings, playersMax: Int = 256, spectatorsMax: Int = 1024) {
        self.game = game
        self.settings = settings
        self.playersMax = playersMax
        self.spectatorsMax = spectatorsMax
        codec = EntityDeltaCodec(schema: G.schema)
        interestGrid = SpatialGrid(width: game.worldSize.x, height: game.worldSize.y, cellSize: settings.viewCellSize)
    }

    /// Players present or joining (spectators not included).
    public var playerCount: Int { clients.count - spectatorCount }

    /// The name a player joined with.
    public func name(of player: PlayerID) -> String? { clients[player]?.name }

    /// The player's connection dropped: it stays in the world, standing still, until it resumes or leaves.
    public func suspend(_ player: PlayerID) {
        guard var client = clients[player] else { return }
        client.inputs.stopMoving()
        clients[player] = client
    }

    /// The player came back on a new connection: it has no snapshots yet, so the next one is full.
    public func resume(_ player: PlayerID) {
        guard var client = clients[player] else { return }
        client.acknowledgedTick = nil
        client.sentViews = []
        clients[player] = client
    }

    /// Reserves a player id; the player enters the world at the next tick. Nil when the room is full.
    public func join(name: String, spectator: Bool = false) -> PlayerID? {
        guard spectator ? spectatorCount < spectatorsMax : clients.count - spectatorCount < playersMax else { return nil }
        var number = nextPlayerNumber
        while clients[PlayerID(raw: number)] != nil || number == 0 { number &+= 1 }
        nextPlayerNumber = number &+ 1
        let player = PlayerID(raw: number)
        clients[player] = RoomClient(name: name, inputs: InputBuffer(capacity: settings.inputBufferMax), acknowledgedTick: nil,
                                 isSpectator: spectator)
        if spectator { spectatorCount += 1 } else { pendingJoins.append((player, name)) }
        return player
    }

    /// The player leaves at the next tick.
    public func leave(_ player: PlayerID) {
        guard let client = clients.removeValue(forKey: player) else { return }
        if client.isSpectator { spectatorCount -= 1 }
        pendingJoins.removeAll { $0.0 == player }
        pendingLeaves.append(player)
    }

    /// Takes an input message; false when it was dropped (stale, or the buffer is full).
    @discardableResult
    public func receiveInput(from player: PlayerID, sequence: UInt32, acknowledgedTick: UInt32?, bits: InputBits) -> Bool {
        guard var client = clients[player] else { return false }
        if let acknowledgedTick, acknowledgedTick <= game.tick {
            client.acknowledgedTick = max(client.acknowledgedTick ?? 0, acknowledgedTick)
        }
        let accepted = client.isSpectator ? true : client.inputs.push(sequence: sequence, bits: bits)
        if !accepted { inputsDroppedTotal += 1 }
        clients[player] = client
        return accepted
    }

    /// Records that a client has a snapshot (spectators acknowledge without sending inputs).
    public func acknowledge(_ player: PlayerID, tick: UInt32) {
        guard tick <= game.tick, var client = clients[player] else { return }
        client.acknowledgedTick = max(client.acknowledgedTick ?? 0, tick)
        clients[player] = client
    }

    /// Advances one tick: applies joins and leaves, takes one input per player, steps, hashes, and keeps the
    /// snapshot for baselines when it is a snapshot tick.
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
            // In place: a copy of the client out of the dictionary would copy its buffers on write, every tick.
            guard let droppedBefore = clients[player]?.inputs.droppedCount, let input = clients[player]?.inputs.take() else {
                inputs.append((player, .neutral))
                continue
            }
            inputs.append((player, input))
            inputsDroppedTotal += (clients[player]?.inputs.droppedCount ?? droppedBefore) - droppedBefore
        }
        game.step(inputs: inputs)
        let isSnapshotTick = game.tick % UInt32(settings.snapshotEveryTicks) == 0
        if isSnapshotTick {
            let entities = game.entityStates()
            // A plain loop, not a closure: reading `game` inside a closure copied the whole world per entity.
            var cells: [Int32] = []
            cells.reserveCapacity(entities.count)
            for state in entities {
                if let position = game.position(of: state.id) {
                    let cell = interestGrid.cell(of: position)
                    cells.append(Int32(cell.row * interestGrid.columns + cell.column))
                } else {
                    cells.append(Self.wholeWorld)
                }
            }
            ring.append(SnapshotRecord(tick: game.tick, entities: entities, cells: cells,
                                       cellCount: interestGrid.columns * interestGrid.rows))
            let window = UInt32(settings.baselineWindowTicks)
            let oldest = game.tick > window ? game.tick - window : 0
            while let first = ring.first, first.tick < oldest { ring.removeFirst() }
        }
        return TickOutcome(tick: game.tick, joined: joined, joinedNames: joinedNames, left: left, inputs: inputs, stateHash: game.stateHash(),
                           isSnapshotTick: isSnapshotTick)
    }

    /// The newest input sequence applied for a player.
    public func lastProcessedInput(of player: PlayerID) -> UInt32 { clients[player]?.inputs.lastAppliedSequence ?? 0 }

    /// Encodes this tick's snapshot for every client and calls `deliver(player, header, delta)`: the header is
    /// per client (it carries the client's last processed input); the entity delta bytes are shared by every
    /// client with the same baseline and the same views (encoded once, written many times).
    public func encodeSnapshots(_ deliver: (PlayerID, [UInt8], [UInt8]) -> Void) throws(WireError) {
        guard let current = ring.last, current.tick == game.tick else { return }
        let oldestKept = ring.first?.tick ?? current.tick
        var shared: [SnapshotViewKey: [UInt8]] = [:]
        for player in clients.keys.sorted() {
            guard let client = clients[player] else { continue }
            let view: Int32
            if client.isSpectator {
                view = Self.wholeWorld
            } else if let center = game.viewCenter(of: player) {
                let cell = interestGrid.cell(of: center)
                view = Int32(cell.row * interestGrid.columns + cell.column)
            } else {
                view = Self.wholeWorld  // no avatar yet (just joined, or dead and gone): see the room
            }
            // The baseline: the acknowledged snapshot, filtered by the view this client had then.
            var baseline: (record: SnapshotRecord, view: Int32)?
            if let acknowledged = client.acknowledgedTick, acknowledged != current.tick,
               let recordIndex = ringIndex(of: acknowledged),
               let sent = client.sentViews.last(where: { $0.tick == acknowledged }) {
                baseline = (ring[recordIndex], sent.cell)
            }
            let key = SnapshotViewKey(baselineTick: baseline?.record.tick, baselineView: baseline?.view ?? Self.wholeWorld, view: view)
            let delta: [UInt8]
            if let cached = shared[key] {
                delta = cached
                deltaReusesTotal += 1
            } else {
                let visible = visibleEntities(of: current, view: view)
                let previous = baseline.map { visibleEntities(of: $0.record, view: $0.view) } ?? []
                var writer = BitWriter(capacity: 256)
                let summary = try codec.encode(visible, against: previous, into: &writer)
                delta = writer.finish()
                deltaEncodesTotal += 1
                updatedEntitiesTotal += summary.updates
                updateBitsTotal += summary.updateBits
                shared[key] = delta
            }
            var header = BitWriter(capacity: 16)
            try ServerMessage.snapshot(SnapshotHeader(tick: current.tick, baselineTick: baseline?.record.tick,
                                                      lastProcessedInput: client.inputs.lastAppliedSequence)).write(into: &header)
            _ = consume client  // mutate the stored client in place below, without a second owner of its buffers
            clients[player]?.sentViews.append((current.tick, view))
            clients[player]?.sentViews.removeAll { $0.tick < oldestKept }
            deliver(player, header.finish(), delta)
        }
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


    /// The entities of `record` within the cell-aligned view around cell `view`, in slot order. Views are whole
    /// cells so that every player in one cell sees exactly the same set.
    private func visibleEntities(of record: SnapshotRecord, view: Int32) -> [EntityState] {
        guard view != Self.wholeWorld else { return record.entities }
        let columnsTotal = interestGrid.columns, rowsTotal = interestGrid.rows
        let (viewColumn, viewRow) = (Int(view) % columnsTotal, Int(view) / columnsTotal)
        let size = settings.viewCellSize
        let reachColumns = (settings.viewHalfExtent.x / size).floor + 1
        let reachRows = (settings.viewHalfExtent.y / size).floor + 1
        var positions = record.unplaced
        for row in max(0, viewRow - reachRows)...min(rowsTotal - 1, viewRow + reachRows) {
            let first = row * columnsTotal + max(0, viewColumn - reachColumns)
            let last = row * columnsTotal + min(columnsTotal - 1, viewColumn + reachColumns)
            // A row of cells is contiguous in `byCell`.
            positions.append(contentsOf: record.byCell[Int(record.cellStart[first])..<Int(record.cellStart[last + 1])])
        }
        positions.sort()  // back to slot order, which the codec needs
        return positions.map { record.entities[Int($0)] }
    }
}

// Outside the generic class on purpose: nested in `RoomCore<G>` they would be generic too, and their metadata
// would be looked up at run time on every use in the tick.

fileprivate struct RoomClient {
    var name: String
    var inputs: InputBuffer
    /// The newest snapshot tick the client says it has.
    var acknowledgedTick: UInt32?
    /// A spectator has no avatar and sees the whole room.
    var isSpectator: Bool
    /// The view cell each recent snapshot was filtered with (`wholeWorld` for spectators), so a baseline can
    /// be rebuilt exactly as this client received it.
    var sentViews: [(tick: UInt32, cell: Int32)] = []
}

/// A past snapshot: every entity, and its entities bucketed by grid cell (a counting sort done once per
/// snapshot, so a client's view visits only its own cells instead of scanning the world).
fileprivate struct SnapshotRecord {
    var tick: UInt32
    var entities: [EntityState]
    /// Entity positions (into `entities`) grouped by cell; cell c's are `byCell[cellStart[c]..<cellStart[c+1]]`.
    var byCell: [Int32]
    var cellStart: [Int32]
    /// Entities without a position (seen by everyone).
    var unplaced: [Int32]

    init(tick: UInt32, entities: [EntityState], cells: [Int32], cellCount: Int) {
        self.tick = tick
        self.entities = entities
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
