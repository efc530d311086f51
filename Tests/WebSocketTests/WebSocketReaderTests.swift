import XCTest
@testable import WebSocket

final class WebSocketReaderTests: XCTestCase {
    // MARK: What a peer can make the reader hold

    func testAFrameThatDeclaresALargeLengthHoldsOnlyWhatArrived() {
        var reader = WebSocketReader(role: .client)
        // A binary frame declaring 500,000 bytes (under the 1 MiB limit), of which 100 arrive.
        var bytes: [UInt8] = [0x82, 0x7F] + withUnsafeBytes(of: UInt64(500_000).bigEndian, Array.init) + [UInt8](repeating: 7, count: 100)
        var offset = 0
        guard case .needMoreInput = bytes.withUnsafeMutableBytes({ reader.next($0, offset: &offset) }) else { return XCTFail("no event yet") }
        XCTAssertLessThanOrEqual(reader.heldMessageBytes, 4096, "not the declared 500,000")
        XCTAssertFalse(reader.isBetweenMessages)
        bytes = [UInt8](repeating: 7, count: 499_900)
        offset = 0
        guard case .event(.binary(let payload)) = bytes.withUnsafeMutableBytes({ reader.next($0, offset: &offset) }) else { return XCTFail("the whole message") }
        XCTAssertEqual(payload.count, 500_000)
    }

    // MARK: RFC 6455 §5.7 examples, byte for byte

    func testRFCSingleFrameUnmaskedTextIsReadByAClient() {
        XCTAssertEqual(readEvents([0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F], role: .client), [.text("Hello")])
    }

    func testRFCSingleFrameMaskedTextIsReadByAServer() {
        let frame: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        XCTAssertEqual(readEvents(frame), [.text("Hello")])
    }

    func testRFCSingleFrameMaskedTextIsReadForEverySplitOfTheStream() {
        let frame: [UInt8] = [0x81, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]
        for piece in 1...frame.count {
            XCTAssertEqual(readEvents(frame, pieceBytes: piece), [.text("Hello")], "pieces of \(piece)")
        }
    }

    func testRFCFragmentedUnmaskedTextIsAssembled() {
        let stream: [UInt8] = [0x01, 0x03, 0x48, 0x65, 0x6C, 0x80, 0x02, 0x6C, 0x6F]
        XCTAssertEqual(readEvents(stream, role: .client), [.text("Hello")])
        XCTAssertEqual(readEvents(stream, role: .client, pieceBytes: 1), [.text("Hello")])
    }

    func testRFCUnmaskedPingAndMaskedPong() {
        XCTAssertEqual(readEvents([0x89, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F], role: .client), [.ping(Array("Hello".utf8))])
        XCTAssertEqual(readEvents([0x8A, 0x85, 0x37, 0xFA, 0x21, 0x3D, 0x7F, 0x9F, 0x4D, 0x51, 0x58]), [.pong(Array("Hello".utf8))])
    }

    func testRFC256ByteBinaryUses16BitLength() {
        let payload = (0..<256).map { UInt8($0) }
        XCTAssertEqual(readEvents([0x82, 0x7E, 0x01, 0x00] + payload, role: .client), [.binary(payload)])
    }

    func testRFC64KiBBinaryUses64BitLength() {
        let payload = (0..<65536).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let header: [UInt8] = [0x82, 0x7F, 0, 0, 0, 0, 0, 1, 0, 0]
        XCTAssertEqual(readEvents(header + payload, role: .client), [.binary(payload)])
        XCTAssertEqual(readEvents(header + payload, role: .client, pieceBytes: 1000), [.binary(payload)])
    }

    // MARK: Messages

    func testEmptyTextAndBinaryMessages() {
        XCTAssertEqual(readEvents(clientFrame(0x1, []) + clientFrame(0x2, [])), [.text(""), .binary([])])
    }

    func testControlFramesInterleaveWithAFragmentedMessage() {
        let stream = clientFrame(0x1, Array("Hel".utf8), fin: false) + clientFrame(0x9, [1, 2])
            + clientFrame(0x0, Array("l".utf8), fin: false) + clientFrame(0xA, []) + clientFrame(0x0, Array("o".utf8))
        for piece in [1, 3, 7, stream.count] {
            XCTAssertEqual(readEvents(stream, pieceBytes: piece), [.ping([1, 2]), .pong([]), .text("Hello")])
        }
    }

    func testMultiByteCharacterSplitAcrossFragmentsIsValid() {
        let euro: [UInt8] = [0xE2, 0x82, 0xAC]
        let stream = clientFrame(0x1, [euro[0]], fin: false) + clientFrame(0x0, [euro[1]], fin: false) + clientFrame(0x0, [euro[2]])
        XCTAssertEqual(readEvents(stream), [.text("€")])
    }

