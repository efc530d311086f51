import Engine

/// Deterministic scripted players for tests, benchmarks and bots: each holds a random set of buttons and an aim
/// for 20-40 ticks, then picks new ones, shooting about half the time.
public struct ArenaScript: Sendable {
    private var random: DeterministicRandom
    private var held: [PlayerID: (input: ArenaInput, untilTick: UInt32)] = [:]

    /// A script whose choices follow from `seed`.
    public init(seed: UInt64) { random = DeterministicRandom(seed: seed) }

    /// The input of `player` at `tick`.
    public mutating func input(for player: PlayerID, tick: UInt32) -> ArenaInput {
        if let current = held[player], current.untilTick > tick { return current.input }
        let input = ArenaInput(up: random.nextInt(below: 3) == 0, down: random.nextInt(below: 3) == 0,
                               left: random.nextInt(below: 3) == 0, right: random.nextInt(below: 3) == 0,
                               shoot: random.nextInt(below: 2) == 0, aim: BinaryAngle(raw: UInt16(random.nextInt(below: 65536))))
        held[player] = (input, tick + UInt32(random.nextInt(in: 20...40)))
        return input
    }

    /// Inputs for `players` at `tick`, in the order given.
    public mutating func inputs(for players: [PlayerID], tick: UInt32) -> [(player: PlayerID, input: InputBits)] {
        players.map { ($0, input(for: $0, tick: tick).bits) }
    }
}
