import Engine
import Wire
import XCTest

/// A test message exercising every kind of field, with one serialize function for all three streams.
struct SampleMessage: Equatable {
    var flag = false
    var small: Int = 0          // 0...5: 3 bits
    var signed: Int32 = 0       // -1000...1000: 11 bits
    var sequence: UInt32 = 0    // full 32 bits
    var name = ""               // <= 16 bytes
    var token: UInt64 = 0       // full 64 bits

    mutating func serialize<Stream: BitStream>(_ stream: inout Stream) throws(WireError) {
        try stream.serialize(&flag, field: "flag")
        try stream.serialize(&small, in: 0...5, field: "small")
        try stream.serialize(&signed, in: -1000...1000, field: "signed")
        try stream.serialize(&sequence, field: "sequence")
        try stream.serialize(&name, maxBytes: 16, field: "name")
        try stream.serialize(&token, field: "token")
    }

    func encoded() throws -> [UInt8] {
        var copy = self
        var writer = BitWriter()
        try copy.serialize(&writer)
        return writer.finish()
    }

    static func decoded(_ bytes: [UInt8]) throws(WireError) -> SampleMessage {
        var message = SampleMessage()
        var reader = BitReader(bytes)
        try message.serialize(&reader)
        try reader.finish()
        return message
    }
}

final class BitStreamTests: XCTestCase {
    func testFieldsArePackedLeastSignificantBitFirstInExactlyTheirBits() throws {
        var writer = BitWriter()
        var five: UInt64 = 5, flag = true, minusOne: Int = -1
        try writer.serializeBits(&five, bitCount: 3, field: "a")
        try writer.serialize(&flag, field: "b")
        try writer.serialize(&minusOne, in: -8...7, field: "c")  // stored as 7 in 4 bits
        XCTAssertEqual(writer.bitCount, 8)
        XCTAssertEqual(writer.finish(), [0b0111_1101])
    }

    func testFinishingOntoExistingBytesAppendsExactlyWhatFinishReturns() {
        for bitCount in [0, 1, 7, 8, 9, 63, 64, 65, 200] {
            var writer = BitWriter()
            for bit in 0..<bitCount { writer.write(UInt64(bit % 3 == 0 ? 1 : 0), bitCount: 1) }
            var copy = writer
            let alone = writer.finish()
            var bytes: [UInt8] = [0xAB, 0xCD]
            copy.finish(appendingTo: &bytes)
            XCTAssertEqual(bytes, [0xAB, 0xCD] + alone, "\(bitCount) bits")
            XCTAssertEqual(alone.count, (bitCount + 7) / 8)
        }
    }

    func testRangesNeedOnlyTheBitsOfTheirSpan() {
        XCTAssertEqual(bitsRequired(forSpan: 0), 0)
        XCTAssertEqual(bitsRequired(forSpan: 1), 1)
        XCTAssertEqual(bitsRequired(forSpan: 5), 3)
        XCTAssertEqual(bitsRequired(forSpan: 2000), 11)
        XCTAssertEqual(bitsRequired(forSpan: UInt64.max), 64)
    }

    func testSampleRoundTripsAndMeasuresExactly() throws {
        let message = SampleMessage(flag: true, small: 5, signed: -1000, sequence: 0xDEAD_BEEF, name: "Ünïcode ✓", token: .max)
        let bytes = try message.encoded()
        XCTAssertEqual(try SampleMessage.decoded(bytes), message)
        var measurer = BitMeasurer()
        var copy = message
        try copy.serialize(&measurer)
        XCTAssertEqual(measurer.byteCount, bytes.count)
    }

    func testRandomMessagesRoundTrip() throws {
        var random = DeterministicRandom(seed: 11)
        for _ in 0..<2000 {
            let nameLength = random.nextInt(below: 17)
            let message = SampleMessage(
                flag: random.nextInt(below: 2) == 1, small: random.nextInt(below: 6), signed: Int32(random.nextInt(in: -1000...1000)),
                sequence: UInt32(truncatingIfNeeded: random.next()),
                name: String(decoding: (0..<nameLength).map { _ in UInt8(random.nextInt(in: 0x20...0x7E)) }, as: UTF8.self),
                token: random.next())
            XCTAssertEqual(try SampleMessage.decoded(try message.encoded()), message)
        }
    }

