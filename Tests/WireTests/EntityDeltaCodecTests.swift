import Engine
import Wire
import XCTest

final class EntityDeltaCodecTests: XCTestCase {
    private let schema = RandomWorlds.schema
    private let worlds = RandomWorlds()

    private func encode(_ current: [EntityState], against baseline: [EntityState], codec: EntityDeltaCodec) throws -> (bytes: [UInt8], bits: Int) {
        var writer = BitWriter()
        try codec.encode(current, against: baseline, into: &writer)
        let bits = writer.bitCount
        var measurer = BitMeasurer()
        try codec.encode(current, against: baseline, into: &measurer)
        XCTAssertEqual(measurer.bitCount, bits, "measuring and writing agree")
        return (writer.finish(), bits)
    }

    private func decode(_ bytes: [UInt8], against baseline: [EntityState], codec: EntityDeltaCodec) throws -> [EntityState] {
        var reader = BitReader(bytes)
        let states = try codec.decode(from: &reader, against: baseline)
        try reader.finish()
        return states
    }

    func testRandomDeltasRoundTripAgainstRandomBaselinesIncludingNone() throws {
        let codec = EntityDeltaCodec(schema: schema)
        var random = DeterministicRandom(seed: 2026)
        for _ in 0..<300 {
            let baseline = random.nextInt(below: 4) == 0 ? [] : worlds.randomWorld(count: random.nextInt(below: 60), random: &random)
            let current = worlds.mutate(baseline, random: &random)
            let encoded = try encode(current, against: baseline, codec: codec)
            XCTAssertEqual(try decode(encoded.bytes, against: baseline, codec: codec), current)
        }
    }

    func testUnchangedEntitiesCostNothing() throws {
        let codec = EntityDeltaCodec(schema: schema)
        var random = DeterministicRandom(seed: 1)
        let world = worlds.randomWorld(count: 500, random: &random)
        let encoded = try encode(world, against: world, codec: codec)
        XCTAssertEqual(encoded.bits, 3 * 13, "three empty counts of 13 bits each (0...4096), nothing per entity")
    }

    func testSmallMovesCostFarLessThanAbsoluteValues() throws {
        let codec = EntityDeltaCodec(schema: schema)
        let before = [EntityState(id: EntityID(index: 7, generation: 0), kind: 0, fields: [1000, 2000, 100, 500])]
        let after = [EntityState(id: EntityID(index: 7, generation: 0), kind: 0, fields: [1003, 1990, 100, 500])]
        let encoded = try encode(after, against: before, codec: codec)
        // counts 39 + index gap of 7 ("10" + 4 bits) 6 + 4 changed bits + 2 × (small bit + 8 delta bits) 18 = 67,
        // against 2 × 21 absolute bits for the two coordinates alone.
        XCTAssertEqual(encoded.bits, 67)
        XCTAssertEqual(try decode(encoded.bytes, against: before, codec: codec), after)
    }

    func testFullSnapshotSendsEveryEntityAsACreate() throws {
        let codec = EntityDeltaCodec(schema: schema)
        let world = [EntityState(id: EntityID(index: 0, generation: 5), kind: 1, fields: [1, 2]),
                     EntityState(id: EntityID(index: 1, generation: 0), kind: 0, fields: [3, 4, 5, 6])]
        let encoded = try encode(world, against: [], codec: codec)
        XCTAssertEqual(try decode(encoded.bytes, against: [], codec: codec), world)
    }

    func testUpdatesOfUnknownEntitiesAndCreatesOverLiveOnesAreRejected() throws {
        let codec = EntityDeltaCodec(schema: schema)
        let one = [EntityState(id: EntityID(index: 3, generation: 0), kind: 1, fields: [10, 10])]
        let moved = [EntityState(id: EntityID(index: 3, generation: 0), kind: 1, fields: [11, 10])]
        let update = try encode(moved, against: one, codec: codec)
        XCTAssertThrowsError(try decode(update.bytes, against: [], codec: codec)) { error in
            XCTAssertEqual(error as? WireError, .outOfRange(field: "update of an unknown entity", value: 3))
        }
        let create = try encode(one, against: [], codec: codec)
        XCTAssertThrowsError(try decode(create.bytes, against: one, codec: codec)) { error in
            XCTAssertEqual(error as? WireError, .outOfRange(field: "create over a live entity", value: 3))
        }
    }

    func testRandomBytesNeverTrapTheDecoder() {
        let codec = EntityDeltaCodec(schema: schema, limits: SnapshotLimits(entityCountMax: 256, entityIndexLimit: 4096))
        var random = DeterministicRandom(seed: 99)
        let baseline = worlds.randomWorld(count: 20, random: &random).map {
            EntityState(id: EntityID(index: $0.id.index % 4096, generation: $0.id.generation), kind: $0.kind, fields: $0.fields)
        }
        for _ in 0..<20_000 {
            let bytes = (0..<random.nextInt(below: 64)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            _ = try? decode(bytes, against: baseline, codec: codec)
        }
    }
}
