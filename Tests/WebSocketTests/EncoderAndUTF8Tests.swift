import XCTest
@testable import WebSocket

final class EncoderAndUTF8Tests: XCTestCase {
    func testServerTextFrameIsUnmaskedAndMatchesRFC() {
        XCTAssertEqual(WebSocketFrameEncoder.frame(opcode: .text, payload: Array("Hello".utf8)), [0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F])
    }

    func testClientFrameWithRFCKeyMatchesRFCMaskedExample() {
        // Key bytes 37 fa 21 3d on the wire.
        let frame = WebSocketFrameEncoder.frame(opcode: .text, payload: Array("Hello".utf8), maskKey: 0x3D21_FA37)
        XCTAssertEqual(frame, [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58])
    }

    func testLengthEncodingsSwitchAt126And65536() {
        XCTAssertEqual(Array(WebSocketFrameEncoder.frame(opcode: .binary, payload: [UInt8](repeating: 0, count: 125)).prefix(2)), [0x82, 125])
        XCTAssertEqual(Array(WebSocketFrameEncoder.frame(opcode: .binary, payload: [UInt8](repeating: 0, count: 126)).prefix(4)), [0x82, 126, 0, 126])
        XCTAssertEqual(Array(WebSocketFrameEncoder.frame(opcode: .binary, payload: [UInt8](repeating: 0, count: 65535)).prefix(4)),
                       [0x82, 126, 0xFF, 0xFF])
        XCTAssertEqual(Array(WebSocketFrameEncoder.frame(opcode: .binary, payload: [UInt8](repeating: 0, count: 65536)).prefix(10)),
                       [0x82, 127, 0, 0, 0, 0, 0, 1, 0, 0])
        XCTAssertEqual(WebSocketFrameEncoder.headerLength(payloadLength: 65536, masked: true), 14)
    }

    func testNonFinalFrameHasFinClear() {
        XCTAssertEqual(WebSocketFrameEncoder.frame(opcode: .text, payload: [], fin: false), [0x01, 0x00])
    }

    func testMaskedClientFramesRoundTripThroughAServerReader() {
        var generator = SplitMix64(seed: 7)
        for length in [0, 1, 3, 7, 8, 9, 125, 126, 1000, 65536] {
            let payload = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            let frame = WebSocketFrameEncoder.frame(opcode: .binary, payload: payload, maskKey: WebSocketMask.randomKey())
            XCTAssertEqual(readEvents(frame), [.binary(payload)], "length \(length)")
        }
    }

    func testMaskKeysDifferFromFrameToFrame() {
        let keys = Set((0..<64).map { _ in WebSocketMask.randomKey() })
        XCTAssertGreaterThan(keys.count, 60)
    }

    func testMaskAppliedFromAnOffsetEqualsBytewiseMasking() {
        let key: UInt32 = 0x4433_2211  // bytes 11 22 33 44
        let keyBytes: [UInt8] = [0x11, 0x22, 0x33, 0x44]
        for offset in 0..<8 {
            var data = (0..<37).map { UInt8($0) }
            let expected = data.enumerated().map { $0.element ^ keyBytes[($0.offset + offset) % 4] }
            data.withUnsafeMutableBytes { WebSocketMask.apply(key: key, to: $0, offset: offset) }
            XCTAssertEqual(data, expected, "offset \(offset)")
        }
    }

    func testClosePayloadCutsTheReasonTo123BytesOnACharacterBoundary() {
        let payload = WebSocketFrameEncoder.closePayload(code: 1001, reason: String(repeating: "é", count: 100))
        XCTAssertEqual(Array(payload.prefix(2)), [0x03, 0xE9])
        XCTAssertEqual(payload.count, 2 + 122)  // 61 two-byte characters fit in 123 bytes
        XCTAssertNotNil(String(validating: payload[2...], as: UTF8.self))
    }

    // MARK: UTF-8

    private func isValid(_ bytes: [UInt8]) -> Bool {
        var validator = UTF8Validator()
        return validator.validate(bytes) && validator.isAtCharacterBoundary
    }

    func testValidatorAcceptsValidTextInManyScripts() {
        XCTAssertTrue(isValid(Array("Hello-µ@ßöäüàá-UTF-8!! κόσμε 𝄞 日本語 🎮".utf8)))
        XCTAssertTrue(isValid([]))
        XCTAssertTrue(isValid([0xF4, 0x8F, 0xBF, 0xBF]))  // U+10FFFF
        XCTAssertTrue(isValid([0xEF, 0xBF, 0xBF]))  // U+FFFF (a noncharacter, still valid UTF-8)
    }

    func testValidatorRejectsOverlongsSurrogatesAndOutOfRange() {
        for bad: [UInt8] in [[0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xE0, 0x9F, 0xBF], [0xF0, 0x80, 0x80, 0x80],
                             [0xED, 0xA0, 0x80], [0xED, 0xBF, 0xBF], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80],
                             [0xFE], [0xFF], [0x80], [0xC2, 0x41], [0xE2, 0x82]] {
            XCTAssertFalse(isValid(bad), "\(bad)")
        }
    }

    func testValidatorAgreesWithTheStandardLibraryOnRandomBytes() {
        var generator = SplitMix64(seed: 2026)
        for _ in 0..<20_000 {
            let length = Int.random(in: 0...12, using: &generator)
            // Bias towards the interesting lead and continuation bytes.
            let bytes = (0..<length).map { _ -> UInt8 in
                let pick = UInt8.random(in: 0...255, using: &generator)
                return pick < 128 ? [0x41, 0x80, 0xBF, 0xC2, 0xE0, 0xED, 0xF0, 0xF4, 0x9F, 0x90, 0xA0, 0x8F][Int(pick) % 12] : pick
            }
            XCTAssertEqual(isValid(bytes), String(validating: bytes, as: UTF8.self) != nil, "\(bytes)")
            // And for any split of the same bytes.
            let split = Int.random(in: 0...length, using: &generator)
            var validator = UTF8Validator()
            let streamed = validator.validate(Array(bytes[..<split])) && validator.validate(Array(bytes[split...])) && validator.isAtCharacterBoundary
            XCTAssertEqual(streamed, isValid(bytes))
        }
    }

    func testValidatorFastPathHandlesLongASCIIRunsAroundMultibyteCharacters() {
        let text = String(repeating: "a", count: 17) + "é" + String(repeating: "b", count: 9) + "😀"
        XCTAssertTrue(isValid(Array(text.utf8)))
        XCTAssertFalse(isValid(Array(String(repeating: "a", count: 16).utf8) + [0xFF] + Array(String(repeating: "a", count: 16).utf8)))
    }
}
