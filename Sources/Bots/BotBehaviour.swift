import Arena
import Engine

/// What a bot does with its buttons. Choices follow from the bot's own seeded generator, so a swarm is repeatable.
public enum BotBehaviour: String, CaseIterable, Sendable {
    /// Stands still (still sends inputs and acknowledgements every tick).
    case idle
    /// Random buttons and aim for 0.3-0.7 s at a time; shoots half the time.
    case wander
    /// Moves at random and fires all the time.
    case shooter
    /// Runs at the nearest player it sees and shoots at it.
    case chaser
    /// Wanders, and says something in chat every few seconds.
    case chatty

    /// The input for this tick, given what the bot last saw.
    func input(tick: UInt32, me: PlayerID?, entities: [EntityState], random: inout DeterministicRandom,
               held: inout (input: ArenaInput, untilTick: UInt32)) -> ArenaInput {
        switch self {
        case .idle:
            return ArenaInput()
        case .wander, .shooter, .chatty:
            if tick >= held.untilTick {
                held.input = ArenaInput(up: random.nextInt(below: 3) == 0, down: random.nextInt(below: 3) == 0,
                                        left: random.nextInt(below: 3) == 0, right: random.nextInt(below: 3) == 0,
                                        shoot: random.nextInt(below: 2) == 0, aim: BinaryAngle(raw: UInt16(random.nextInt(below: 65536))))
                held.untilTick = tick + UInt32(random.nextInt(in: 18...42))
            }
            var input = held.input
            if self == .shooter { input.shoot = true }
            return input
        case .chaser:
            guard let me, let own = entities.first(where: { $0.kind == 0 && $0.fields[6] == Int64(me.raw) }) else { return ArenaInput() }
            let others = entities.filter { $0.kind == 0 && $0.fields[6] != Int64(me.raw) && $0.fields[5] == 1 }
            guard let target = others.min(by: { distanceSquared($0, own) < distanceSquared($1, own) }) else {
                return BotBehaviour.wander.input(tick: tick, me: me, entities: entities, random: &random, held: &held)
            }
            let dx = target.fields[0] - own.fields[0], dy = target.fields[1] - own.fields[1]
            let angle = atan2Raw(dy: dy, dx: dx)
            return ArenaInput(up: dy < -64, down: dy > 64, left: dx < -64, right: dx > 64, shoot: true, aim: BinaryAngle(raw: angle))
        }
    }

    private func distanceSquared(_ a: EntityState, _ b: EntityState) -> Int64 {
        let dx = a.fields[0] - b.fields[0], dy = a.fields[1] - b.fields[1]
        return dx * dx + dy * dy
    }

    /// A 16-bit binary angle for (dx, dy), to within a few steps (integer only: bots need no precision).
    private func atan2Raw(dy: Int64, dx: Int64) -> UInt16 {
        var best: UInt16 = 0
        var bestScore = Int64.min
        for step in stride(from: 0, to: 65536, by: 512) {
            let direction = BinaryAngle(raw: UInt16(step)).direction
            let score = (direction.x.raw * dx + direction.y.raw * dy) >> 16
            if score > bestScore { bestScore = score; best = UInt16(step) }
        }
        return best
    }
}
