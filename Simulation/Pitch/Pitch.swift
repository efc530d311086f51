import Engine

/// The second game: two teams on a pitch with a goal at each end, one ball with momentum and friction, a match
/// clock, and a new match after each final whistle. Different in shape from Arena on purpose: a shared entity every
/// player fights over, a scoreboard entity with no position (seen by everyone), teams, and phases (play, kickoff,
/// full time) that change what inputs do. Deterministic: built only on `Engine`.
///
/// Red defends the left goal and blue the right. A player joins the team with fewer players (red on a tie). Moving
/// into the ball dribbles it; `kick` within reach sends it away from the kicker at `kickSpeed`. A ball whose centre
/// crosses an end line inside the goal mouth is a goal for the other team: the ball goes back to the centre and
/// everyone to the kickoff lines for `kickoffPauseTicks`.
public struct Pitch: Game {
    public typealias Config = PitchConfig

    public static let name = "pitch"
    public static let version = 1
    public static let inputBitCount = PitchInput.bitCount

    /// Positions are snapped to 1/16 unit every tick, so snapshots carry them exactly as 16ths.
    static let positionShift: Int64 = 12
    /// Largest coordinate on the wire, in 16ths of a unit: a pitch up to 8,192 units across.
    public static let coordinateMax: Int64 = (1 << 17) - 1
    /// The longest side a pitch may have.
    static let sideMax = Fixed(8192)

    /// The match's phase, as the `match` entity carries it.
    public enum Phase: Int64, Sendable {
        case playing = 0, kickoff = 1, fullTime = 2
    }

    /// Entity kinds on the wire (positions in 16ths of a unit).
    public static let schema = EntitySchema(kinds: [
        EntityKind(number: 0, name: "player", fields: [
            EntityField("x", range: 0...coordinateMax, smallDeltaBits: 9), EntityField("y", range: 0...coordinateMax, smallDeltaBits: 9),
            EntityField("team", range: 0...1), EntityField("player", range: 0...65535), EntityField("goals", range: 0...65535),
        ]),
        // 10-bit deltas cover ±32 units: two ticks of the hardest kick.
        EntityKind(number: 1, name: "ball", fields: [
            EntityField("x", range: 0...coordinateMax, smallDeltaBits: 10), EntityField("y", range: 0...coordinateMax, smallDeltaBits: 10),
        ]),
        EntityKind(number: 2, name: "match", fields: [
            EntityField("red", range: 0...65535), EntityField("blue", range: 0...65535),
            EntityField("secondsLeft", range: 0...65535), EntityField("phase", range: 0...2), EntityField("match", range: 0...65535),
        ]),
    ])

    struct Player: Hashable {
        var player: PlayerID
        var team: Int
        var position: FixedVector
        var velocity = FixedVector.zero
        var nextKickTick: UInt32 = 0
        var goals = 0
    }

    struct Ball: Hashable {
        var position: FixedVector
        var velocity = FixedVector.zero
        /// The last player to touch it, for the scorer's tally.
        var lastTouch: PlayerID?
    }

    struct Match: Hashable {
        var red = 0, blue = 0
        var ticksLeft: Int
        var phase = Phase.kickoff
        /// Ticks left of a kickoff or full-time pause.
        var pauseTicks: Int
        /// Matches started, counting this one.
        var number = 1
    }

    enum Entity: Hashable {
        case player(Player)
        case ball(Ball)
        case match(Match)
    }

    public let config: PitchConfig
    public let seed: UInt64
    public internal(set) var tick: UInt32 = 0
    var random: DeterministicRandom
    /// The ball and the match first (slots 0 and 1, for ever), then players.
    var entities: EntityStore<Entity>
    var avatars: [PlayerID: EntityID] = [:]
    var names: [PlayerID: String] = [:]
    static let ballID = EntityID(index: 0, generation: 0)
    static let matchID = EntityID(index: 1, generation: 0)

    public init(config: PitchConfig, seed: UInt64) {
        self.config = config
        self.seed = seed
        random = DeterministicRandom(seed: seed)
        entities = EntityStore(capacity: config.playersMax + 2)
        _ = entities.insert(.ball(Ball(position: FixedVector(x: config.pitchWidth / 2, y: config.pitchHeight / 2))))
        _ = entities.insert(.match(Match(ticksLeft: config.matchTicks, pauseTicks: config.kickoffPauseTicks)))
    }

    public var worldSize: FixedVector { FixedVector(x: config.pitchWidth, y: config.pitchHeight) }

    // MARK: Joining and leaving

