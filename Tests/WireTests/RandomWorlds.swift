import Engine

/// Random worlds over a two-kind schema (players and projectiles), and random next ticks of them: what the codec
/// tests feed the encoders.
struct RandomWorlds {
    static let schema = EntitySchema(kinds: [
        EntityKind(number: 0, name: "player", fields: [
            EntityField("x", range: 0...(1 << 20), smallDeltaBits: 8), EntityField("y", range: 0...(1 << 20), smallDeltaBits: 8),
            EntityField("health", range: 0...100), EntityField("aim", range: 0...65535, smallDeltaBits: 6),
        ]),
        EntityKind(number: 1, name: "projectile", fields: [
            EntityField("x", range: 0...(1 << 20), smallDeltaBits: 10), EntityField("y", range: 0...(1 << 20), smallDeltaBits: 10),
        ]),
    ])

    private var schema: EntitySchema { Self.schema }

    func randomEntity(index: UInt32, generation: UInt32, random: inout DeterministicRandom) -> EntityState {
        let kind = UInt8(random.nextInt(below: 2))
        let fields = schema.kinds[Int(kind)].fields.map { random.nextFixed(in: Fixed(raw: $0.range.lowerBound)...Fixed(raw: $0.range.upperBound)).raw }
        return EntityState(id: EntityID(index: index, generation: generation), kind: kind, fields: EntityFields(fields))
    }

    func randomWorld(count: Int, random: inout DeterministicRandom) -> [EntityState] {
        var indices = Set<UInt32>()
        while indices.count < count { indices.insert(UInt32(random.nextInt(below: 2000))) }
        return indices.sorted().map { randomEntity(index: $0, generation: UInt32(random.nextInt(below: 3)), random: &random) }
    }

    /// Moves some entities a little, some a lot, removes some, recreates some in place, adds some.
    func mutate(_ world: [EntityState], random: inout DeterministicRandom) -> [EntityState] {
        var next: [EntityState] = []
        for var entity in world {
            switch random.nextInt(below: 10) {
            case 0: continue  // removed
            case 1: next.append(randomEntity(index: entity.id.index, generation: entity.id.generation + 1, random: &random))
            case 2, 3, 4:
                let kind = schema.kinds[Int(entity.kind)]
                for (position, field) in kind.fields.enumerated() where random.nextInt(below: 2) == 0 {
                    let step = Int64(random.nextInt(in: -300...300))
                    entity.fields[position] = min(max(entity.fields[position] + step, field.range.lowerBound), field.range.upperBound)
                }
                next.append(entity)
            default: next.append(entity)  // unchanged
            }
        }
        let used = Set(next.map(\.id.index))
        for _ in 0..<random.nextInt(below: 5) {
            let index = UInt32(random.nextInt(below: 2000))
            if !used.contains(index) && !next.contains(where: { $0.id.index == index }) {
                next.append(randomEntity(index: index, generation: 0, random: &random))
            }
        }
        return next.sorted { $0.id.index < $1.id.index }
    }
}
