import Server
import XCTest

final class ServeFlagsTests: XCTestCase {
    func testNoFlagsGiveTheDocumentedDefaults() throws {
        let config = try ServeFlags.parse([])
        XCTAssertEqual(config.host, "127.0.0.1")
        XCTAssertEqual(config.port, 8080)
        XCTAssertNil(config.echoPath)
        XCTAssertEqual(config.headBytesMax, 8192)
        XCTAssertEqual(config.webSocketLimits.messageBytesMax, 1 << 20)
        XCTAssertEqual(config.connectionLimits.handshakeTimeoutNs, 5_000_000_000)
        XCTAssertEqual(config.connectionLimits.idleTimeoutNs, 30_000_000_000)
    }

    func testFlagsOverrideDefaultsInBothSpellings() throws {
        let config = try ServeFlags.parse(["--port", "9001", "--echo-path=/echo", "--allow-origin", "*", "--max-message-bytes", "2048",
                                           "--max-frame-bytes", "4096", "--idle-timeout-ms", "1500", "--loops", "1"])
        XCTAssertEqual(config.port, 9001)
        XCTAssertEqual(config.echoPath, "/echo")
        XCTAssertEqual(config.allowedOrigins, ["*"])
        XCTAssertEqual(config.webSocketLimits.messageBytesMax, 2048)
        XCTAssertEqual(config.webSocketLimits.frameBytesMax, 2048, "a frame can never exceed the message limit")
        XCTAssertEqual(config.connectionLimits.idleTimeoutNs, 1_500_000_000)
        XCTAssertEqual(config.loopCount, 1)
    }

    func testBadFlagsAreRejectedWithAMessage() {
        XCTAssertThrowsError(try ServeFlags.parse(["--nope"])) { XCTAssertEqual($0 as? FlagError, .unknownFlag("--nope")) }
        XCTAssertThrowsError(try ServeFlags.parse(["--port"])) { XCTAssertEqual($0 as? FlagError, .missingValue("--port")) }
        XCTAssertThrowsError(try ServeFlags.parse(["--port", "70000"])) {
            XCTAssertEqual(($0 as? FlagError)?.message, "--port 70000: expected an integer in 0...65535")
        }
        XCTAssertThrowsError(try ServeFlags.parse(["--echo-path", "echo"]))
        XCTAssertThrowsError(try ServeFlags.parse(["--write-low-watermark-bytes", "999999999"]))
    }

    func testHelpListsEveryFlagWithItsDefault() {
        let help = ServeFlags.helpText()
        for flag in ["--host", "--port", "--loops", "--echo-path", "--allow-origin", "--max-connections", "--max-header-bytes",
                     "--max-headers", "--max-frame-bytes", "--max-message-bytes", "--write-high-watermark-bytes",
                     "--write-low-watermark-bytes", "--write-queue-max-bytes", "--handshake-timeout-ms", "--ping-interval-ms",
                     "--idle-timeout-ms", "--close-timeout-ms", "--read-buffer-bytes", "--shutdown-grace-ms"] {
            XCTAssertTrue(help.contains(flag), flag)
        }
        XCTAssertTrue(help.contains("[8080]"))
        XCTAssertTrue(help.contains("[1048576]"))
    }
}
