import Arena
import Engine
import Foundation
import Wire
import XCTest

/// The golden wire vectors in `Tests/WireVectors/wire-vectors.json`: messages and their exact bytes, the one
/// source of truth that both these tests and the browser client's decoder test (`tools/web/wire-vectors.test.mjs`)
/// check. To change the wire on purpose, run with TICKWIRE_WRITE_VECTORS=1 and commit the new file.
final class WireVectorTests: XCTestCase {
    static let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("WireVectors/wire-vectors.json")

    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

    private func entityJSON(_ entity: EntityState) -> String {
        "{\"index\": \(entity.id.index), \"generation\": \(entity.id.generation), \"kind\": \(entity.kind), \"fields\": [\(entity.fields.map(String.init).joined(separator: ", "))]}"
    }

    private func entitiesJSON(_ entities: [EntityState]) -> String { "[" + entities.map(entityJSON).joined(separator: ", ") + "]" }

    /// Every vector, freshly encoded by the Swift implementation, as the file's text.
    private func renderVectors() throws -> String {
        let bits = Arena.inputBitCount
        let client: [(String, String, ClientMessage)] = [
            ("join", "{\"type\": \"join\", \"name\": \"Ada\", \"resumeToken\": null}", .join(name: "Ada", resumeToken: nil)),
            ("join with a resume token", "{\"type\": \"join\", \"name\": \"Zoë\", \"resumeToken\": \"18364758544493064720\"}",
             .join(name: "Zoë", resumeToken: 18_364_758_544_493_064_720)),
            ("input", "{\"type\": \"input\", \"sequence\": 7, \"acknowledgedTick\": 1234, \"bits\": \"\(ArenaInput(up: true, right: true, shoot: true, aim: BinaryAngle(raw: 16384)).bits.raw)\"}",
             .input(sequence: 7, acknowledgedTick: 1234, bits: ArenaInput(up: true, right: true, shoot: true, aim: BinaryAngle(raw: 16384)).bits)),
            ("input without an acknowledgement", "{\"type\": \"input\", \"sequence\": 1, \"acknowledgedTick\": null, \"bits\": \"0\"}",
             .input(sequence: 1, acknowledgedTick: nil, bits: .neutral)),
            ("ping", "{\"type\": \"ping\", \"clientTimeUs\": \"1700000000123456\"}", .ping(clientTimeUs: 1_700_000_000_123_456)),
            ("chat", "{\"type\": \"chat\", \"text\": \"gg 🎮\"}", .chat(text: "gg 🎮")),
            ("leave", "{\"type\": \"leave\"}", .leave),
        ]
        let server: [(String, String, ServerMessage)] = [
            ("welcome", "{\"type\": \"welcome\", \"player\": 3, \"tickRateHz\": 60, \"snapshotRateHz\": 20, \"serverTick\": 4242, \"worldWidthRaw\": 209715200, \"worldHeightRaw\": 157286400, \"resumeToken\": \"12345678901234567890\"}",
             .welcome(.init(player: PlayerID(raw: 3), tickRateHz: 60, snapshotRateHz: 20, serverTick: 4242, worldWidthRaw: 209_715_200,
                            worldHeightRaw: 157_286_400, resumeToken: 12_345_678_901_234_567_890))),
            ("pong", "{\"type\": \"pong\", \"clientTimeUs\": \"1700000000123456\", \"serverTimeUs\": \"99000111\", \"serverTick\": 77}",
             .pong(clientTimeUs: 1_700_000_000_123_456, serverTimeUs: 99_000_111, serverTick: 77)),
            ("chat", "{\"type\": \"chat\", \"player\": 9, \"name\": \"Bo\", \"text\": \"hi\"}", .chat(from: PlayerID(raw: 9), name: "Bo", text: "hi")),
            ("kick", "{\"type\": \"kick\", \"reason\": 2, \"text\": \"too slow\"}", .kick(reason: .tooSlow, text: "too slow")),
            ("roster", "{\"type\": \"roster\", \"player\": 12, \"name\": \"Zoë\"}", .roster(player: PlayerID(raw: 12), name: "Zoë")),
        ]
        var lines: [String] = []
        for (name, json, message) in client {
            lines.append("    {\"name\": \"\(name)\", \"message\": \(json), \"hex\": \"\(hex(try message.encoded(inputBitCount: bits)))\"}")
        }
        var serverLines: [String] = []
        for (name, json, message) in server {
            var writer = BitWriter()
            try message.write(into: &writer)
            serverLines.append("    {\"name\": \"\(name)\", \"message\": \(json), \"hex\": \"\(hex(writer.finish()))\"}")
        }
        // Snapshots with Arena's schema: a full one, then a delta with a move, a new projectile, and a removal.
        let codec = EntityDeltaCodec(schema: Arena.schema)
        let wall = EntityState(id: EntityID(index: 0, generation: 0), kind: 2, fields: [1600, 1600, 3200, 4000])
        let ada = EntityState(id: EntityID(index: 24, generation: 0), kind: 0, fields: [16000, 12000, 16384, 100, 2, 1, 3])
        let bo = EntityState(id: EntityID(index: 25, generation: 1), kind: 0, fields: [20000, 12800, 0, 75, 0, 1, 9])
        let shot = EntityState(id: EntityID(index: 300, generation: 4), kind: 1, fields: [16500, 12000, 16384, 4300])
        var adaMoved = ada
        adaMoved.fields[0] += 37
        adaMoved.fields[1] -= 2000
        let snapshots: [(String, SnapshotHeader, [EntityState], [EntityState])] = [
            ("full", SnapshotHeader(tick: 4300, baselineTick: nil, lastProcessedInput: 0), [], [wall, ada, bo]),
            ("delta", SnapshotHeader(tick: 4306, baselineTick: 4300, lastProcessedInput: 41), [wall, ada, bo], [wall, adaMoved, shot]),
        ]
        var snapshotLines: [String] = []
        for (name, header, baseline, entities) in snapshots {
            var writer = BitWriter()
            try ServerMessage.snapshot(header).write(into: &writer)
            try writer.alignToByte(field: "delta")
            try codec.encode(entities, against: baseline, into: &writer)
            let headerJSON = "{\"tick\": \(header.tick), \"baselineTick\": \(header.baselineTick.map(String.init) ?? "null"), \"lastProcessedInput\": \(header.lastProcessedInput)}"
            snapshotLines.append("    {\"name\": \"\(name)\", \"header\": \(headerJSON), \"baseline\": \(entitiesJSON(baseline)), "
                                 + "\"entities\": \(entitiesJSON(entities)), \"hex\": \"\(hex(writer.finish()))\"}")
        }
        return """
        {
          "about": "Golden wire vectors for tickwire.v1 (docs/protocol.md). Checked by Tests/WireTests/WireVectorTests.swift and tools/web/wire-vectors.test.mjs. 64-bit values are decimal strings.",
          "inputBitCount": \(bits),
          "client": [
        \(lines.joined(separator: ",\n"))
          ],
          "server": [
        \(serverLines.joined(separator: ",\n"))
          ],
          "snapshots": [
        \(snapshotLines.joined(separator: ",\n"))
          ]
        }

        """
    }

