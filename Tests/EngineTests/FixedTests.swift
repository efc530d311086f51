import Engine
import XCTest

final class FixedTests: XCTestCase {
    func testArithmeticIsExactInSixteenthBits() {
        XCTAssertEqual(Fixed(3, over: 2) * 2, Fixed(3))
        XCTAssertEqual(Fixed(7) / Fixed(2), Fixed(7, over: 2))
        XCTAssertEqual((Fixed(7, over: 2)).raw, 229_376)
        XCTAssertEqual(Fixed(1, over: 3).raw, 21845)
        XCTAssertEqual(Fixed(5) - Fixed(8), Fixed(-3))
        XCTAssertEqual(Fixed(-3, over: 2).floor, -2)
        XCTAssertEqual(Fixed(-3, over: 2).rounded, -2)
        XCTAssertEqual(Fixed(5, over: 2).rounded, 3)
        XCTAssertEqual(Fixed(-7, over: 4).magnitude, Fixed(7, over: 4))
        XCTAssertEqual(Fixed(12).clamped(to: Fixed(0)...Fixed(10)), Fixed(10))
    }

    func testDivisionByZeroGivesZeroInsteadOfTrapping() {
        XCTAssertEqual(Fixed(5) / Fixed.zero, .zero)
        XCTAssertEqual(Fixed(5) / 0, .zero)
        XCTAssertEqual(Fixed(5, over: 0), .zero)
    }

    func testOverflowWrapsInsteadOfTrapping() {
        let huge = Fixed(raw: Int64.max)
        XCTAssertEqual((huge + Fixed(raw: 1)).raw, Int64.min)
        _ = huge * huge  // defined (wraps), never traps
    }

    func testDescriptionShowsFiveDecimals() {
        XCTAssertEqual(Fixed(3, over: 2).description, "1.50000")
        XCTAssertEqual(Fixed(-1, over: 4).description, "-0.25000")
    }

    func testSquareRootIsTheFloorOfTheExactRoot() {
        XCTAssertEqual(Fixed.squareRoot(Fixed(2)).raw, 92681)  // isqrt(2 << 32)
        XCTAssertEqual(Fixed.squareRoot(Fixed(100_000_000)).raw, 655_360_000)
        XCTAssertEqual(Fixed.squareRoot(Fixed(16)), Fixed(4))
        XCTAssertEqual(Fixed.squareRoot(.zero), .zero)
        XCTAssertEqual(Fixed.squareRoot(Fixed(-4)), .zero)
        var random = DeterministicRandom(seed: 9)
        for _ in 0..<5000 {
            let raw = Int64(random.next() >> UInt64(random.nextInt(in: 1...63)))
            let root = UInt64(Fixed.squareRoot(Fixed(raw: raw)).raw)
            // root² <= raw × 2^16 < (root + 1)², compared in 128 bits.
            let target = (high: UInt64(raw) >> 48, low: UInt64(raw) << 16)
            let square = root.multipliedFullWidth(by: root)
            let next = (root + 1).multipliedFullWidth(by: root + 1)
            XCTAssertTrue(square.high < target.high || (square.high == target.high && square.low <= target.low), "\(raw)")
            XCTAssertTrue(next.high > target.high || (next.high == target.high && next.low > target.low), "\(raw)")
        }
    }

    func testVectorLengthAndScaling() {
        let vector = FixedVector(x: Fixed(3), y: Fixed(4))
        XCTAssertEqual(vector.length, Fixed(5))
        XCTAssertEqual(vector.lengthSquared, Fixed(25))
        XCTAssertEqual(vector.withLength(Fixed(10)), FixedVector(x: Fixed(6), y: Fixed(8)))
        XCTAssertEqual(FixedVector.zero.withLength(Fixed(10)), .zero)
    }

    func testSineTableHitsTheCardinalPointsExactly() {
        XCTAssertEqual(BinaryAngle(degrees: 0).sine, .zero)
        XCTAssertEqual(BinaryAngle(degrees: 90).sine, .one)
        XCTAssertEqual(BinaryAngle(degrees: 180).sine, .zero)
        XCTAssertEqual(BinaryAngle(degrees: 270).sine, -.one)
        XCTAssertEqual(BinaryAngle(degrees: 0).cosine, .one)
        XCTAssertEqual(BinaryAngle(degrees: 180).cosine, -.one)
        XCTAssertEqual(BinaryAngle(degrees: 90).direction, FixedVector(x: .zero, y: .one))
    }

    func testSineIsAccurateToBetterThanOneThousandthEverywhere() {
        for raw in stride(from: 0, to: 65536, by: 7) {
            let angle = BinaryAngle(raw: UInt16(raw))
            let expected = sin(Double(raw) * 2 * Double.pi / 65536)
            XCTAssertEqual(Double(angle.sine.raw) / 65536, expected, accuracy: 0.001, "raw \(raw)")
            let unit = angle.direction.lengthSquared
            XCTAssertEqual(Double(unit.raw) / 65536, 1, accuracy: 0.002)
        }
    }
}
