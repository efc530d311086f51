/// A fixed-point number: an Int64 with 16 fractional bits. The simulation uses no floating point, so every
/// machine and every build computes bit-identical worlds, and `tickwire replay` can re-run them exactly.
/// Arithmetic wraps instead of trapping, and division by zero gives zero: results are always defined.
public struct Fixed: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// Fractional bits.
    public static let fractionBits: Int64 = 16
    /// 1.0.
    public static let one = Fixed(raw: 1 << 16)
    /// 0.0.
    public static let zero = Fixed(raw: 0)
    /// 0.5.
    public static let half = Fixed(raw: 1 << 15)

    /// The value × 65536.
    public var raw: Int64

    /// A value from its raw representation.
    @inlinable public init(raw: Int64) { self.raw = raw }

    /// An integer value.
    @inlinable public init(_ integer: Int) { raw = Int64(integer) &<< Fixed.fractionBits }

    /// `numerator / denominator`, rounded toward zero (zero when `denominator` is 0).
    @inlinable public init(_ numerator: Int, over denominator: Int) {
        raw = denominator == 0 ? 0 : (Int64(numerator) &<< Fixed.fractionBits) / Int64(denominator)
    }

    /// The largest integer not above the value.
    @inlinable public var floor: Int { Int(raw >> Fixed.fractionBits) }

    /// The value rounded to the nearest integer (halves away from zero).
    @inlinable public var rounded: Int { raw >= 0 ? Int((raw + (1 << 15)) >> 16) : -Int((-raw + (1 << 15)) >> 16) }

    /// The absolute value.
    @inlinable public var magnitude: Fixed { Fixed(raw: raw < 0 ? 0 &- raw : raw) }

    /// A decimal rendering for logs, dumps and tests (not used by the simulation).
    public var description: String {
        let negative = raw < 0
        let absolute = negative ? UInt64(bitPattern: 0 &- raw) : UInt64(raw)
        let fraction = (absolute & 0xFFFF) * 100_000 / 65536
        let digits = String(fraction)
        return "\(negative ? "-" : "")\(absolute >> 16).\(String(repeating: "0", count: 5 - digits.count))\(digits)"
    }

    @inlinable public static func + (a: Fixed, b: Fixed) -> Fixed { Fixed(raw: a.raw &+ b.raw) }
    @inlinable public static func - (a: Fixed, b: Fixed) -> Fixed { Fixed(raw: a.raw &- b.raw) }
    @inlinable public static prefix func - (a: Fixed) -> Fixed { Fixed(raw: 0 &- a.raw) }
    @inlinable public static func * (a: Fixed, b: Fixed) -> Fixed { Fixed(raw: (a.raw &* b.raw) >> fractionBits) }
    @inlinable public static func * (a: Fixed, b: Int) -> Fixed { Fixed(raw: a.raw &* Int64(b)) }
    @inlinable public static func / (a: Fixed, b: Fixed) -> Fixed {
        b.raw == 0 ? .zero : Fixed(raw: (a.raw &<< fractionBits) / b.raw)
    }
    @inlinable public static func / (a: Fixed, b: Int) -> Fixed { b == 0 ? .zero : Fixed(raw: a.raw / Int64(b)) }
    @inlinable public static func += (a: inout Fixed, b: Fixed) { a = a + b }
    @inlinable public static func -= (a: inout Fixed, b: Fixed) { a = a - b }
    @inlinable public static func *= (a: inout Fixed, b: Fixed) { a = a * b }
    @inlinable public static func < (a: Fixed, b: Fixed) -> Bool { a.raw < b.raw }

    /// The value limited to `range`.
    @inlinable public func clamped(to range: ClosedRange<Fixed>) -> Fixed { min(max(self, range.lowerBound), range.upperBound) }

    /// The square root (0 for negative values), exact to the last fractional bit (rounded down).
    public static func squareRoot(_ value: Fixed) -> Fixed {
        guard value.raw > 0 else { return .zero }
        // sqrt(raw / 2^16) * 2^16 = sqrt(raw * 2^16): an integer square root of a 128-bit-safe value.
        return Fixed(raw: Int64(integerSquareRoot(UInt64(value.raw) << 16 | 0, high: UInt64(value.raw) >> 48)))
    }

    /// floor(sqrt(high × 2^64 + low)), for the 80-bit products above.
    private static func integerSquareRoot(_ low: UInt64, high: UInt64) -> UInt64 {
        // Bitwise method over the 128-bit value, 64 iterations at most.
        var remainderHigh: UInt64 = 0, remainderLow: UInt64 = 0
        var root: UInt64 = 0
        var valueHigh = high, valueLow = low
        for _ in 0..<64 {
            // remainder = remainder << 2 | top two bits of value
            remainderHigh = remainderHigh << 2 | remainderLow >> 62
            remainderLow = remainderLow << 2 | valueHigh >> 62
            valueHigh = valueHigh << 2 | valueLow >> 62
            valueLow <<= 2
            root <<= 1
            // trial = 2 * root + 1 (fits in 65 bits as (high: root >> 63, low: root << 1 | 1))
            let trialHigh = root >> 63
            let trialLow = root << 1 | 1
            if remainderHigh > trialHigh || (remainderHigh == trialHigh && remainderLow >= trialLow) {
                let (newLow, borrow) = remainderLow.subtractingReportingOverflow(trialLow)
                remainderLow = newLow
                remainderHigh = remainderHigh &- trialHigh &- (borrow ? 1 : 0)
                root |= 1
            }
        }
        return root
    }
}

extension Fixed: ExpressibleByIntegerLiteral {
    /// An integer literal, e.g. `let speed: Fixed = 3`.
    public init(integerLiteral value: Int) { self.init(value) }
}
