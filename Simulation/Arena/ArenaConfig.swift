import Engine

/// Arena's rules. Distances are world units (a player is 40 across); speeds are units per tick at 60 Hz.
public struct ArenaConfig: Sendable, Hashable {
    public var worldWidth: Fixed = 3200
    public var worldHeight: Fixed = 2400
    public var obstacleCount = 24
    public var playersMax = 256
    public var playerRadius: Fixed = 20
    public var acceleration = Fixed(9, over: 10)
    /// Fraction of velocity kept each tick (friction).
    public var velocityRetained = Fixed(86, over: 100)
    public var speedMax: Fixed = 7
    public var projectileSpeed: Fixed = 16
    public var projectileRadius: Fixed = 4
    public var projectileLifetimeTicks = 90
    public var shotCooldownTicks = 12
    public var projectileDamage = 25
    public var healthMax = 100
    public var respawnDelayTicks = 120
    public var projectilesMax = 2048

    /// The defaults.
    public init() {}
}

/// One player's buttons and aim, packed into 21 input bits.
public struct ArenaInput: Hashable, Sendable {
    public var up = false, down = false, left = false, right = false, shoot = false
    /// Aim direction, 65,536 steps per turn.
    public var aim = BinaryAngle(raw: 0)

    /// Bits Arena reads from `InputBits`.
    public static let bitCount = 21

    public init(up: Bool = false, down: Bool = false, left: Bool = false, right: Bool = false, shoot: Bool = false,
                aim: BinaryAngle = BinaryAngle(raw: 0)) {
        self.up = up
        self.down = down
        self.left = left
        self.right = right
        self.shoot = shoot
        self.aim = aim
    }

    /// Unpacks: bit 0 up, 1 down, 2 left, 3 right, 4 shoot, 5-20 aim.
    public init(_ bits: InputBits) {
        up = bits.raw & 1 != 0
        down = bits.raw & 2 != 0
        left = bits.raw & 4 != 0
        right = bits.raw & 8 != 0
        shoot = bits.raw & 16 != 0
        aim = BinaryAngle(raw: UInt16(truncatingIfNeeded: bits.raw >> 5))
    }

    /// Packs into input bits.
    public var bits: InputBits {
        var raw: UInt64 = (up ? 1 : 0) | (down ? 2 : 0) | (left ? 4 : 0) | (right ? 8 : 0) | (shoot ? 16 : 0)
        raw |= UInt64(aim.raw) << 5
        return InputBits(raw: raw)
    }
}