    public mutating func join(_ player: PlayerID, name: String) -> EntityID? {
        guard avatars[player] == nil else { return avatars[player] }
        guard avatars.count < config.playersMax else { return nil }
        var reds = 0
        entities.forEachLive { _, entity in if case .player(let other) = entity, other.team == 0 { reds += 1 } }
        let team = reds * 2 <= avatars.count ? 0 : 1
        // A newcomer walks on from its own goal line, where it is in nobody's way.
        let x = team == 0 ? config.playerRadius * 2 : config.pitchWidth - config.playerRadius * 2
        let y = random.nextFixed(in: config.playerRadius...(config.pitchHeight - config.playerRadius))
        guard let id = entities.insert(.player(Player(player: player, team: team, position: Pitch.snapped(FixedVector(x: x, y: y))))) else {
            return nil
        }
        avatars[player] = id
        names[player] = name
        return id
    }

    public mutating func leave(_ player: PlayerID) {
        guard let id = avatars.removeValue(forKey: player) else { return }
        names[player] = nil
        entities.remove(id)
        if case .ball(var ball) = entities[Pitch.ballID], ball.lastTouch == player {
            ball.lastTouch = nil
            entities[Pitch.ballID] = .ball(ball)
        }
    }

    // MARK: The tick

    public mutating func step(inputs: [(player: PlayerID, input: InputBits)]) {
        tick &+= 1
        guard case .match(var match) = entities[Pitch.matchID], case .ball(var ball) = entities[Pitch.ballID] else { return }
        advanceClock(&match, &ball)
        if match.phase == .playing {
            for (player, bits) in inputs {
                guard let id = avatars[player], case .player(var avatar) = entities[id] else { continue }
                apply(PitchInput(bits), to: &avatar, ball: &ball)
                entities[id] = .player(avatar)
            }
        } else {
            // Kickoff and full time: everyone stands where they are.
            entities.updateEach { _, entity in
                guard case .player(var avatar) = entity else { return }
                avatar.velocity = .zero
                entity = .player(avatar)
            }
        }
        movePlayers()
        separatePlayers()
        if match.phase == .playing {
            dribble(&ball)
            moveBall(&ball, &match)
        }
        entities[Pitch.ballID] = .ball(ball)
        entities[Pitch.matchID] = .match(match)
    }

    /// Runs the clock and the pauses: a kickoff pause ends in play, full time in a new match.
    private mutating func advanceClock(_ match: inout Match, _ ball: inout Ball) {
        switch match.phase {
        case .playing:
            match.ticksLeft -= 1
            if match.ticksLeft <= 0 {
                match.ticksLeft = 0
                match.phase = .fullTime
                match.pauseTicks = config.endPauseTicks
            }
        case .kickoff, .fullTime:
            match.pauseTicks -= 1
            guard match.pauseTicks <= 0 else { return }
            if match.phase == .fullTime {
                let number = match.number &+ 1
                match = Match(ticksLeft: config.matchTicks, pauseTicks: config.kickoffPauseTicks, number: number)
                for id in entities.ids {
                    guard case .player(var avatar) = entities[id] else { continue }
                    avatar.goals = 0
                    entities[id] = .player(avatar)
                }
                lineUpForKickoff(&ball)
            } else {
                match.phase = .playing
            }
        }
    }

    private func apply(_ input: PitchInput, to avatar: inout Player, ball: inout Ball) {
        let direction = FixedVector.direction(up: input.up, down: input.down, left: input.left, right: input.right)
        avatar.velocity = avatar.velocity.steered(towards: direction, acceleration: config.acceleration, retained: config.velocityRetained,
                                                  speedMax: config.speedMax)
        guard input.kick, tick >= avatar.nextKickTick else { return }
        let offset = ball.position - avatar.position
        let reach = config.playerRadius + config.ballRadius + config.kickReach
        guard offset.lengthSquared <= reach * reach else { return }
        ball.velocity = offset.lengthSquared.raw > 0 ? offset.withLength(config.kickSpeed) : FixedVector(x: config.kickSpeed, y: .zero)
        ball.lastTouch = avatar.player
        avatar.nextKickTick = tick &+ UInt32(config.kickCooldownTicks)
    }

    private mutating func movePlayers() {
        let radius = config.playerRadius
        let bounds = (radius...(config.pitchWidth - radius), radius...(config.pitchHeight - radius))
        entities.updateEach { _, entity in
            guard case .player(var avatar) = entity else { return }
            var next = avatar.position + avatar.velocity
            if !bounds.0.contains(next.x) { avatar.velocity.x = .zero }
            if !bounds.1.contains(next.y) { avatar.velocity.y = .zero }
            next = FixedVector(x: next.x.clamped(to: bounds.0), y: next.y.clamped(to: bounds.1))
            avatar.position = Pitch.snapped(next)
            entity = .player(avatar)
        }
    }

