import XCTest
@testable import WebSocket

final class HandshakeTests: XCTestCase {
    private let sampleKey = "dGhlIHNhbXBsZSBub25jZQ=="

    private func request(method: String = "GET", version: String = "HTTP/1.1", _ headers: [(String, String)]) throws -> HTTPRequestHead {
        var text = "\(method) /chat \(version)\r\n"
        for (name, value) in headers { text += "\(name): \(value)\r\n" }
        text += "\r\n"
        let bytes = Array(text.utf8)
        return try HTTPHeadParser.parseRequest(bytes, length: bytes.count)
    }

    private func validHeaders(replacing name: String? = nil, with value: String? = nil) -> [(String, String)] {
        var headers = [("Host", "server.example.com"), ("Upgrade", "websocket"), ("Connection", "Upgrade"),
                       ("Sec-WebSocket-Key", sampleKey), ("Sec-WebSocket-Version", "13")]
        if let name {
            headers.removeAll { $0.0 == name }
            if let value { headers.append((name, value)) }
        }
        return headers
    }

    private func rejection(_ request: HTTPRequestHead, policy: HandshakePolicy = HandshakePolicy()) -> HandshakeRejection? {
        if case .failure(let rejection) = ServerHandshake.accept(request, policy: policy) { return rejection }
        return nil
    }

