import Engine

/// Pitch's rules. Distances are world units, speeds units per tick at 60 Hz, times in ticks.
public struct PitchConfig: Sendable, Hashable {
    public var pitchWidth: Fixed = 1600
    public var pitchHeight: Fixed = 1000
    /// The opening of each goal, centred on its end line.
    public var goalWidth: Fixed = 260
    public var playerRadius: Fixed = 18
    public var ballRadius: Fixed = 10
    public var acceleration = Fixed(8, over: 10)
    /// Fraction of a player's velocity kept each tick.
    public var velocityRetained = Fixed(88, over: 100)
    public var speedMax: Fixed = 6
    /// Fraction of the ball's velocity kept each tick (the grass).
    public var ballRetained = Fixed(985, over: 1000)
    public var kickSpeed: Fixed = 15
    /// How far beyond touching a player reaches the ball to kick it.
    public var kickReach: Fixed = 14
    public var kickCooldownTicks = 15
    /// A match: three minutes at 60 Hz; then the final score stands for `endPauseTicks` and a new match starts.
    public var matchTicks = 180 * 60
    public var endPauseTicks = 5 * 60
    /// After a goal, everyone stands at kickoff for this long.
    public var kickoffPauseTicks = 2 * 60
    public var playersMax = 16

    /// The defaults.
    public init() {}

    /// Every setting as a raw integer, in a fixed order (the recording format).
    var rawValues: [Int64] {
        [pitchWidth.raw, pitchHeight.raw, goalWidth.raw, playerRadius.raw, ballRadius.raw, acceleration.raw, velocityRetained.raw,
         speedMax.raw, ballRetained.raw, kickSpeed.raw, kickReach.raw, Int64(kickCooldownTicks), Int64(matchTicks),
         Int64(endPauseTicks), Int64(kickoffPauseTicks), Int64(playersMax)]
    }

    /// Settings from `rawValues`; nil for any the rules cannot run with (a recording is untrusted): a pitch the
    /// wire can carry, a goal narrower than the pitch and wider than the ball, players and ball at least a unit
    /// across and small enough that a team's kickoff line fits, friction factors between 0 and 1.
    init?(rawValues values: [Int64]) {
        guard values.count == 16 else { return nil }
        let unit = Fixed.one.raw
        func count(_ value: Int64, _ range: ClosedRange<Int64>) -> Int? { range.contains(value) ? Int(value) : nil }
        guard (200 * unit...Pitch.sideMax.raw).contains(values[0]), (200 * unit...Pitch.sideMax.raw).contains(values[1]),
              (unit...64 * unit).contains(values[3]), (unit...64 * unit).contains(values[4]),
              values[2] > 2 * values[4] + unit, values[2] < values[1] - 2 * values[4],
              values[5...10].allSatisfy({ (0...256 * unit).contains($0) }),
              values[6] <= unit, values[8] <= unit,
              let cooldown = count(values[11], 0...10_000), let match = count(values[12], 60...1_000_000),
              let endPause = count(values[13], 1...100_000), let kickoffPause = count(values[14], 0...100_000),
              let players = count(values[15], 2...64),
              // A team's kickoff line: half the players side by side, with room between them, across the pitch.
              Int64(players / 2 + 1) * 4 * values[3] < values[1] else { return nil }
        self.init()
        pitchWidth = Fixed(raw: values[0])
        pitchHeight = Fixed(raw: values[1])
        goalWidth = Fixed(raw: values[2])
        playerRadius = Fixed(raw: values[3])
        ballRadius = Fixed(raw: values[4])
        acceleration = Fixed(raw: values[5])
        velocityRetained = Fixed(raw: values[6])
        speedMax = Fixed(raw: values[7])
        ballRetained = Fixed(raw: values[8])
        kickSpeed = Fixed(raw: values[9])
        kickReach = Fixed(raw: values[10])
        kickCooldownTicks = cooldown
        matchTicks = match
        endPauseTicks = endPause
        kickoffPauseTicks = kickoffPause
        playersMax = players
    }
}

/// One player's buttons, packed into 5 input bits: up, down, left, right, kick.
public struct PitchInput: Hashable, Sendable {
    public static let bitCount = 5
    public var up = false, down = false, left = false, right = false, kick = false

    public init(up: Bool = false, down: Bool = false, left: Bool = false, right: Bool = false, kick: Bool = false) {
        (self.up, self.down, self.left, self.right, self.kick) = (up, down, left, right, kick)
    }

    /// The buttons of `bits` (bits above the fifth are ignored).
    public init(_ bits: InputBits) {
        self.init(up: bits.raw & 1 != 0, down: bits.raw & 2 != 0, left: bits.raw & 4 != 0, right: bits.raw & 8 != 0, kick: bits.raw & 16 != 0)
    }

    /// The bits of these buttons.
    public var bits: InputBits {
        InputBits(raw: (up ? 1 : 0) | (down ? 2 : 0) | (left ? 4 : 0) | (right ? 8 : 0) | (kick ? 16 : 0))
    }
}

extension Pitch {
    public static func encodeConfig(_ config: PitchConfig) -> [UInt8] { SettingsBytes.encode(config.rawValues) }

    public static func decodeConfig(_ bytes: [UInt8]) -> PitchConfig? {
        SettingsBytes.decode(bytes, count: 16).flatMap { PitchConfig(rawValues: $0) }
    }
}