    /// Pushes overlapping players apart, half each, in slot order (at most `playersMax`², 64² checks).
    private mutating func separatePlayers() {
        let ids = entities.ids.filter { if case .player = entities[$0] { true } else { false } }
        let diameter = config.playerRadius * 2
        let bounds = (config.playerRadius...(config.pitchWidth - config.playerRadius), config.playerRadius...(config.pitchHeight - config.playerRadius))
        for (position, first) in ids.enumerated() {
            for second in ids[(position + 1)...] {
                guard case .player(var a) = entities[first], case .player(var b) = entities[second] else { continue }
                let offset = b.position - a.position
                guard offset.lengthSquared < diameter * diameter else { continue }
                let push = offset.lengthSquared.raw > 0 ? offset.withLength((diameter - offset.length) / 2) : FixedVector(x: config.playerRadius, y: .zero)
                a.position = Pitch.snapped(FixedVector(x: (a.position.x - push.x).clamped(to: bounds.0), y: (a.position.y - push.y).clamped(to: bounds.1)))
                b.position = Pitch.snapped(FixedVector(x: (b.position.x + push.x).clamped(to: bounds.0), y: (b.position.y + push.y).clamped(to: bounds.1)))
                entities[first] = .player(a)
                entities[second] = .player(b)
            }
        }
    }

    /// A player running into the ball pushes it out of its way, at least as fast as it runs.
    private func dribble(_ ball: inout Ball) {
        let contact = config.playerRadius + config.ballRadius
        entities.forEachLive { _, entity in
            guard case .player(let avatar) = entity else { return }
            let offset = ball.position - avatar.position
            guard offset.lengthSquared < contact * contact else { return }
            let normal = offset.lengthSquared.raw > 0 ? offset.withLength(.one) : FixedVector(x: .one, y: .zero)
            ball.position = avatar.position + normal * contact
            let closing = avatar.velocity.dot(normal) - ball.velocity.dot(normal)
            if closing.raw > 0 { ball.velocity = ball.velocity + normal * closing }
            ball.lastTouch = avatar.player
        }
    }

    /// Rolls the ball, bounces it off the side lines and the end lines beside the goals, and scores.
    private mutating func moveBall(_ ball: inout Ball, _ match: inout Match) {
        ball.velocity = ball.velocity * config.ballRetained
        if ball.velocity.lengthSquared < Fixed(1, over: 64) { ball.velocity = .zero }
        var next = ball.position + ball.velocity
        let radius = config.ballRadius
        let goalTop = (config.pitchHeight - config.goalWidth) / 2, goalBottom = (config.pitchHeight + config.goalWidth) / 2
        let inMouth = next.y > goalTop + radius && next.y < goalBottom - radius
        if next.x < .zero || next.x > config.pitchWidth, inMouth {
            let scoredByRed = next.x > config.pitchWidth
            if scoredByRed { match.red += 1 } else { match.blue += 1 }
            if let scorer = ball.lastTouch, let id = avatars[scorer], case .player(var avatar) = entities[id],
               (avatar.team == 0) == scoredByRed {
                avatar.goals += 1
                entities[id] = .player(avatar)
            }
            match.phase = .kickoff
            match.pauseTicks = config.kickoffPauseTicks
            lineUpForKickoff(&ball)
            return
        }
        if next.y < radius || next.y > config.pitchHeight - radius {
            ball.velocity.y = -ball.velocity.y
            next.y = next.y.clamped(to: radius...(config.pitchHeight - radius))
        }
        if !inMouth, next.x < radius || next.x > config.pitchWidth - radius {
            ball.velocity.x = -ball.velocity.x
            next.x = next.x.clamped(to: radius...(config.pitchWidth - radius))
        }
        // Inside the mouth the ball may cross the line (a goal next tick), but never leave the pitch sideways.
        next.x = next.x.clamped(to: -radius...(config.pitchWidth + radius))
        ball.position = Pitch.snapped(next)
    }

    /// The ball to the centre, still; each team on a line across its own half, in slot order.
    private mutating func lineUpForKickoff(_ ball: inout Ball) {
        ball = Ball(position: Pitch.snapped(FixedVector(x: config.pitchWidth / 2, y: config.pitchHeight / 2)))
        var teamSizes = [0, 0]
        entities.forEachLive { _, entity in if case .player(let avatar) = entity { teamSizes[avatar.team] += 1 } }
        var placed = [0, 0]
        for id in entities.ids {
            guard case .player(var avatar) = entities[id] else { continue }
            let team = avatar.team
            placed[team] += 1
            let x = team == 0 ? config.pitchWidth / 4 : config.pitchWidth * 3 / 4
            let y = config.pitchHeight * placed[team] / (teamSizes[team] + 1)
            avatar.position = Pitch.snapped(FixedVector(x: x, y: y))
            avatar.velocity = .zero
            entities[id] = .player(avatar)
        }
    }

