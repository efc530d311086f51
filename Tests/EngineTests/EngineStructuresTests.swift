import Engine
import XCTest

final class EngineStructuresTests: XCTestCase {
    func testRandomMatchesAnIndependentXoshiro256StarStarReference() {
        // Reference values from a separate Python implementation of SplitMix64 seeding + xoshiro256**.
        var random = DeterministicRandom(seed: 42)
        XCTAssertEqual((0..<5).map { _ in random.next() },
                       [0x1578_0B2E_0C2E_C716, 0x6104_D986_6D11_3A7E, 0xAE17_5332_39E4_99A1, 0xECB8_AD47_03B3_60A1, 0xFDE6_DC7F_E2EC_5E64])
    }

    func testRandomIntegersStayInRangeAndSpreadEvenly() {
        var random = DeterministicRandom(seed: 1)
        var counts = [Int](repeating: 0, count: 6)
        for _ in 0..<60_000 { counts[random.nextInt(below: 6)] += 1 }
        XCTAssertTrue(counts.allSatisfy { (9_500...10_500).contains($0) }, "\(counts)")
        XCTAssertEqual(random.nextInt(below: 0), 0)
        for _ in 0..<1000 {
            XCTAssertTrue((-3...3).contains(random.nextInt(in: -3...3)))
            XCTAssertTrue((Fixed(-1)...Fixed(1)).contains(random.nextFixed(in: Fixed(-1)...Fixed(1))))
        }
    }

    func testSameSeedGivesTheSameSequence() {
        var a = DeterministicRandom(seed: 77), b = DeterministicRandom(seed: 77), c = DeterministicRandom(seed: 78)
        let first = (0..<100).map { _ in a.next() }
        XCTAssertEqual(first, (0..<100).map { _ in b.next() })
        XCTAssertNotEqual(first, (0..<100).map { _ in c.next() })
    }

    func testEntityStoreReusesSlotsWithANewGenerationAndRejectsStaleIds() throws {
        var store = EntityStore<String>(capacity: 3)
        let a = try XCTUnwrap(store.insert("a"))
        let b = try XCTUnwrap(store.insert("b"))
        XCTAssertEqual(store.remove(a), "a")
        let c = try XCTUnwrap(store.insert("c"))
        XCTAssertEqual(c, EntityID(index: a.index, generation: a.generation + 1))
        XCTAssertNil(store[a], "a stale id does not reach the entity reusing its slot")
        XCTAssertNil(store.remove(a))
        XCTAssertEqual(store[c], "c")
        store[a] = "ignored"
        XCTAssertEqual(store[c], "c")
        XCTAssertEqual(store.ids, [c, b])
        XCTAssertEqual(store.count, 2)
    }

    func testEntityStoreRefusesInsertsPastItsCapacity() {
        var store = EntityStore<Int>(capacity: 2)
        XCTAssertNotNil(store.insert(1))
        XCTAssertNotNil(store.insert(2))
        XCTAssertNil(store.insert(3))
        XCTAssertEqual(store.count, 2)
    }

    func testUpdateEachVisitsInSlotOrderAndMutates() {
        var store = EntityStore<Int>(capacity: 10)
        let ids = (0..<5).compactMap { store.insert($0) }
        store.remove(ids[2])
        var visited: [EntityID] = []
        store.updateEach { id, value in
            visited.append(id)
            value *= 10
        }
        XCTAssertEqual(visited, [ids[0], ids[1], ids[3], ids[4]])
        XCTAssertEqual(store[ids[4]], 40)
    }