    func testSeveralMessagesInOneReadComeOutInOrder() {
        let stream = clientFrame(0x1, Array("a".utf8)) + clientFrame(0x2, [9]) + clientFrame(0x1, Array("b".utf8))
        XCTAssertEqual(readEvents(stream), [.text("a"), .binary([9]), .text("b")])
    }

    func testMessageAtExactlyTheLimitIsAccepted() {
        let limits = WebSocketLimits(frameBytesMax: 100, messageBytesMax: 100)
        let payload = [UInt8](repeating: 7, count: 100)
        XCTAssertEqual(readEvents(clientFrame(0x2, payload), limits: limits), [.binary(payload)])
    }

    // MARK: Protocol errors (1002)

    func testUnmaskedClientFrameIsRejectedWith1002() {
        let result = readEvents([0x81, 0x05, 0x48, 0x65, 0x6C, 0x6C, 0x6F], role: .server)
        XCTAssertEqual(result, [.failed(.unmaskedClientFrame)])
        XCTAssertEqual(WebSocketError.unmaskedClientFrame.closeCode, 1002)
    }

    func testMaskedServerFrameIsRejectedByAClientWith1002() {
        XCTAssertEqual(readEvents(clientFrame(0x1, Array("hi".utf8)), role: .client), [.failed(.maskedServerFrame)])
    }

    func testReservedBitsWithoutExtensionAreRejectedWith1002() {
        for rsv: UInt8 in [0x40, 0x20, 0x10] {
            XCTAssertEqual(readEvents(clientFrame(0x1, [], rsv: rsv)), [.failed(.reservedBitsSet)])
        }
        XCTAssertEqual(WebSocketError.reservedBitsSet.closeCode, 1002)
    }

    func testReservedOpcodesAreRejectedWith1002() {
        for opcode: UInt8 in [3, 4, 5, 6, 7, 0xB, 0xC, 0xD, 0xE, 0xF] {
            XCTAssertEqual(readEvents(clientFrame(opcode, [])), [.failed(.reservedOpcode(opcode))])
        }
    }

    func testFragmentedControlFrameIsRejectedWith1002() {
        XCTAssertEqual(readEvents(clientFrame(0x9, [], fin: false)), [.failed(.fragmentedControlFrame)])
    }

    func testControlFrameOver125BytesIsRejectedWith1002BeforeItsPayload() {
        let header = Array(clientFrame(0x9, [UInt8](repeating: 0, count: 126)).prefix(2))
        XCTAssertEqual(readEvents(header), [.failed(.controlFrameTooLong(126))])
    }

    func testContinuationWithoutAMessageIsRejectedWith1002() {
        XCTAssertEqual(readEvents(clientFrame(0x0, [1])), [.failed(.unexpectedContinuation)])
    }

    func testNewMessageInsideAFragmentedOneIsRejectedWith1002() {
        let stream = clientFrame(0x1, Array("a".utf8), fin: false) + clientFrame(0x2, [1])
        XCTAssertEqual(readEvents(stream), [.failed(.expectedContinuation)])
    }

    func testLengthWithTopBitSetIsRejectedWith1002() {
        let header: [UInt8] = [0x82, 0xFF, 0x80, 0, 0, 0, 0, 0, 0, 1, 1, 2, 3, 4]
        XCTAssertEqual(readEvents(header, limits: WebSocketLimits(frameBytesMax: Int.max, messageBytesMax: Int.max)),
                       [.failed(.invalidPayloadLength)])
    }

    func testErrorsAreStickyAndLaterInputIsNotRead() {
        var reader = WebSocketReader(role: .server)
        XCTAssertEqual(feed(&reader, [0x81, 0x05]), [.failed(.unmaskedClientFrame)])
        XCTAssertEqual(feed(&reader, clientFrame(0x1, Array("ok".utf8))), [.failed(.unmaskedClientFrame)])
    }

    // MARK: Limits (1009), checked before allocating

    func testFrameOverTheLimitIsRejectedWith1009FromItsHeaderAlone() {
        let header: [UInt8] = [0x82, 0xFF, 0, 0, 0, 0x10, 0, 0, 0, 0, 1, 2, 3, 4]  // 64 GiB claimed
        let result = readEvents(header)
        XCTAssertEqual(result, [.failed(.frameTooLarge(lengthBytes: 1 << 36, limitBytes: WebSocketLimits.frameBytesMaxDefault))])
        XCTAssertEqual(WebSocketError.frameTooLarge(lengthBytes: 1, limitBytes: 0).closeCode, 1009)
    }

    func testMessageOverTheLimitAcrossFragmentsIsRejectedWith1009() {
        let limits = WebSocketLimits(frameBytesMax: 100, messageBytesMax: 150)
        let stream = clientFrame(0x2, [UInt8](repeating: 1, count: 100), fin: false) + clientFrame(0x0, [UInt8](repeating: 1, count: 51))
        XCTAssertEqual(readEvents(stream, limits: limits), [.failed(.messageTooLarge(limitBytes: 150))])
        XCTAssertEqual(WebSocketError.messageTooLarge(limitBytes: 1).closeCode, 1009)
    }

