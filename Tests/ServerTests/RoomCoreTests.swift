import Arena
import Engine
import Server
import Wire
import XCTest

/// A client's side of snapshots for tests: `SnapshotTracker` plus counters.
struct SnapshotDecoder {
    private var tracker = SnapshotTracker(schema: Arena.schema)
    private(set) var lastProcessedInput: UInt32 = 0
    private(set) var fullSnapshots = 0
    var newestTick: UInt32? { tracker.newestTick }

    mutating func receive(_ bytes: [UInt8]) throws -> [EntityState] {
        var reader = BitReader(bytes)
        guard case .snapshot(let header) = try ServerMessage.read(from: &reader) else { throw WireError.unknownMessageType(0) }
        if header.baselineTick == nil { fullSnapshots += 1 }
        lastProcessedInput = header.lastProcessedInput
        return try tracker.receive(header, from: &reader).get()
    }
}

final class RoomCoreTests: XCTestCase {
    private func room(players: Int = 0, settings: RoomSettings = RoomSettings()) -> (RoomCore<Arena>, [PlayerID]) {
        let core = RoomCore(game: Arena(config: ArenaConfig(), seed: 1), settings: settings)
        let ids = (0..<players).compactMap { core.join(name: "p\($0)") }
        return (core, ids)
    }

    func testJoinsAndLeavesTakeEffectAtTheNextTick() throws {
        let (core, _) = room()
        let player = try XCTUnwrap(core.join(name: "ada"))
        XCTAssertNil(core.game.viewCenter(of: player), "not in the world before the tick")
        let outcome = core.tick()
        XCTAssertEqual(outcome.joined, [player])
        XCTAssertNotNil(core.game.viewCenter(of: player))
        core.leave(player)
        XCTAssertNotNil(core.game.viewCenter(of: player))
        XCTAssertEqual(core.tick().left, [player])
        XCTAssertNil(core.game.viewCenter(of: player))
    }

    func testAPlayerLeavingFromTheMiddleLeavesEveryOtherPlayersStateWithThatPlayer() throws {
        let (core, ids) = room(players: 4)
        _ = core.tick()
        let right = ArenaInput(right: true).bits, up = ArenaInput(up: true).bits
        for (index, player) in ids.enumerated() {
            core.receiveInput(from: player, sequence: UInt32(index + 1), acknowledgedTick: nil, bits: index % 2 == 0 ? right : up)
        }
        core.leave(ids[1])  // the last client is moved into its place
        let outcome = core.tick()
        XCTAssertEqual(outcome.left, [ids[1]])
        XCTAssertEqual(outcome.inputs.map(\.player), [ids[0], ids[2], ids[3]])
        XCTAssertEqual(outcome.inputs.map(\.input), [right, right, up])
        XCTAssertEqual([ids[0], ids[2], ids[3]].map { core.name(of: $0) }, ["p0", "p2", "p3"])
        XCTAssertEqual([ids[0], ids[2], ids[3]].map { core.lastProcessedInput(of: $0) }, [1, 3, 4])
        XCTAssertNil(core.name(of: ids[1]))
        XCTAssertEqual(core.playerCount, 3)
        var served: [PlayerID] = []
        for _ in 0..<core.settings.snapshotEveryTicks {
            _ = core.tick()
            try core.encodeSnapshots { player, _, _ in served.append(player) }
        }
        XCTAssertEqual(served.sorted(), [ids[0], ids[2], ids[3]], "each remaining player gets one snapshot per period, the leaver none")
        let newcomer = try XCTUnwrap(core.join(name: "p4"))
        XCTAssertEqual(core.name(of: newcomer), "p4")
        XCTAssertEqual(core.name(of: ids[3]), "p3")
    }

