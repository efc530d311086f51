/// Movement pieces every top-down game needs, computed one way so two games (and their recordings) agree on them.
extension FixedVector {
    /// The unit direction of four direction buttons (diagonals scaled by 1/√2, so they are no faster); zero when
    /// none, or opposite ones, are held. Down is +y.
    public static func direction(up: Bool, down: Bool, left: Bool, right: Bool) -> FixedVector {
        let direction = FixedVector(x: Fixed((right ? 1 : 0) - (left ? 1 : 0)), y: Fixed((down ? 1 : 0) - (up ? 1 : 0)))
        return direction.x.raw != 0 && direction.y.raw != 0 ? direction * Fixed(raw: 46341) : direction  // 1/√2
    }

    /// A velocity after one tick of pushing towards `direction`: accelerated, then the fraction `retained` kept
    /// (friction), then capped at `speedMax`.
    public func steered(towards direction: FixedVector, acceleration: Fixed, retained: Fixed, speedMax: Fixed) -> FixedVector {
        let velocity = (self + direction * acceleration) * retained
        return velocity.lengthSquared > speedMax * speedMax ? velocity.withLength(speedMax) : velocity
    }

    /// The vector with both coordinates rounded down to a multiple of 2^-`fractionBits` units (1/16 with 4): a game
    /// that snaps its positions every tick sends them on the wire exactly.
    public func snapped(toFractionBits fractionBits: Int) -> FixedVector {
        let mask = ~((Int64(1) << Int64(16 - fractionBits)) - 1)
        return FixedVector(x: Fixed(raw: x.raw & mask), y: Fixed(raw: y.raw & mask))
    }
}