    // MARK: UTF-8 (1007)

    func testInvalidUTF8TextIsRejectedWith1007() {
        XCTAssertEqual(readEvents(clientFrame(0x1, [0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED, 0xA0, 0x80])),
                       [.failed(.invalidUTF8)])
        XCTAssertEqual(WebSocketError.invalidUTF8.closeCode, 1007)
    }

    func testInvalidUTF8FailsFastBeforeTheFrameEnds() {
        // A 100-byte text frame whose 3rd byte can never be valid: the error comes with the first 3 payload bytes.
        let frame = clientFrame(0x1, [0x41, 0x42, 0xFF] + [UInt8](repeating: 0x41, count: 97))
        let headerBytes = 2 + 4
        XCTAssertEqual(readEvents(Array(frame.prefix(headerBytes + 3))), [.failed(.invalidUTF8)])
    }

    func testInvalidUTF8FailsFastInAnEarlierFragment() {
        let stream = clientFrame(0x1, [0x41, 0xC0], fin: false)  // C0 never starts a valid sequence
        XCTAssertEqual(readEvents(stream), [.failed(.invalidUTF8)])
    }

    func testTruncatedCharacterAtTheEndOfAMessageIsRejectedWith1007() {
        XCTAssertEqual(readEvents(clientFrame(0x1, [0x41, 0xE2, 0x82])), [.failed(.invalidUTF8)])
    }

    func testBinaryMessagesAreNotCheckedForUTF8() {
        XCTAssertEqual(readEvents(clientFrame(0x2, [0xFF, 0xC0])), [.binary([0xFF, 0xC0])])
    }

    // MARK: Close frames

    func testCloseWithCodeAndReasonIsDeliveredAndLaterBytesAreIgnored() {
        let stream = clientFrame(0x8, [0x03, 0xE8] + Array("bye".utf8)) + clientFrame(0x1, Array("late".utf8))
        XCTAssertEqual(readEvents(stream), [.close(1000, "bye")])
    }

    func testEmptyCloseHasNoCode() {
        XCTAssertEqual(readEvents(clientFrame(0x8, [])), [.close(nil, "")])
    }

    func testCloseWithOneBytePayloadIsRejectedWith1002() {
        XCTAssertEqual(readEvents(clientFrame(0x8, [0x03])), [.failed(.closePayloadTooShort)])
    }

    func testCloseCodesThatMayNotBeSentAreRejectedWith1002() {
        for code: UInt16 in [0, 999, 1004, 1005, 1006, 1015, 1016, 1100, 2000, 2999, 5000, 65535] {
            XCTAssertEqual(readEvents(clientFrame(0x8, [UInt8(code >> 8), UInt8(code & 0xFF)])), [.failed(.invalidCloseCode(code))], "\(code)")
        }
        for code: UInt16 in [1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 3000, 3999, 4000, 4999] {
            XCTAssertEqual(readEvents(clientFrame(0x8, [UInt8(code >> 8), UInt8(code & 0xFF)])), [.close(code, "")], "\(code)")
        }
    }

    func testCloseReasonThatIsNotUTF8IsRejectedWith1007() {
        XCTAssertEqual(readEvents(clientFrame(0x8, [0x03, 0xE8, 0xFF])), [.failed(.invalidCloseReason)])
        XCTAssertEqual(WebSocketError.invalidCloseReason.closeCode, 1007)
    }

    // MARK: Properties

    func testRandomValidStreamsReadTheSameForEverySplit() {
        var generator = SplitMix64(seed: 42)
        for _ in 0..<120 {
            var stream: [UInt8] = []
            var expected: [Observed] = []
            for _ in 0..<Int.random(in: 1...6, using: &generator) {
                let length = [0, 1, 125, 126, 127, 200, 65535, 65536][Int.random(in: 0...7, using: &generator)]
                let payload = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
                let key = UInt32.random(in: 0...UInt32.max, using: &generator)
                if Bool.random(using: &generator) {
                    stream += clientFrame(0x2, payload, key: key)
                    expected.append(.binary(payload))
                } else {
                    let pingPayload = Array(payload.prefix(125))
                    stream += clientFrame(0x9, pingPayload, key: key)
                    expected.append(.ping(pingPayload))
                }
            }
            // Pieces from 1 byte up; tiny pieces only on short streams, to keep debug runs quick.
            let piece = Int.random(in: (stream.count > 4096 ? 509 : 1)...70_000, using: &generator)
            XCTAssertEqual(readEvents(stream, pieceBytes: piece), expected)
        }
    }
}

/// A small deterministic generator for property tests.
struct SplitMix64: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