    func testAClientLeavingWhileSnapshotsAreDeliveredLeavesTheOthersServedOnce() throws {
        // The room kicks a client that is too slow from inside `deliver`, and the kick closes it at once.
        let (core, ids) = room(players: 5)
        _ = core.tick()
        var served: [PlayerID] = []
        var newcomer: PlayerID?
        try core.encodeSnapshots { player, _, _ in
            served.append(player)
            if player == ids[1] {
                core.leave(ids[0])  // already served
                core.leave(ids[3])  // not yet
                newcomer = core.join(name: "late")
            }
        }
        XCTAssertEqual(served, ids, "every client of the tick once, in order, whatever left meanwhile")
        XCTAssertNil(core.name(of: ids[0]))
        XCTAssertNil(core.name(of: ids[3]))
        XCTAssertEqual([ids[1], ids[2], ids[4]].map { core.name(of: $0) }, ["p1", "p2", "p4"])
        let late = try XCTUnwrap(newcomer)
        XCTAssertEqual(core.name(of: late), "late")
        XCTAssertEqual(Set(core.tick().left), [ids[0], ids[3]])
        var next: [PlayerID] = []
        try core.encodeSnapshots { player, _, _ in next.append(player) }
        XCTAssertEqual(next, [ids[1], ids[2], ids[4], late].sorted())
    }

    func testOneInputPerTickTheLastRepeatsAndExcessIsDropped() throws {
        var settings = RoomSettings()
        settings.inputBufferMax = 3
        let (core, ids) = room(players: 1, settings: settings)
        let player = ids[0]
        _ = core.tick()
        let right = ArenaInput(right: true).bits
        XCTAssertTrue(core.receiveInput(from: player, sequence: 1, acknowledgedTick: nil, bits: right))
        XCTAssertTrue(core.receiveInput(from: player, sequence: 2, acknowledgedTick: nil, bits: right))
        XCTAssertTrue(core.receiveInput(from: player, sequence: 3, acknowledgedTick: nil, bits: .neutral))
        XCTAssertFalse(core.receiveInput(from: player, sequence: 4, acknowledgedTick: nil, bits: right), "buffer of 3 is full")
        XCTAssertFalse(core.receiveInput(from: player, sequence: 2, acknowledgedTick: nil, bits: right), "stale sequence")
        XCTAssertEqual(core.inputsDroppedTotal, 2)
        XCTAssertEqual(core.tick().inputs.map(\.input), [right])
        XCTAssertEqual(core.lastProcessedInput(of: player), 1)
        XCTAssertEqual(core.tick().inputs.map(\.input), [right])
        XCTAssertEqual(core.tick().inputs.map(\.input), [.neutral])
        XCTAssertEqual(core.tick().inputs.map(\.input), [.neutral], "nothing new arrived: the last input repeats")
        XCTAssertEqual(core.lastProcessedInput(of: player), 3)
    }

    func testClientsDecodeEverySnapshotAgainstTheirOwnBaselinesWithLossAndDelay() throws {
        let (core, ids) = room(players: 24)
        var script = DeterministicRandom(seed: 8)
        var decoders = Dictionary(uniqueKeysWithValues: ids.map { ($0, SnapshotDecoder()) })
        var pendingAcks: [(due: Int, player: PlayerID, tick: UInt32)] = []
        var sequence: UInt32 = 0
        for step in 0..<600 {
            sequence += 1
            for player in ids {
                let input = ArenaInput(up: script.nextInt(below: 2) == 0, left: script.nextInt(below: 2) == 0,
                                       right: script.nextInt(below: 3) == 0, shoot: script.nextInt(below: 4) == 0,
                                       aim: BinaryAngle(raw: UInt16(script.nextInt(below: 65536))))
                core.receiveInput(from: player, sequence: sequence, acknowledgedTick: nil, bits: input.bits)
            }
            for ack in pendingAcks where ack.due <= step { core.acknowledge(ack.player, tick: ack.tick) }
            pendingAcks.removeAll { $0.due <= step }
            _ = core.tick()
            let world = Dictionary(uniqueKeysWithValues: core.game.entityStates().map { ($0.id, $0) })
            var delivered = 0
            defer { XCTAssertEqual(delivered, ids.count, "tick \(step + 1): a snapshot for every client") }
            try core.encodeSnapshots { player, header, delta in
                delivered += 1
                let entities = try! decoders[player]!.receive(header + delta)
                // Everything the client holds is exactly what the server has.
                for entity in entities { XCTAssertEqual(world[entity.id], entity) }
                // It holds its own avatar and everything within 400 units of it.
                if let avatar = core.game.avatar(of: player), let center = core.game.viewCenter(of: player) {
                    XCTAssertTrue(entities.contains { $0.id == avatar })
                    let near = world.values.filter { state in
                        core.game.position(of: state.id).map { ($0 - center).lengthSquared < Fixed(400 * 400) } ?? false
                    }
                    XCTAssertTrue(Set(near.map(\.id)).isSubset(of: Set(entities.map(\.id))))
                }
                // A third of the acks are lost; the rest arrive 3-8 ticks later.
                if script.nextInt(below: 3) != 0 {
                    pendingAcks.append((step + script.nextInt(in: 3...8), player, core.game.tick))
                }
            }
        }
        for decoder in decoders.values {
            XCTAssertEqual(decoder.newestTick, core.game.tick)
            XCTAssertEqual(decoder.lastProcessedInput, sequence)
            XCTAssertLessThan(decoder.fullSnapshots, 20, "after the first ack, deltas")
        }
    }

