import Engine
import Wire
import XCTest

final class SnapshotTrackerTests: XCTestCase {
    /// A snapshot message as the server writes it: header, then the delta from byte alignment.
    private func snapshotMessage(tick: UInt32, world: [EntityState], baseline: (tick: UInt32, world: [EntityState])?,
                                 codec: EntityDeltaCodec) throws -> [UInt8] {
        var header = BitWriter()
        try ServerMessage.snapshot(SnapshotHeader(tick: tick, baselineTick: baseline?.tick, lastProcessedInput: 0)).write(into: &header)
        var delta = BitWriter()
        _ = try codec.encode(world, against: baseline?.world ?? [], into: &delta)
        return header.finish() + delta.finish()
    }

    private func receive(_ bytes: [UInt8], into tracker: inout SnapshotTracker) throws -> Result<[EntityState], SnapshotTracker.Failure> {
        var reader = BitReader(bytes)
        guard case .snapshot(let header) = try ServerMessage.read(from: &reader) else { throw WireError.truncated(field: "not a snapshot") }
        return tracker.receive(header, from: &reader)
    }

    func testEverySnapshotDecodesToTheServersWorldWhileAcknowledgementsLagAndBaselinesAreRecycled() throws {
        let worlds = RandomWorlds()
        let codec = EntityDeltaCodec(schema: RandomWorlds.schema)
        var random = DeterministicRandom(seed: 7)
        var tracker = SnapshotTracker(schema: RandomWorlds.schema)
        var history: [UInt32: [EntityState]] = [:]
        var world = worlds.randomWorld(count: 60, random: &random)
        // Acknowledgements reach the server 0-6 snapshots late, in order: the server bases each delta on the newest
        // it has, so the tracker drops older baselines and reuses their arrays for later decodes.
        var acknowledgementsInFlight: [(arrivesAtStep: Int, tick: UInt32)] = []
        var serverAcknowledged: UInt32?
        for step in 0..<400 {
            let tick = UInt32(step * 3 + 1)
            world = worlds.mutate(world, random: &random)
            history[tick] = world
            while let first = acknowledgementsInFlight.first, first.arrivesAtStep <= step {
                serverAcknowledged = first.tick
                acknowledgementsInFlight.removeFirst()
            }
            let baseline = serverAcknowledged.map { ($0, history[$0]!) }
            let decoded = try receive(snapshotMessage(tick: tick, world: world, baseline: baseline, codec: codec), into: &tracker)
            XCTAssertEqual(try decoded.get(), world, "step \(step)")
            XCTAssertEqual(tracker.newestTick, tick)
            let lag = random.nextInt(below: 7)
            acknowledgementsInFlight.append((max(step + lag, acknowledgementsInFlight.last?.arrivesAtStep ?? 0), tick))
        }
    }

    func testABaselineOlderThanOneAlreadyNamedIsUnknownAndANewConnectionStartsOver() throws {
        let worlds = RandomWorlds()
        let codec = EntityDeltaCodec(schema: RandomWorlds.schema)
        var random = DeterministicRandom(seed: 11)
        var tracker = SnapshotTracker(schema: RandomWorlds.schema)
        let first = worlds.randomWorld(count: 20, random: &random)
        let second = worlds.mutate(first, random: &random)
        let third = worlds.mutate(second, random: &random)
        XCTAssertEqual(try receive(snapshotMessage(tick: 10, world: first, baseline: nil, codec: codec), into: &tracker).get(), first)
        XCTAssertEqual(try receive(snapshotMessage(tick: 13, world: second, baseline: (10, first), codec: codec), into: &tracker).get(), second)
        XCTAssertEqual(try receive(snapshotMessage(tick: 16, world: third, baseline: (13, second), codec: codec), into: &tracker).get(), third)
        // Naming tick 13 dropped tick 10: the server never goes back to an older acknowledgement.
        XCTAssertEqual(try receive(snapshotMessage(tick: 19, world: third, baseline: (10, first), codec: codec), into: &tracker),
                       .failure(.unknownBaseline(10)))
        // A new connection's server starts again from tick 1 with a full snapshot; deltas against it work.
        tracker.reset()
        XCTAssertNil(tracker.newestTick)
        XCTAssertEqual(try receive(snapshotMessage(tick: 1, world: second, baseline: nil, codec: codec), into: &tracker).get(), second)
        XCTAssertEqual(try receive(snapshotMessage(tick: 4, world: third, baseline: (1, second), codec: codec), into: &tracker).get(), third)
    }
}
