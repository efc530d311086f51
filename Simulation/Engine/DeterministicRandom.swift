/// A seeded random generator (xoshiro256**, seeded through SplitMix64) whose sequence is fixed forever: the
/// simulation draws only from it, never from the system, and never through the standard library's
/// `random(in:using:)`, whose algorithm may change between Swift releases.
public struct DeterministicRandom: Hashable, Sendable {
    var s0: UInt64, s1: UInt64, s2: UInt64, s3: UInt64  // internal: WorldState.swift saves and restores them

    /// A generator for `seed`.
    public init(seed: UInt64) {
        var mixer = seed
        func splitMix() -> UInt64 {
            mixer &+= 0x9E37_79B9_7F4A_7C15
            var z = mixer
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        s0 = splitMix()
        s1 = splitMix()
        s2 = splitMix()
        s3 = splitMix()
    }

    /// The next 64 random bits.
    public mutating func next() -> UInt64 {
        let result = rotateLeft(s1 &* 5, 7) &* 9
        let t = s1 << 17
        s2 ^= s0
        s3 ^= s1
        s1 ^= s2
        s0 ^= s3
        s2 ^= t
        s3 = rotateLeft(s3, 45)
        return result
    }

    /// A uniform integer in `0..<bound` (0 when `bound` <= 0), without modulo bias (Lemire's method).
    public mutating func nextInt(below bound: Int) -> Int {
        guard bound > 0 else { return 0 }
        let range = UInt64(bound)
        let threshold = (0 &- range) % range
        while true {
            let (high, low) = next().multipliedFullWidth(by: range)
            if low >= threshold { return Int(high) }
        }
    }

    /// A uniform integer in `range`.
    public mutating func nextInt(in range: ClosedRange<Int>) -> Int {
        range.lowerBound + nextInt(below: range.upperBound - range.lowerBound + 1)
    }

    /// A uniform fixed-point value in `range` (to the last fractional bit).
    public mutating func nextFixed(in range: ClosedRange<Fixed>) -> Fixed {
        let span = range.upperBound.raw - range.lowerBound.raw
        guard span > 0 else { return range.lowerBound }
        return Fixed(raw: range.lowerBound.raw + Int64(nextInt(below: Int(span) + 1)))
    }

    private func rotateLeft(_ value: UInt64, _ count: UInt64) -> UInt64 { value << count | value >> (64 - count) }
}