    /// Positions snap to 1/16 unit, what the wire carries.
    static func snapped(_ position: FixedVector) -> FixedVector { position.snapped(toFractionBits: 16 - Int(positionShift)) }

    // MARK: What clients see

    public func entityStates() -> [EntityState] {
        func sixteenths(_ value: Fixed) -> Int64 { min(max(value.raw >> Pitch.positionShift, 0), Pitch.coordinateMax) }
        var states: [EntityState] = []
        states.reserveCapacity(entities.count)
        entities.forEachLive { id, entity in
            switch entity {
            case .player(let avatar):
                states.append(EntityState(id: id, kind: 0, fields: [sixteenths(avatar.position.x), sixteenths(avatar.position.y), Int64(avatar.team),
                                                                    Int64(avatar.player.raw), Int64(min(avatar.goals, 65535))]))
            case .ball(let ball):
                states.append(EntityState(id: id, kind: 1, fields: [sixteenths(ball.position.x), sixteenths(ball.position.y)]))
            case .match(let match):
                let ticksShown = match.phase == .fullTime ? 0 : match.ticksLeft
                states.append(EntityState(id: id, kind: 2, fields: [Int64(min(match.red, 65535)), Int64(min(match.blue, 65535)),
                                                                    Int64(min((ticksShown + 59) / 60, 65535)), match.phase.rawValue,
                                                                    Int64(match.number & 0xFFFF)]))
            }
        }
        return states
    }

    public func viewCenter(of player: PlayerID) -> FixedVector? {
        guard let id = avatars[player], case .player(let avatar) = entities[id] else { return nil }
        return avatar.position
    }

    public func position(of entity: EntityID) -> FixedVector? {
        switch entities[entity] {
        case .player(let avatar): return avatar.position
        case .ball(let ball): return ball.position
        case .match, nil: return nil  // the scoreboard: everyone sees it
        }
    }

    /// The score, the clock and the phase.
    public var scoreboard: (red: Int, blue: Int, ticksLeft: Int, phase: Phase, match: Int) {
        guard case .match(let match) = entities[Pitch.matchID] else { return (0, 0, 0, .kickoff, 0) }
        return (match.red, match.blue, match.ticksLeft, match.phase, match.number)
    }

    /// The team of a player (0 red, 1 blue), if present.
    public func team(of player: PlayerID) -> Int? {
        guard let id = avatars[player], case .player(let avatar) = entities[id] else { return nil }
        return avatar.team
    }

    public func stateHash() -> UInt64 {
        var hasher = StateHasher()
        hasher.combine(UInt64(tick))
        for word in random.stateWords { hasher.combine(word) }
        entities.forEachLive { id, entity in
            hasher.combine(id)
            switch entity {
            case .player(let avatar):
                hasher.combine(UInt64(avatar.player.raw))
                hasher.combine(names[avatar.player] ?? "")
                hasher.combine(Int64(avatar.team))
                hasher.combine(avatar.position)
                hasher.combine(avatar.velocity)
                hasher.combine(UInt64(avatar.nextKickTick))
                hasher.combine(Int64(avatar.goals))
            case .ball(let ball):
                hasher.combine(ball.position)
                hasher.combine(ball.velocity)
                hasher.combine(Int64(ball.lastTouch.map { Int($0.raw) } ?? -1))
            case .match(let match):
                hasher.combine(Int64(match.red))
                hasher.combine(Int64(match.blue))
                hasher.combine(Int64(match.ticksLeft))
                hasher.combine(match.phase.rawValue)
                hasher.combine(Int64(match.pauseTicks))
                hasher.combine(Int64(match.number))
            }
        }
        return hasher.value
    }
}

extension Pitch {
    /// Puts the ball somewhere (tests only; not part of the simulation's inputs).
    mutating func placeBallForTest(at position: FixedVector, velocity: FixedVector = .zero) {
        entities[Pitch.ballID] = .ball(Ball(position: Pitch.snapped(position), velocity: velocity))
    }

    /// Moves a player (tests only).
    mutating func placeForTest(_ player: PlayerID, at position: FixedVector) {
        guard let id = avatars[player], case .player(var avatar) = entities[id] else { return }
        avatar.position = Pitch.snapped(position)
        avatar.velocity = .zero
        entities[id] = .player(avatar)
    }
}