    func testSpectatorsWithTheSameBaselineShareOneEncodedDelta() throws {
        let (core, _) = room(players: 4)
        let watchers = (0..<3).compactMap { _ in core.join(name: "watch", spectator: true) }
        let outcome = core.tick()
        var deltas: [PlayerID: [UInt8]] = [:]
        try core.encodeSnapshots { player, _, delta in deltas[player] = delta }
        XCTAssertTrue(outcome.isSnapshotTick)
        XCTAssertEqual(deltas.count, 7, "every client, spectators included, gets the very first snapshot")
        for watcher in watchers { core.acknowledge(watcher, tick: core.game.tick) }
        _ = core.tick()
        var second: [PlayerID: [UInt8]] = [:]
        try core.encodeSnapshots { player, _, delta in second[player] = delta }
        XCTAssertEqual(watchers.count, 3)
        XCTAssertEqual(Set(watchers.compactMap { second[$0] }).count, 1, "same baseline and whole-world view: one payload")
        XCTAssertEqual(second.count, 7, "\(second.keys.sorted())")
        let firstDelta = try XCTUnwrap(deltas[watchers[0]]), secondDelta = try XCTUnwrap(second[watchers[0]])
        XCTAssertLessThan(secondDelta.count, firstDelta.count, "a delta is smaller than the full snapshot")
    }

    func testASmallRoomKeepsSnapshotRecordsOnlyOnItsSnapshotTicks() throws {
        var settings = RoomSettings()
        settings.snapshotEveryTicks = 3
        let core = RoomCore(game: Arena(config: ArenaConfig(), seed: 1), settings: settings, phaseOffset: -4)  // phase 2
        XCTAssertFalse(core.tick().isSnapshotTick, "no clients, no snapshots")
        let players = (0..<4).compactMap { core.join(name: "p\($0)") }
        var decoders: [PlayerID: SnapshotDecoder] = [:]
        var servedTicks: [UInt32] = []
        for _ in 0..<12 {
            let outcome = core.tick()
            var served = 0
            try core.encodeSnapshots { player, header, delta in
                served += 1
                do { _ = try decoders[player, default: SnapshotDecoder()].receive(header + delta) } catch { XCTFail("\(error)") }
            }
            XCTAssertEqual(outcome.isSnapshotTick, outcome.tick % 3 == 2, "tick \(outcome.tick)")
            XCTAssertEqual(served, outcome.isSnapshotTick ? 4 : 0, "the whole room in the room's phase")
            if outcome.isSnapshotTick { servedTicks.append(outcome.tick) }
            for player in players { if let newest = decoders[player]?.newestTick { core.acknowledge(player, tick: newest) } }
        }
        XCTAssertEqual(servedTicks.count, 4)
        for player in players { XCTAssertEqual(decoders[player]?.fullSnapshots, 1, "later snapshots are deltas on kept records") }
    }

    func testAnAcknowledgementOutsideTheWindowGetsAFullSnapshot() throws {
        var settings = RoomSettings()
        settings.baselineWindowTicks = 10
        let (core, ids) = room(players: 1, settings: settings)
        _ = core.tick()
        core.acknowledge(ids[0], tick: core.game.tick)
        for _ in 0..<20 { _ = core.tick() }
        var decoder = SnapshotDecoder()
        try core.encodeSnapshots { _, header, delta in _ = try! decoder.receive(header + delta) }
        XCTAssertEqual(decoder.fullSnapshots, 1)
    }

