import Engine
import Wire
import XCTest

final class MessageTests: XCTestCase {
    private let inputBits = 21

    private func roundTrip(_ message: ClientMessage) throws -> ClientMessage {
        try ClientMessage.decode(try message.encoded(inputBitCount: inputBits), inputBitCount: inputBits)
    }

    private func roundTrip(_ message: ServerMessage) throws -> ServerMessage {
        var writer = BitWriter()
        try message.write(into: &writer)
        var reader = BitReader(writer.finish())
        let decoded = try ServerMessage.read(from: &reader)
        try reader.finish()
        return decoded
    }

    func testEveryClientMessageRoundTrips() throws {
        let messages: [ClientMessage] = [
            .join(name: "Ada ✓", resumeToken: nil), .join(name: "", resumeToken: 0xFFEE_DDCC_BBAA_9988),
            .input(sequence: 7, acknowledgedTick: nil, bits: InputBits(raw: 0x1F_FFFF)),
            .input(sequence: .max, acknowledgedTick: 12345, bits: .neutral),
            .ping(clientTimeUs: 1_700_000_000_000_000), .chat(text: "gg 🎮"), .leave,
        ]
        for message in messages { XCTAssertEqual(try roundTrip(message), message) }
    }

    func testABatchHoldsEachMessageEncodedAsAloneBackToBackAndStartsOverWhenEmptied() throws {
        let messages: [ClientMessage] = [
            .input(sequence: 1, acknowledgedTick: nil, bits: InputBits(raw: 0x1F_FFFF)), .ping(clientTimeUs: 123_456),
            .chat(text: "gg 🎮"), .input(sequence: 2, acknowledgedTick: 99, bits: .neutral), .leave,
        ]
        var batch = ClientMessageBatch()
        for message in messages { try batch.append(message, inputBitCount: inputBits) }
        let alone = try messages.map { try $0.encoded(inputBitCount: inputBits) }
        XCTAssertEqual(batch.count, messages.count)
        XCTAssertEqual(batch.bytes, alone.flatMap { $0 })
        for position in messages.indices {
            XCTAssertEqual(Array(batch[position]), alone[position])
            XCTAssertEqual(try ClientMessage.decode(Array(batch[position]), inputBitCount: inputBits), messages[position])
        }
        batch.removeAll()
        XCTAssertTrue(batch.isEmpty)
        try batch.append(.leave, inputBitCount: inputBits)
        XCTAssertEqual(batch.bytes, try ClientMessage.leave.encoded(inputBitCount: inputBits))
        XCTAssertEqual(batch.ends, [batch.bytes.count])
    }

    func testEveryServerMessageRoundTrips() throws {
        let messages: [ServerMessage] = [
            .welcome(.init(player: PlayerID(raw: 3), tickRateHz: 60, snapshotRateHz: 20, serverTick: 999, worldWidthRaw: 4000 << 16,
                           worldHeightRaw: 3000 << 16, resumeToken: 42)),
            .snapshot(SnapshotHeader(tick: 500, baselineTick: 495, lastProcessedInput: 77)),
            .snapshot(SnapshotHeader(tick: 3, baselineTick: nil, lastProcessedInput: 0)),
            .pong(clientTimeUs: 1, serverTimeUs: 2, serverTick: 3), .chat(from: PlayerID(raw: 9), name: "Bo", text: "hi"),
            .kick(reason: .tooSlow, text: "your connection could not keep up"), .roster(player: PlayerID(raw: 12), name: "Zoë"),
        ]
        for message in messages { XCTAssertEqual(try roundTrip(message), message) }
    }

    func testPingIsTheTypeByteAndEightBytesOfTime() throws {
        XCTAssertEqual(try ClientMessage.ping(clientTimeUs: 0x0102_0304_0506_0708).encoded(inputBitCount: inputBits),
                       [3, 8, 7, 6, 5, 4, 3, 2, 1])
    }

    func testInputTakesTheGamesBitsOnly() throws {
        // type 8 + sequence 32 + has-tick 1 + tick 32 + 21 input bits = 94 bits = 12 bytes
        XCTAssertEqual(try ClientMessage.input(sequence: 1, acknowledgedTick: 2, bits: InputBits(raw: 5)).encoded(inputBitCount: inputBits).count, 12)
    }

    func testUnknownTypesAndOverlongChatAreRejected() throws {
        XCTAssertThrowsError(try ClientMessage.decode([99], inputBitCount: inputBits)) { XCTAssertEqual($0 as? WireError, .unknownMessageType(99)) }
        XCTAssertThrowsError(try ClientMessage.chat(text: String(repeating: "x", count: 201)).encoded(inputBitCount: inputBits)) {
            XCTAssertEqual($0 as? WireError, .invalidString(field: "chat text"))
        }
        XCTAssertThrowsError(try ClientMessage.decode([], inputBitCount: inputBits)) { XCTAssertEqual($0 as? WireError, .truncated(field: "message type")) }
    }

    func testRandomBytesNeverTrapEitherDecoder() {
        var random = DeterministicRandom(seed: 12)
        for _ in 0..<30_000 {
            let bytes = (0..<random.nextInt(below: 48)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            _ = try? ClientMessage.decode(bytes, inputBitCount: inputBits)
            var reader = BitReader(bytes)
            _ = try? ServerMessage.read(from: &reader)
        }
    }
}