    func testValidUpgradeGetsExact101Response() throws {
        guard case .success(let acceptance) = ServerHandshake.accept(try request(validHeaders()), policy: HandshakePolicy()) else {
            return XCTFail("refused")
        }
        XCTAssertNil(acceptance.subprotocol)
        XCTAssertEqual(String(decoding: acceptance.response, as: UTF8.self),
                       "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                       + "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
    }

    func testHeaderNamesAndTokensAreCaseInsensitiveAndConnectionMayListOtherTokens() throws {
        let headers = [("host", "a"), ("UPGRADE", "WebSocket"), ("connection", "keep-alive, UPGRADE"),
                       ("sec-websocket-key", sampleKey), ("SEC-WEBSOCKET-VERSION", "13")]
        guard case .success = ServerHandshake.accept(try request(headers), policy: HandshakePolicy()) else { return XCTFail("refused") }
    }

    func testNonGetIsRefusedWith405AndAllowHeader() throws {
        let refused = rejection(try request(method: "POST", validHeaders()))
        XCTAssertEqual(refused, .methodNotGet("POST"))
        XCTAssertEqual(refused?.status, 405)
        XCTAssertTrue(refused?.response.headers.contains { $0.0 == "Allow" && $0.1 == "GET" } ?? false)
    }

    func testHTTP10IsRefusedWith400() throws {
        XCTAssertEqual(rejection(try request(version: "HTTP/1.0", validHeaders()))?.status, 400)
    }

    func testMissingHostIsRefusedWith400() throws {
        XCTAssertEqual(rejection(try request(validHeaders(replacing: "Host"))), .missingHost)
    }

    func testMissingUpgradeIsRefusedWith426NamingWebsocket() throws {
        let refused = rejection(try request(validHeaders(replacing: "Upgrade")))
        XCTAssertEqual(refused, .notAnUpgrade)
        XCTAssertEqual(refused?.status, 426)
        XCTAssertTrue(refused?.response.headers.contains { $0.0 == "Upgrade" && $0.1 == "websocket" } ?? false)
    }

    func testConnectionWithoutUpgradeTokenIsRefusedWith400() throws {
        XCTAssertEqual(rejection(try request(validHeaders(replacing: "Connection", with: "keep-alive"))), .missingConnectionUpgrade)
    }

    func testKeysThatAreNotBase64Of16BytesAreRefusedWith400() throws {
        for key in ["", "dGhlIHNhbXBsZSBub25jZQ", "dGhlIHNhbXBsZSBub25jZQ==x", "dGhlIHNhbXBsZSBub25j", "!GhlIHNhbXBsZSBub25jZQ==",
                    "dGhlIHNhbXBsZSBub25jZSE="] {
            let refused = rejection(try request(validHeaders(replacing: "Sec-WebSocket-Key", with: key)))
            XCTAssertEqual(refused, .badKey, key)
            XCTAssertEqual(refused?.status, 400)
        }
    }

    func testOtherVersionsAreRefusedWith426AdvertisingVersion13() throws {
        for version in ["8", "14", "13, 8"] {
            let refused = rejection(try request(validHeaders(replacing: "Sec-WebSocket-Version", with: version)))
            XCTAssertEqual(refused?.status, 426)
            XCTAssertTrue(refused?.response.headers.contains { $0.0 == "Sec-WebSocket-Version" && $0.1 == "13" } ?? false)
        }
        XCTAssertEqual(rejection(try request(validHeaders(replacing: "Sec-WebSocket-Version"))), .unsupportedVersion(nil))
    }

    func testCrossSiteOriginIsRefusedWith403ByDefault() throws {
        var headers = validHeaders()
        headers.append(("Origin", "http://evil.example"))
        let refused = rejection(try request(headers))
        XCTAssertEqual(refused, .originNotAllowed("http://evil.example"))
        XCTAssertEqual(refused?.status, 403)
    }

    func testSameOriginAndNoOriginAreAllowedByDefault() throws {
        var headers = validHeaders(replacing: "Host", with: "localhost:8080")
        headers.append(("Origin", "http://localhost:8080"))
        XCTAssertNil(rejection(try request(headers)))
        XCTAssertNil(rejection(try request(validHeaders())))
        var defaultPort = validHeaders(replacing: "Host", with: "game.example")
        defaultPort.append(("Origin", "https://game.example:443"))
        XCTAssertNil(rejection(try request(defaultPort)))
        var otherPort = validHeaders(replacing: "Host", with: "localhost:8080")
        otherPort.append(("Origin", "http://localhost:9999"))
        XCTAssertEqual(rejection(try request(otherPort))?.status, 403)
    }

    func testAllowOriginAddsOriginsAndStarAllowsAll() throws {
        var headers = validHeaders()
        headers.append(("Origin", "https://Play.Example/"))
        let listed = HandshakePolicy(originPolicy: OriginPolicy(allowing: ["https://play.example"]))
        XCTAssertNil(rejection(try request(headers), policy: listed))
        let everyone = HandshakePolicy(originPolicy: OriginPolicy(allowing: ["*"]))
        XCTAssertNil(rejection(try request(headers), policy: everyone))
    }

    func testSubprotocolIsChosenFromTheConfiguredList() throws {
        var headers = validHeaders()
        headers.append(("Sec-WebSocket-Protocol", "chat, tickwire.v1"))
        let policy = HandshakePolicy(subprotocols: ["tickwire.v1", "chat"], requiresSubprotocol: true)
        guard case .success(let acceptance) = ServerHandshake.accept(try request(headers), policy: policy) else { return XCTFail() }
        XCTAssertEqual(acceptance.subprotocol, "chat")  // the client's first preference that we speak
        XCTAssertTrue(String(decoding: acceptance.response, as: UTF8.self).contains("\r\nSec-WebSocket-Protocol: chat\r\n"))
    }

    func testRequiredSubprotocolMissingIsRefusedWith400() throws {
        var headers = validHeaders()
        headers.append(("Sec-WebSocket-Protocol", "tickwire.v2"))
        let policy = HandshakePolicy(subprotocols: ["tickwire.v1"], requiresSubprotocol: true)
        let refused = rejection(try request(headers), policy: policy)
        XCTAssertEqual(refused, .noCommonSubprotocol(offered: ["tickwire.v2"]))
        XCTAssertEqual(refused?.status, 400)
    }

    func testOptionalSubprotocolMismatchIsAcceptedWithoutOne() throws {
        var headers = validHeaders()
        headers.append(("Sec-WebSocket-Protocol", "other"))
        guard case .success(let acceptance) = ServerHandshake.accept(try request(headers), policy: HandshakePolicy(subprotocols: ["x"]))
        else { return XCTFail() }
        XCTAssertNil(acceptance.subprotocol)
    }

    // MARK: Client side

    private func validate(_ client: ClientHandshake, _ response: String) -> Result<String?, ClientHandshakeError> {
        Array(response.utf8).withUnsafeBytes { client.validate($0) }
    }

    func testClientRequestCarriesAFreshKeyEachTime() {
        let first = ClientHandshake(host: "127.0.0.1:1", path: "/x", subprotocols: ["tickwire.v1"])
        let second = ClientHandshake(host: "127.0.0.1:1", path: "/x")
        XCTAssertNotEqual(first.key, second.key)
        XCTAssertEqual(Base64.decode(first.key)?.count, 16)
        let text = String(decoding: first.request, as: UTF8.self)
        XCTAssertTrue(text.hasPrefix("GET /x HTTP/1.1\r\nHost: 127.0.0.1:1\r\n"))
        XCTAssertTrue(text.contains("Sec-WebSocket-Key: \(first.key)\r\n"))
        XCTAssertTrue(text.contains("Sec-WebSocket-Protocol: tickwire.v1\r\n"))
        XCTAssertTrue(text.hasSuffix("\r\n\r\n"))
    }

    func testClientAcceptsTheServersAnswerAndRefusesWrongOnes() {
        let client = ClientHandshake(host: "h", path: "/", subprotocols: ["tickwire.v1"])
        let accept = ServerHandshake.acceptValue(forKey: client.key)
        let good = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: \(accept)\r\n"
        XCTAssertEqual(validate(client, good + "Sec-WebSocket-Protocol: tickwire.v1\r\n\r\n"), .success("tickwire.v1"))
        XCTAssertEqual(validate(client, good + "\r\n"), .success(nil))
        XCTAssertEqual(validate(client, good + "Sec-WebSocket-Protocol: other\r\n\r\n"), .failure(.unrequestedSubprotocol("other")))
        XCTAssertEqual(validate(client, "HTTP/1.1 403 Forbidden\r\n\r\n"), .failure(.unexpectedStatus(403, "Forbidden")))
        XCTAssertEqual(validate(client, "HTTP/1.1 101 OK\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n"),
                       .failure(.wrongAcceptValue))
        XCTAssertEqual(validate(client, "HTTP/1.1 101 OK\r\nSec-WebSocket-Accept: \(accept)\r\n\r\n"), .failure(.missingUpgrade))
    }
}