    func testSnapshotsEveryKTicksAreSpreadSoEachTickServesAboutOneKthOfTheClients() throws {
        var settings = RoomSettings()
        settings.snapshotEveryTicks = 3
        let block = RoomCore<Arena>.phaseBlockSize
        let (core, players) = room(players: 3 * block + 1, settings: settings)
        var ticksByPlayer: [PlayerID: [UInt32]] = [:]
        var decoders: [PlayerID: SnapshotDecoder] = [:]
        for _ in 0..<30 {
            let outcome = core.tick()
            var served = 0
            try core.encodeSnapshots { player, header, delta in
                served += 1
                ticksByPlayer[player, default: []].append(outcome.tick)
                do { _ = try decoders[player, default: SnapshotDecoder()].receive(header + delta) } catch { XCTFail("\(error)") }
            }
            // Blocks of joins in turn: phase 0 has the first block and the last client, 1 and 2 a block each.
            XCTAssertEqual(served, outcome.tick % 3 == 0 ? block + 1 : block, "tick \(outcome.tick): 3 blocks over 3 phases, not all at once")
            for player in players { if let newest = decoders[player]?.newestTick { core.acknowledge(player, tick: newest) } }
        }
        for player in players {
            let ticks = try XCTUnwrap(ticksByPlayer[player])
            XCTAssertEqual(ticks.count, 10, "one snapshot every 3 ticks")
            XCTAssertTrue(zip(ticks, ticks.dropFirst()).allSatisfy { $1 - $0 == 3 })
            XCTAssertEqual(decoders[player]?.fullSnapshots, 1, "after the first, deltas against the acknowledged snapshot")
        }
    }
}

final class InputQueueTests: XCTestCase {
    func testAStandingQueueOfInputsIsTrimmedButABurstIsNot() throws {
        let core = RoomCore(game: Arena(config: ArenaConfig(), seed: 1), settings: RoomSettings())
        let player = try XCTUnwrap(core.join(name: "fast clock"))
        _ = core.tick()
        var sequence: UInt32 = 0
        func send(_ count: Int) {
            for _ in 0..<count {
                sequence += 1
                core.receiveInput(from: player, sequence: sequence, acknowledgedTick: nil, bits: .neutral)
            }
        }
        // A burst of 5 drains one per tick with nothing dropped.
        send(5)
        for _ in 0..<5 { _ = core.tick() }
        XCTAssertEqual(core.lastProcessedInput(of: player), 5)
        XCTAssertEqual(core.inputsDroppedTotal, 0)
        // A clock that runs ahead keeps 4 waiting: after 30 ticks the queue is cut back to the newest input.
        send(4)
        for _ in 0..<40 {
            send(1)
            _ = core.tick()
        }
        XCTAssertGreaterThan(core.inputsDroppedTotal, 0)
        XCTAssertGreaterThanOrEqual(core.lastProcessedInput(of: player), sequence - 2, "the newest inputs are applied without a standing queue")
    }
}

final class RoomCoreSpectatorLimitTests: XCTestCase {
    func testSpectatorsAreCountedApartFromPlayers() {
        let core = RoomCore(game: Arena(config: ArenaConfig(), seed: 1), settings: RoomSettings(), playersMax: 2, spectatorsMax: 3)
        let players = (0..<3).compactMap { core.join(name: "p\($0)") }
        XCTAssertEqual(players.count, 2, "the third player is refused")
        let watchers = (0..<4).compactMap { _ in core.join(name: "w", spectator: true) }
        XCTAssertEqual(watchers.count, 3, "spectators have their own limit, full players or not")
        XCTAssertEqual(core.playerCount, 2)
        core.leave(watchers[0])
        XCTAssertNotNil(core.join(name: "w", spectator: true), "a spectator's place frees when it leaves")
        core.leave(players[0])
        XCTAssertNotNil(core.join(name: "p"), "and a player's")
    }
}
