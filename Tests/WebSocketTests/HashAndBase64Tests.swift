import XCTest
@testable import WebSocket

final class HashAndBase64Tests: XCTestCase {
    private func hex(_ bytes: [UInt8]) -> String { bytes.map { String($0, radix: 16).leftPadded(2) }.joined() }

    func testSHA1MatchesFIPS180Vectors() {
        XCTAssertEqual(hex(SHA1.hash(Array("abc".utf8))), "a9993e364706816aba3e25717850c26c9cd0d89d")
        XCTAssertEqual(hex(SHA1.hash([UInt8]())), "da39a3ee5e6b4b0d3255bfef95601890afd80709")
        XCTAssertEqual(hex(SHA1.hash(Array("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq".utf8))),
                       "84983e441c3bd26ebaae4aa1f95129e5e54670f1")
        XCTAssertEqual(hex(SHA1.hash([UInt8](repeating: UInt8(ascii: "a"), count: 1_000_000))),
                       "34aa973cd4c4daa4f61eeb2bdbad27316534016f")
    }

    func testSHA1GivesTheSameDigestForAnySplitOfTheInput() {
        let message = Array("The quick brown fox jumps over the lazy dog, again and again and again.".utf8)
        let expected = SHA1.hash(message)
        for split in 0...message.count {
            var sha = SHA1()
            sha.update(message[..<split])
            sha.update(message[split...])
            XCTAssertEqual(sha.finish(), expected, "split at \(split)")
        }
    }

    func testBase64EncodesRFC4648Vectors() {
        let vectors = ["": "", "f": "Zg==", "fo": "Zm8=", "foo": "Zm9v", "foob": "Zm9vYg==", "fooba": "Zm9vYmE=", "foobar": "Zm9vYmFy"]
        for (plain, encoded) in vectors {
            XCTAssertEqual(Base64.encode(Array(plain.utf8)), encoded)
            XCTAssertEqual(Base64.decode(encoded), Array(plain.utf8))
        }
    }

    func testBase64DecodeRejectsMalformedText() {
        for bad in ["Zg=", "Z===", "Zm9v!A==", "=Zg=", "Zg==Zg==", "Zm=v", "Zm 9", "Zg\u{e9}="] {
            XCTAssertNil(Base64.decode(bad), bad)
        }
    }

    func testAcceptValueMatchesRFC6455Sample() {
        XCTAssertEqual(ServerHandshake.acceptValue(forKey: "dGhlIHNhbXBsZSBub25jZQ=="), "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=")
    }
}

extension String {
    func leftPadded(_ width: Int) -> String { String(repeating: "0", count: max(0, width - count)) + self }
}
