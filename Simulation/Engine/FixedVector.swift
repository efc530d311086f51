/// A 2-D vector of fixed-point numbers.
public struct FixedVector: Hashable, Sendable, CustomStringConvertible {
    public var x: Fixed
    public var y: Fixed

    /// (0, 0).
    public static let zero = FixedVector(x: .zero, y: .zero)

    @inlinable public init(x: Fixed, y: Fixed) {
        self.x = x
        self.y = y
    }

    public var description: String { "(\(x), \(y))" }

    @inlinable public static func + (a: FixedVector, b: FixedVector) -> FixedVector { FixedVector(x: a.x + b.x, y: a.y + b.y) }
    @inlinable public static func - (a: FixedVector, b: FixedVector) -> FixedVector { FixedVector(x: a.x - b.x, y: a.y - b.y) }
    @inlinable public static func * (a: FixedVector, s: Fixed) -> FixedVector { FixedVector(x: a.x * s, y: a.y * s) }
    @inlinable public static func += (a: inout FixedVector, b: FixedVector) { a = a + b }

    /// The dot product.
    @inlinable public func dot(_ other: FixedVector) -> Fixed { x * other.x + y * other.y }

    /// The squared length (no square root: compare against squared distances).
    @inlinable public var lengthSquared: Fixed { dot(self) }

    /// The length.
    public var length: Fixed { Fixed.squareRoot(lengthSquared) }

    /// The vector scaled to `newLength` (zero stays zero).
    public func withLength(_ newLength: Fixed) -> FixedVector {
        let current = length
        guard current.raw > 0 else { return .zero }
        return FixedVector(x: x * newLength / current, y: y * newLength / current)
    }
}
