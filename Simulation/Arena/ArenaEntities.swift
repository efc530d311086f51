import Engine

/// A player's avatar. Plain values only (the name is kept apart, in `Arena.names`): entities copy as plain memory,
/// with no reference counting on every read and write of the tick.
struct ArenaPlayer: Hashable {
    var player: PlayerID
    var position: FixedVector
    var velocity = FixedVector.zero
    var aim = BinaryAngle(raw: 0)
    var health: Int
    var score = 0
    var deaths = 0
    /// 0 while alive; otherwise the tick at which it respawns.
    var respawnTick: UInt32 = 0
    var nextShotTick: UInt32 = 0
    var isAlive: Bool { respawnTick == 0 }
}

/// A shot in flight. Its path is fixed when it is fired: the position at any tick follows from the origin, the
/// aim and the age, so snapshots send only those (and a projectile costs nothing after its creation).
struct ArenaProjectile: Hashable {
    var owner: PlayerID
    var origin: FixedVector
    var aim: BinaryAngle
    var spawnTick: UInt32
    var expiryTick: UInt32
    var position: FixedVector
}

/// An axis-aligned wall block.
struct ArenaObstacle: Hashable {
    var minimum: FixedVector
    var maximum: FixedVector

    /// The point of the block nearest to `point`.
    func nearestPoint(to point: FixedVector) -> FixedVector {
        FixedVector(x: point.x.clamped(to: minimum.x...maximum.x), y: point.y.clamped(to: minimum.y...maximum.y))
    }

    func contains(_ point: FixedVector) -> Bool {
        point.x >= minimum.x && point.x <= maximum.x && point.y >= minimum.y && point.y <= maximum.y
    }
}