    func testGridQueryFindsEveryEntityInOverlappingCellsAndNoOthers() {
        var grid = SpatialGrid(width: Fixed(1000), height: Fixed(800), cellSize: Fixed(100))
        var random = DeterministicRandom(seed: 5)
        var items: [(id: EntityID, position: FixedVector)] = []
        for index in 0..<500 {
            let position = FixedVector(x: random.nextFixed(in: Fixed(0)...Fixed(1000)), y: random.nextFixed(in: Fixed(0)...Fixed(800)))
            items.append((EntityID(index: UInt32(index), generation: 0), position))
        }
        grid.rebuild(items)
        for _ in 0..<50 {
            let center = FixedVector(x: random.nextFixed(in: Fixed(0)...Fixed(1000)), y: random.nextFixed(in: Fixed(0)...Fixed(800)))
            let half = FixedVector(x: Fixed(150), y: Fixed(90))
            var found: [EntityID] = []
            grid.query(center: center, halfExtent: half, into: &found)
            let low = grid.cell(of: center - half), high = grid.cell(of: center + half)
            let expected = items.filter { item in
                let cell = grid.cell(of: item.position)
                return (low.column...high.column).contains(cell.column) && (low.row...high.row).contains(cell.row)
            }.map(\.id)
            XCTAssertEqual(Set(found), Set(expected))
            XCTAssertEqual(found.count, expected.count, "no duplicates")
            // Cell by cell in row-major order, each cell's entities in the order they were given.
            let cellOrder = { (id: EntityID) -> Int in
                let cell = grid.cell(of: items[Int(id.index)].position)
                return cell.row * grid.columns + cell.column
            }
            XCTAssertEqual(found, expected.sorted { (cellOrder($0), $0.index) < (cellOrder($1), $1.index) })
        }
        // A rebuild with fewer items forgets the cells the last one filled.
        grid.rebuild(Array(items.prefix(3)))
        var everything: [EntityID] = []
        grid.query(center: FixedVector(x: Fixed(500), y: Fixed(400)), halfExtent: FixedVector(x: Fixed(600), y: Fixed(500)), into: &everything)
        XCTAssertEqual(Set(everything), Set(items.prefix(3).map(\.id)))
        XCTAssertEqual(everything.count, 3)
        grid.rebuild([])
        everything.removeAll()
        grid.query(center: FixedVector(x: Fixed(500), y: Fixed(400)), halfExtent: FixedVector(x: Fixed(600), y: Fixed(500)), into: &everything)
        XCTAssertEqual(everything, [])
    }

    func testEntityFieldsKeepEvery32BitValueAsWritten() {
        var fields = EntityFields(repeating: 0, count: EntityFields.capacity)
        let values: [Int64] = [Int64(Int32.min), -1, 0, 1, 65_535, 1 << 20, Int64(Int32.max) - 1, Int64(Int32.max)]
        for (position, value) in values.enumerated() { fields[position] = value }
        XCTAssertEqual(Array(fields), values)
        XCTAssertEqual(fields, EntityFields(values))
        XCTAssertNotEqual(fields, EntityFields(values.dropLast() + [0]))
    }

    func testAnEntityStateIsFortyEightBytesSoWorldsCopyCheaply() {
        // Eight 32-bit fields, their count, the id and the kind: what every snapshot record, view and decoded world
        // holds thousands of. 64-bit fields made it 88.
        XCTAssertEqual(MemoryLayout<EntityState>.stride, 48)
    }

    func testStateHashIsFixedForAFixedSequenceAndOrderSensitive() {
        var a = StateHasher()
        a.combine(Fixed(3))
        a.combine(EntityID(index: 1, generation: 2))
        a.combine("tickwire")
        var b = StateHasher()
        b.combine(EntityID(index: 1, generation: 2))
        b.combine(Fixed(3))
        b.combine("tickwire")
        XCTAssertNotEqual(a.value, b.value)
        var again = StateHasher()
        again.combine(Fixed(3))
        again.combine(EntityID(index: 1, generation: 2))
        again.combine("tickwire")
        XCTAssertEqual(a.value, again.value)
        XCTAssertEqual(StateHasher().value, 0x243F_6A88_85A3_08D3)
    }

    func testSteeringDirectionsAreUnitLengthAndSnappingRoundsDownToSixteenths() {
        XCTAssertEqual(FixedVector.direction(up: false, down: false, left: true, right: false), FixedVector(x: -1, y: 0))
        XCTAssertEqual(FixedVector.direction(up: true, down: true, left: false, right: false), .zero, "opposite buttons cancel")
        XCTAssertEqual(FixedVector.direction(up: true, down: false, left: false, right: true), FixedVector(x: Fixed(raw: 46341), y: Fixed(raw: -46341)))
        let capped = FixedVector(x: 10, y: 0).steered(towards: FixedVector(x: 1, y: 0), acceleration: 1, retained: 1, speedMax: 6)
        XCTAssertEqual(capped, FixedVector(x: 6, y: 0))
        let slowed = FixedVector(x: 4, y: 0).steered(towards: .zero, acceleration: 1, retained: Fixed(1, over: 2), speedMax: 6)
        XCTAssertEqual(slowed, FixedVector(x: 2, y: 0))
        XCTAssertEqual(FixedVector(x: Fixed(raw: 0x1_2FFF), y: Fixed(raw: -1)).snapped(toFractionBits: 4),
                       FixedVector(x: Fixed(raw: 0x1_2000), y: Fixed(raw: -0x1000)))
    }
}