    func testTruncatedInputNamesTheFieldThatWasCutOff() throws {
        let bytes = try SampleMessage(sequence: 7, name: "abc").encoded()
        XCTAssertThrowsError(try SampleMessage.decoded(Array(bytes.prefix(3)))) { error in
            XCTAssertEqual(error as? WireError, .truncated(field: "sequence"))
        }
    }

    func testValueOutsideItsRangeIsRejectedOnReadAndOnWrite() throws {
        var reader = BitReader([0b0000_0111])
        var small = 0
        XCTAssertThrowsError(try reader.serialize(&small, in: 0...5, field: "small")) { error in
            XCTAssertEqual(error as? WireError, .outOfRange(field: "small", value: 7))
        }
        XCTAssertThrowsError(try SampleMessage(small: 6).encoded()) { error in
            XCTAssertEqual(error as? WireError, .outOfRange(field: "small", value: 6))
        }
    }

    func testStringsOverTheirLimitOrNotUTF8AreRejected() throws {
        XCTAssertThrowsError(try SampleMessage(name: String(repeating: "x", count: 17)).encoded()) { error in
            XCTAssertEqual(error as? WireError, .invalidString(field: "name"))
        }
        var bytes = try SampleMessage(name: "ab").encoded()
        let nameStart = 7  // 1 + 3 + 11 + 32 bits + 5-bit length = 52 bits, aligned to byte 7
        bytes[nameStart] = 0xFF
        XCTAssertThrowsError(try SampleMessage.decoded(bytes)) { error in
            XCTAssertEqual(error as? WireError, .invalidString(field: "name"))
        }
    }

    func testTrailingBytesAndNonZeroPaddingAreRejected() throws {
        let bytes = try SampleMessage().encoded()
        XCTAssertThrowsError(try SampleMessage.decoded(bytes + [0])) { XCTAssertEqual($0 as? WireError, .trailingBytes(1)) }
        var reader = BitReader([0b1000_0001])
        var flag = false
        try reader.serialize(&flag, field: "flag")
        XCTAssertThrowsError(try reader.finish())
    }

    /// The reader has three paths (a word load inside the message, the message's last word, byte by byte for wide
    /// fields and short messages); each must read exactly the bits a one-bit-at-a-time reference reads, and throw
    /// `truncated` exactly when the message has fewer bits left than asked for.
    func testEveryReadPathMatchesABitByBitReferenceUpToTheEnd() {
        var random = DeterministicRandom(seed: 11)
        for _ in 0..<3_000 {
            let bytes = (0..<random.nextInt(below: 24)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            var reader = BitReader(bytes)
            var position = 0
            while true {
                let bitCount = 1 + random.nextInt(below: 64)
                var value: UInt64 = 0
                do throws(WireError) {
                    try reader.serializeBits(&value, bitCount: bitCount, field: "probe")
                } catch {
                    XCTAssertGreaterThan(bitCount, bytes.count * 8 - position, "threw with enough bits left")
                    XCTAssertEqual(error, .truncated(field: "probe"))
                    break
                }
                var expected: UInt64 = 0
                for bit in 0..<bitCount {
                    let source = position + bit
                    expected |= UInt64((bytes[source >> 3] >> UInt8(source & 7)) & 1) << UInt64(bit)
                }
                XCTAssertEqual(value, expected, "\(bitCount) bits at bit \(position) of \(bytes.count) bytes")
                position += bitCount
                XCTAssertEqual(reader.bitsProcessed, position)
            }
        }
    }

    func testRandomBytesNeverTrapTheReader() {
        var random = DeterministicRandom(seed: 3)
        var decoded = 0
        for _ in 0..<20_000 {
            let bytes = (0..<random.nextInt(below: 40)).map { _ in UInt8(truncatingIfNeeded: random.next()) }
            if (try? SampleMessage.decoded(bytes)) != nil { decoded += 1 }
        }
        XCTAssertLessThan(decoded, 20_000)
    }
}
