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

    /// Rules for a room of up to `players` (the default rules up to 64). Beyond that the world grows so each player
    /// has the room they have with 64 players in the default world, so a player sees about as many others in any
    /// room (interest management keeps per-client work flat), up to the wire's 65,536 units; walls grow with the
    /// area, and projectiles are capped at 4 per player within the 65,536 entities a snapshot can name.
    public static func sized(forPlayers players: Int) -> ArenaConfig {
        var config = ArenaConfig()
        guard players > 64 else { return config }
        config.playersMax = max(players, config.playersMax)
        // scale = sqrt(players / 64) in 1/1024 steps, by integer square root (no floating point in the simulation).
        let scaleMilli = min(integerSquareRoot(players * 1024 * 1024 / 64), 20 * 1024)
        config.worldWidth = Fixed(3200 * scaleMilli / 1024)
        config.worldHeight = Fixed(2400 * scaleMilli / 1024)
        config.obstacleCount = 24 * scaleMilli * scaleMilli / (1024 * 1024)
        config.projectilesMax = max(2048, min(players * 4, 65_000 - players - config.obstacleCount))
        return config
    }

    /// Every setting as a raw integer, in a fixed order (the recording format).
    var rawValues: [Int64] {
        [worldWidth.raw, worldHeight.raw, Int64(obstacleCount), Int64(playersMax), playerRadius.raw, acceleration.raw, velocityRetained.raw,
         speedMax.raw, projectileSpeed.raw, projectileRadius.raw, Int64(projectileLifetimeTicks), Int64(shotCooldownTicks),
         Int64(projectileDamage), Int64(healthMax), Int64(respawnDelayTicks), Int64(projectilesMax)]
    }

    /// Settings from `rawValues`; nil when any is outside what a server could have run (so a hostile recording
    /// cannot ask for a huge world or entity store).
    init?(rawValues values: [Int64]) {
        guard values.count == 16 else { return nil }
        let unit = Int64(1) << 16
        func count(_ value: Int64, _ range: ClosedRange<Int64>) -> Int? { range.contains(value) ? Int(value) : nil }
        guard (unit...65_536 * unit).contains(values[0]), (unit...65_536 * unit).contains(values[1]),
              let obstacles = count(values[2], 0...10_000), let players = count(values[3], 1...16_384),
              let lifetime = count(values[10], 1...100_000), let cooldown = count(values[11], 0...100_000),
              let damage = count(values[12], 0...100_000), let health = count(values[13], 1...100_000),
              let respawn = count(values[14], 0...100_000), let projectiles = count(values[15], 0...65_000),
              obstacles + players + projectiles <= 65_535,
              values[4...9].allSatisfy({ (0...4096 * unit).contains($0) }),
              // Every range the simulation draws from must be non-empty: a player at least a unit across, walls
              // (placed 100 units from the edges, up to 260 across) and spawn points (two radii from the edges) fit.
              values[4] >= unit, values[9] >= 0,
              values[0] >= ArenaConfig.worldSideMinimumRaw(playerRadiusRaw: values[4]),
              values[1] >= ArenaConfig.worldSideMinimumRaw(playerRadiusRaw: values[4]) else { return nil }
        self.init()
        worldWidth = Fixed(raw: values[0])
        worldHeight = Fixed(raw: values[1])
        obstacleCount = obstacles
        playersMax = players
        playerRadius = Fixed(raw: values[4])
        acceleration = Fixed(raw: values[5])
        velocityRetained = Fixed(raw: values[6])
        speedMax = Fixed(raw: values[7])
        projectileSpeed = Fixed(raw: values[8])
        projectileRadius = Fixed(raw: values[9])
        projectileLifetimeTicks = lifetime
        shotCooldownTicks = cooldown
        projectileDamage = damage
        healthMax = health
        respawnDelayTicks = respawn
        projectilesMax = projectiles
    }

    /// The smallest world side the rules work in, in raw fixed point.
    static func worldSideMinimumRaw(playerRadiusRaw: Int64) -> Int64 {
        max(Fixed(460).raw, playerRadiusRaw * 4 + Fixed(1).raw)
    }

    private static func integerSquareRoot(_ value: Int) -> Int {
        var root = 0
        while (root + 1) * (root + 1) <= value { root += 1 }
        return root
    }
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

extension Arena {
    public static func encodeConfig(_ config: ArenaConfig) -> [UInt8] { SettingsBytes.encode(config.rawValues) }

    public static func decodeConfig(_ bytes: [UInt8]) -> ArenaConfig? {
        SettingsBytes.decode(bytes, count: 16).flatMap { ArenaConfig(rawValues: $0) }
    }
}
