import XCTest
@testable import WebSocket

final class HTTPHeadParserTests: XCTestCase {
    private func bytes(_ text: String) -> [UInt8] { Array(text.utf8) }

    private func parse(_ text: String, headerCountLimit: Int = 64) throws -> HTTPRequestHead {
        let head = bytes(text)
        let length = try XCTUnwrap(try HTTPHeadParser.headLength(in: head, limitBytes: 8192))
        return try HTTPHeadParser.parseRequest(head, length: length, headerCountLimit: headerCountLimit)
    }

    func testParsesRequestLineAndHeadersInOrder() throws {
        let request = try parse("GET /rooms/a?x=1 HTTP/1.1\r\nHost: example.com\r\nX-Two:  a, b \r\nx-two: c\r\n\r\n")
        XCTAssertEqual(request.method, "GET")
        XCTAssertEqual(request.target, "/rooms/a?x=1")
        XCTAssertEqual(request.path, "/rooms/a")
        XCTAssertEqual(request.versionMinor, 1)
        XCTAssertEqual(request.headers["host"], "example.com")
        XCTAssertEqual(request.headers.values("X-TWO"), ["a, b", "c"])
        XCTAssertEqual(request.headers.tokens("x-two"), ["a", "b", "c"])
    }

    func testQueryValuesAreFoundByExactName() throws {
        let request = try parse("GET /rooms/a?nowatch=1&watch=1&flag HTTP/1.1\r\nHost: x\r\n\r\n")
        XCTAssertEqual(request.queryValue("watch"), "1")
        XCTAssertEqual(request.queryValue("nowatch"), "1")
        XCTAssertEqual(request.queryValue("flag"), "")
        XCTAssertNil(request.queryValue("missing"))
        XCTAssertNil(try parse("GET /x HTTP/1.1\r\nHost: x\r\n\r\n").queryValue("watch"))
        XCTAssertNil(try parse("GET /?nowatch=1 HTTP/1.1\r\nHost: x\r\n\r\n").queryValue("watch"))
    }

    func testIncompleteHeadNeedsMoreBytes() throws {
        XCTAssertNil(try HTTPHeadParser.headLength(in: bytes("GET / HTTP/1.1\r\nHost: a\r\n"), limitBytes: 8192))
    }

    func testHeadLengthStopsAtTheBlankLineLeavingFramesAfterIt() throws {
        let head = bytes("GET / HTTP/1.1\r\nHost: a\r\n\r\n") + [0x81, 0x80]
        XCTAssertEqual(try HTTPHeadParser.headLength(in: head, limitBytes: 8192), head.count - 2)
    }

    func testOversizedHeadIsRejectedWith431() {
        let head = bytes("GET / HTTP/1.1\r\nX: " + String(repeating: "a", count: 300))
        XCTAssertThrowsError(try HTTPHeadParser.headLength(in: head, limitBytes: 256)) { error in
            XCTAssertEqual(error as? HTTPParseError, .headTooLarge(limitBytes: 256))
            XCTAssertEqual((error as? HTTPParseError)?.status, 431)
        }
    }

    func testTooManyHeadersIsRejectedWith431() {
        let many = (0..<10).map { "X-\($0): y\r\n" }.joined()
        XCTAssertThrowsError(try parse("GET / HTTP/1.1\r\n\(many)\r\n", headerCountLimit: 9)) { error in
            XCTAssertEqual(error as? HTTPParseError, .tooManyHeaders(limit: 9))
            XCTAssertEqual((error as? HTTPParseError)?.status, 431)
        }
    }

    func testMalformedHeadsAreRejectedWith400() {
        let cases: [(String, HTTPParseError)] = [
            ("GET /\r\nHost: a\r\n\r\n", .malformedStartLine),
            ("GET  / HTTP/1.1\r\nHost: a\r\n\r\n", .malformedStartLine),
            ("GET / HTTP/2.0\r\nHost: a\r\n\r\n", .unsupportedVersion),
            ("GET / HTTX/1.1\r\nHost: a\r\n\r\n", .malformedStartLine),
            ("GET / HTTP/1.1\r\nHost a\r\n\r\n", .malformedHeader),
            ("GET / HTTP/1.1\r\nBad Name: a\r\n\r\n", .malformedHeader),
            ("GET / HTTP/1.1\r\nHost: a\r\n folded\r\n\r\n", .malformedHeader),
            ("GET / HTTP/1.1\r\nHost: a\u{01}b\r\n\r\n", .malformedHeader),
            ("GET / HTTP/1.1\nHost: a\r\n\r\n", .badLineEnding),
            ("GET / HTTP/1.1\r\nHost: a\rb\r\n\r\n", .badLineEnding),
        ]
        for (text, expected) in cases {
            XCTAssertThrowsError(try parse(text), text.debugDescription) { error in
                XCTAssertEqual(error as? HTTPParseError, expected, text.debugDescription)
                XCTAssertEqual((error as? HTTPParseError)?.status, 400)
            }
        }
    }

    func testParsesAResponseHead() throws {
        let head = bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n")
        let response = try head.withUnsafeBytes { try HTTPHeadParser.parseResponse($0) }
        XCTAssertEqual(response.status, 101)
        XCTAssertEqual(response.reason, "Switching Protocols")
        XCTAssertEqual(response.headers["upgrade"], "websocket")
    }

    func testErrorResponseSaysWhyAndClosesTheConnection() {
        let text = String(decoding: HTTPResponse.error(403, reason: "origin x is not allowed").serialized(), as: UTF8.self)
        XCTAssertEqual(text, "HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: 39\r\n"
                       + "Connection: close\r\n\r\n403 Forbidden: origin x is not allowed\n")
    }
}
