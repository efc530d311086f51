/// An entity's field values, stored inline: no heap allocation and no reference counting, so arrays of entities
/// copy as plain memory (snapshot records, views, baselines and decoded snapshots hold many thousands of them).
/// A kind has at most `capacity` fields (`EntitySchema` checks). Values are read and written as `Int64` and stored
/// in 32 bits (every field's range fits: `EntityField` checks), so an `EntityState` is 48 bytes, not 88: a bot swarm
/// decodes worlds that are cold in the cache, and the copy of a baseline costs what its bytes do.
public struct EntityFields: RandomAccessCollection, MutableCollection, Hashable, Sendable, ExpressibleByArrayLiteral,
                            CustomStringConvertible {
    /// Fields an entity kind may have at most.
    public static let capacity = 8
    /// Every value a field can hold.
    public static let valueRange = Int64(Int32.min)...Int64(Int32.max)

    @usableFromInline var storage: (Int32, Int32, Int32, Int32, Int32, Int32, Int32, Int32) = (0, 0, 0, 0, 0, 0, 0, 0)
    @usableFromInline var stored: UInt8 = 0

    /// No fields.
    @inlinable public init() {}

    /// `count` copies of `value` (at most `capacity`).
    @inlinable
    public init(repeating value: Int64, count: Int) {
        precondition(count >= 0 && count <= EntityFields.capacity, "at most \(EntityFields.capacity) fields")
        stored = UInt8(count)
        for index in 0..<count { self[index] = value }
    }

    /// The values of `values` (at most `capacity`).
    @inlinable
    public init<Values: Sequence<Int64>>(_ values: Values) {
        for value in values {
            precondition(Int(stored) < EntityFields.capacity, "at most \(EntityFields.capacity) fields")
            stored += 1
            self[Int(stored) - 1] = value
        }
    }

    @inlinable public init(arrayLiteral values: Int64...) { self.init(values) }

    @inlinable public var startIndex: Int { 0 }
    @inlinable public var endIndex: Int { Int(stored) }

    @inlinable
    public subscript(position: Int) -> Int64 {
        get {
            precondition(position >= 0 && position < Int(stored), "field index out of range")
            return Int64(withUnsafeBytes(of: storage) { $0.load(fromByteOffset: position &* 4, as: Int32.self) })
        }
        set {
            precondition(position >= 0 && position < Int(stored), "field index out of range")
            precondition(EntityFields.valueRange.contains(newValue), "field values are 32-bit")
            withUnsafeMutableBytes(of: &storage) { $0.storeBytes(of: Int32(truncatingIfNeeded: newValue), toByteOffset: position &* 4, as: Int32.self) }
        }
    }

    @inlinable
    public static func == (a: EntityFields, b: EntityFields) -> Bool {
        guard a.stored == b.stored else { return false }
        for index in 0..<Int(a.stored) where a[index] != b[index] { return false }
        return true
    }

    @inlinable
    public func hash(into hasher: inout Hasher) {
        hasher.combine(stored)
        for value in self { hasher.combine(value) }
    }

    public var description: String { "[" + map(String.init).joined(separator: ", ") + "]" }
}