    func testSwiftEncodesExactlyTheCommittedVectors() throws {
        let fresh = try renderVectors()
        if ProcessInfo.processInfo.environment["TICKWIRE_WRITE_VECTORS"] == "1" {
            try fresh.write(to: Self.path, atomically: true, encoding: .utf8)
        }
        let committed = try String(contentsOf: Self.path, encoding: .utf8)
        XCTAssertEqual(fresh, committed, "the wire changed: if on purpose, rerun with TICKWIRE_WRITE_VECTORS=1 and commit \(Self.path.path)")
    }

    func testSwiftDecodesEveryCommittedVector() throws {
        let data = try Data(contentsOf: Self.path)
        let root = try XCTUnwrap(JSONSerialization.jsonObject(with: data) as? [String: Any])
        func bytes(_ entry: [String: Any]) -> [UInt8] {
            let text = entry["hex"] as! String
            return stride(from: 0, to: text.count, by: 2).map { offset in
                let start = text.index(text.startIndex, offsetBy: offset)
                return UInt8(text[start..<text.index(start, offsetBy: 2)], radix: 16)!
            }
        }
        for entry in root["client"] as! [[String: Any]] {
            let message = try ClientMessage.decode(bytes(entry), inputBitCount: Arena.inputBitCount)
            XCTAssertEqual(try message.encoded(inputBitCount: Arena.inputBitCount), bytes(entry), entry["name"] as! String)
        }
        for entry in root["server"] as! [[String: Any]] {
            var reader = BitReader(bytes(entry))
            let message = try ServerMessage.read(from: &reader)
            try reader.finish()
            var writer = BitWriter()
            try message.write(into: &writer)
            XCTAssertEqual(writer.finish(), bytes(entry), entry["name"] as! String)
        }
        let codec = EntityDeltaCodec(schema: Arena.schema)
        func entities(_ list: Any?) -> [EntityState] {
            (list as! [[String: Any]]).map { item in
                EntityState(id: EntityID(index: UInt32(item["index"] as! Int), generation: UInt32(item["generation"] as! Int)),
                            kind: UInt8(item["kind"] as! Int), fields: EntityFields((item["fields"] as! [Int]).map(Int64.init)))
            }
        }
        for entry in root["snapshots"] as! [[String: Any]] {
            var reader = BitReader(bytes(entry))
            guard case .snapshot = try ServerMessage.read(from: &reader) else { return XCTFail("not a snapshot") }
            try reader.alignToByte(field: "delta")
            XCTAssertEqual(try codec.decode(from: &reader, against: entities(entry["baseline"])), entities(entry["entities"]))
            try reader.finish()
        }
    }
}
