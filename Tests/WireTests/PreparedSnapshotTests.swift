import Engine
import Wire
import XCTest

final class PreparedSnapshotTests: XCTestCase {
    private let codec = EntityDeltaCodec(schema: RandomWorlds.schema)
    private let worlds = RandomWorlds()

    /// A random subset of positions, ascending: a client's view.
    private func randomView(of snapshot: PreparedSnapshot, random: inout DeterministicRandom) -> [Int32] {
        if random.nextInt(below: 5) == 0 { return snapshot.allPositions }
        return snapshot.allPositions.filter { _ in random.nextInt(below: 3) != 0 }
    }

    private func plainEncode(_ current: [EntityState], against baseline: [EntityState]) throws -> [UInt8] {
        var writer = BitWriter()
        try codec.encode(current, against: baseline, into: &writer)
        return writer.finish()
    }

    func testPreparedDeltasEqualPlainDeltasForRandomViewsAgainstPreviousOlderAndNoBaselines() throws {
        var random = DeterministicRandom(seed: 77)
        var history: [PreparedSnapshot] = []
        var world = worlds.randomWorld(count: 120, random: &random)
        var snapshotsAtTheCap = 0
        for tick in 1...40 {
            world = worlds.mutate(world, random: &random)
            let snapshot = PreparedSnapshot(tick: UInt32(tick), entities: world, codec: codec)
            history.append(snapshot)
            for _ in 0..<30 {
                // The previous snapshot, an older one, or none (a full snapshot); more than `cachedBaselinesMax`
                // baselines a snapshot make the later ones compare fields per client.
                let choice = random.nextInt(below: 3)
                let baseline: PreparedSnapshot? = choice == 2 || history.count < 2 ? nil
                    : choice == 0 ? history[history.count - 2] : history[random.nextInt(below: history.count - 1)]
                let view = randomView(of: snapshot, random: &random)
                let baselineView = baseline.map { randomView(of: $0, random: &random) } ?? []
                var prepared = BitWriter()
                let summary = try codec.encode(snapshot, positions: view, against: baseline, positions: baselineView, into: &prepared)
                let plain = try plainEncode(view.map { world[Int($0)] }, against: baselineView.map { baseline!.entities[Int($0)] })
                XCTAssertEqual(prepared.finish(), plain, "tick \(tick): the prepared delta is the plain delta, bit for bit")
                var reader = BitReader(plain)
                let decoded = try codec.decode(from: &reader, against: baselineView.map { baseline!.entities[Int($0)] })
                XCTAssertEqual(decoded, view.map { world[Int($0)] })
                XCTAssertLessThanOrEqual(summary.creates + summary.updates, view.count)
            }
            if snapshot.cachedBaselineCount == PreparedSnapshot.cachedBaselinesMax { snapshotsAtTheCap += 1 }
        }
        XCTAssertGreaterThan(snapshotsAtTheCap, 0, "some snapshots ran out of cached baselines, so the per-client path ran too")
        XCTAssertGreaterThan(history.last!.pieceBytes, 0, "pieces were cached")
    }

    func testASnapshotKeepsPiecesForABoundedNumberOfBaselinesAndDoesNotKeepThemAlive() throws {
        weak var oldest: PreparedSnapshot?
        var current: PreparedSnapshot?
        do {
            let baselines = (0..<12).map { PreparedSnapshot(tick: UInt32($0), entities: [], codec: codec) }
            oldest = baselines[0]
            current = PreparedSnapshot(tick: 12, entities: [], codec: codec)
            for baseline in baselines {
                var writer = BitWriter()
                try codec.encode(current!, positions: [], against: baseline, positions: [], into: &writer)
            }
            XCTAssertEqual(current?.cachedBaselineCount, PreparedSnapshot.cachedBaselinesMax)
        }
        XCTAssertNil(oldest, "pieces hold their baseline weakly: a ring of snapshots is not one long chain")
        XCTAssertNotNil(current)
    }

    func testWriterAppendsWordsAcrossEveryAlignment() {
        var random = DeterministicRandom(seed: 5)
        for offset in 0..<64 {
            var piece = BitWriter()
            var expected = BitWriter()
            for _ in 0..<offset { expected.write(1, bitCount: 1) }
            var whole = expected
            for _ in 0..<9 {
                let count = 1 + random.nextInt(below: 64)
                let value = random.next()
                piece.write(value, bitCount: count)
                whole.write(value, bitCount: count)
            }
            expected.write(piece)
            XCTAssertEqual(expected.bitCount, whole.bitCount)
            XCTAssertEqual(expected.finish(), whole.finish(), "offset \(offset)")
        }
    }
}
