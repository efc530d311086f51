import Engine

/// The demo game: a top-down arena larger than one screen, with wall blocks. Players accelerate with
/// WASD, slide to a stop under friction, collide with walls, bounds and each other, aim with the mouse and shoot
/// projectiles with a cooldown. A hit costs 25 health; at zero the player dies, the shooter scores, and the
/// player respawns two seconds later at a random free spot. Deterministic: built only on `Engine`.
public struct Arena: Game {
    public typealias Config = ArenaConfig

    public static let name = "arena"
    public static let version = 1
    public static let inputBitCount = ArenaInput.bitCount

    /// Positions are snapped to 1/16 unit every tick, so snapshots carry them exactly as 16ths.
    static let positionShift: Int64 = 12
    /// Largest coordinate on the wire, in 16ths of a unit: 20 bits, a world up to 65,536 units across.
    public static let coordinateMax: Int64 = (1 << 20) - 1

    /// Entity kinds on the wire: fields are the simulation's values in 16ths of a unit.
    public static let schema = EntitySchema(kinds: [
        EntityKind(number: 0, name: "player", fields: [
            // 11-bit deltas cover ±64 units: about 9 ticks at full speed, so a baseline one round trip old still fits.
            EntityField("x", range: 0...coordinateMax, smallDeltaBits: 11), EntityField("y", range: 0...coordinateMax, smallDeltaBits: 11),
            EntityField("aim", range: 0...65535, smallDeltaBits: 10), EntityField("health", range: 0...255),
            EntityField("score", range: 0...65535), EntityField("alive", range: 0...1), EntityField("player", range: 0...65535),
        ]),
        // Static: position = origin + aim direction × speed × (tick − spawnTick), snapped to 1/16 (`projectilePosition`).
        EntityKind(number: 1, name: "projectile", fields: [
            EntityField("originX", range: 0...coordinateMax), EntityField("originY", range: 0...coordinateMax),
            EntityField("aim", range: 0...65535), EntityField("spawnTick", range: 0...65535),
        ]),
        EntityKind(number: 2, name: "obstacle", fields: [
            EntityField("minX", range: 0...coordinateMax), EntityField("minY", range: 0...coordinateMax),
            EntityField("maxX", range: 0...coordinateMax), EntityField("maxY", range: 0...coordinateMax),
        ]),
    ])

    enum Entity: Hashable {
        case player(ArenaPlayer)
        case projectile(ArenaProjectile)
        case obstacle(ArenaObstacle)
    }

    public let config: ArenaConfig
    public let seed: UInt64
    public internal(set) var tick: UInt32 = 0
    var random: DeterministicRandom
    var entities: EntityStore<Entity>
    var avatars: [PlayerID: EntityID] = [:]
    /// Players' names, apart from their avatars (see `ArenaPlayer`).
    var names: [PlayerID: String] = [:]
    var projectileCount = 0
    var playerGrid: SpatialGrid
    /// Walls never move: kept once, in slot order, with a grid of their centres for nearby lookups.
    var obstacles: [ArenaObstacle] = []
    var obstacleGrid: SpatialGrid
    /// Half the largest wall's side: an obstacle touching a point has its centre within this plus the reach.
    static let obstacleHalfSizeMax: Fixed = 130

    public init(config: ArenaConfig, seed: UInt64) {
        self.config = config
        self.seed = seed
        random = DeterministicRandom(seed: seed)
        entities = EntityStore(capacity: config.obstacleCount + config.playersMax + config.projectilesMax)
        playerGrid = SpatialGrid(width: config.worldWidth, height: config.worldHeight, cellSize: config.playerRadius * 8)
        obstacleGrid = SpatialGrid(width: config.worldWidth, height: config.worldHeight, cellSize: 256)
        placeObstacles()
    }

    public var worldSize: FixedVector { FixedVector(x: config.worldWidth, y: config.worldHeight) }

    // MARK: Joining and leaving

    public mutating func join(_ player: PlayerID, name: String) -> EntityID? {
        guard avatars[player] == nil else { return avatars[player] }
        guard avatars.count < config.playersMax else { return nil }
        let avatar = ArenaPlayer(player: player, position: freeSpawnPoint(), health: config.healthMax)
        guard let id = entities.insert(.player(avatar)) else { return nil }
        avatars[player] = id
        names[player] = name
        return id
    }

    public mutating func leave(_ player: PlayerID) {
        guard let id = avatars.removeValue(forKey: player) else { return }
        names[player] = nil
        entities.remove(id)
    }

    // MARK: The tick

    public mutating func step(inputs: [(player: PlayerID, input: InputBits)]) {
        tick &+= 1
        respawnDeadPlayers()
        for (player, bits) in inputs {
            guard let id = avatars[player], case .player(var avatar) = entities[id] else { continue }
            apply(ArenaInput(bits), to: &avatar)
            entities[id] = .player(avatar)
        }
        movePlayers()
        var living = livingPlayers()
        separatePlayers(&living)
        moveProjectiles(living)
    }

    private mutating func apply(_ input: ArenaInput, to avatar: inout ArenaPlayer) {
        avatar.aim = input.aim
        guard avatar.isAlive else { return }
        let direction = FixedVector.direction(up: input.up, down: input.down, left: input.left, right: input.right)
        avatar.velocity = avatar.velocity.steered(towards: direction, acceleration: config.acceleration, retained: config.velocityRetained,
                                                  speedMax: config.speedMax)
        if input.shoot && tick >= avatar.nextShotTick && projectileCount < config.projectilesMax {
            let muzzle = Arena.snapped(avatar.position + input.aim.direction * (config.playerRadius + config.projectileRadius + 2))
            let shot = ArenaProjectile(owner: avatar.player, origin: muzzle, aim: input.aim, spawnTick: tick,
                                       expiryTick: tick &+ UInt32(config.projectileLifetimeTicks), position: muzzle)
            if entities.insert(.projectile(shot)) != nil {
                projectileCount += 1
                avatar.nextShotTick = tick &+ UInt32(config.shotCooldownTicks)
            }
        }
    }

    private mutating func movePlayers() {
        let (obstacles, obstacleGrid) = (self.obstacles, self.obstacleGrid)
        let reach = FixedVector(x: config.playerRadius + Arena.obstacleHalfSizeMax, y: config.playerRadius + Arena.obstacleHalfSizeMax)
        var nearby: [EntityID] = []
        let radius = config.playerRadius
        let bounds = (radius...(config.worldWidth - radius), radius...(config.worldHeight - radius))
        entities.updateEach { _, entity in
            guard case .player(var avatar) = entity, avatar.isAlive else { return }
            if avatar.velocity.x.raw == 0 && avatar.velocity.y.raw == 0 { return }
            var position = avatar.position + avatar.velocity
            if !bounds.0.contains(position.x) { avatar.velocity.x = .zero }
            if !bounds.1.contains(position.y) { avatar.velocity.y = .zero }
            position = FixedVector(x: position.x.clamped(to: bounds.0), y: position.y.clamped(to: bounds.1))
            // Nearby walls in slot order, so the result is the same as testing every wall in order.
            nearby.removeAll(keepingCapacity: true)
            obstacleGrid.query(center: position, halfExtent: reach, into: &nearby)
            nearby.sort()
            for candidate in nearby { Arena.pushOut(&position, radius: radius, from: obstacles[Int(candidate.index)]) }
            avatar.position = Arena.snapped(position)
            entity = .player(avatar)
        }
    }

    /// Moves a circle out of a block along the shortest way.
    static func pushOut(_ position: inout FixedVector, radius: Fixed, from obstacle: ArenaObstacle) {
        let nearest = obstacle.nearestPoint(to: position)
        let offset = position - nearest
        let distanceSquared = offset.lengthSquared
        guard distanceSquared < radius * radius else { return }
        if distanceSquared.raw > 0 {
            position = nearest + offset.withLength(radius)
            return
        }
        // The centre is inside the block: leave through the nearest side.
        let exits = [(obstacle.minimum.x - radius - position.x, true), (obstacle.maximum.x + radius - position.x, true),
                     (obstacle.minimum.y - radius - position.y, false), (obstacle.maximum.y + radius - position.y, false)]
        let best = exits.min { $0.0.magnitude < $1.0.magnitude }!
        if best.1 { position.x += best.0 } else { position.y += best.0 }
    }

    /// Pushes overlapping players apart, half each, in slot order; `living` is brought up to date with the pushes.
    private mutating func separatePlayers(_ living: inout [(id: EntityID, avatar: ArenaPlayer)]) {
        playerGrid.rebuild(count: living.count) { [living] index in (living[index].id, living[index].avatar.position) }
        let diameter = config.playerRadius * 2
        var neighbours: [EntityID] = []
        for (id, _) in living {
            guard case .player(var avatar) = entities[id] else { continue }
            neighbours.removeAll(keepingCapacity: true)
            playerGrid.query(center: avatar.position, halfExtent: FixedVector(x: diameter, y: diameter), into: &neighbours)
            for other in neighbours where id < other {
                guard case .player(var neighbour) = entities[other] else { continue }
                let offset = neighbour.position - avatar.position
                let distanceSquared = offset.lengthSquared
                guard distanceSquared < diameter * diameter else { continue }
                let push = distanceSquared.raw == 0 ? FixedVector(x: Fixed.half, y: .zero)
                                                    : offset.withLength((diameter - offset.length) / 2)
                avatar.position = Arena.snapped(clampToWorld(avatar.position - push))
                neighbour.position = Arena.snapped(clampToWorld(neighbour.position + push))
                entities[other] = .player(neighbour)
            }
            entities[id] = .player(avatar)
        }
        for index in living.indices {
            if case .player(let avatar) = entities[living[index].id] { living[index].avatar = avatar }
        }
    }

    /// Moves shots and applies hits; `living` is the living players after separation.
    private mutating func moveProjectiles(_ living: [(id: EntityID, avatar: ArenaPlayer)]) {
        let (obstacles, obstacleGrid) = (self.obstacles, self.obstacleGrid)
        let wallReach = FixedVector(x: Arena.obstacleHalfSizeMax, y: Arena.obstacleHalfSizeMax)
        var nearbyWalls: [EntityID] = []
        playerGrid.rebuild(count: living.count) { index in (living[index].id, living[index].avatar.position) }
        let hitDistance = config.playerRadius + config.projectileRadius
        let (worldWidth, worldHeight, tick, grid, speed) = (config.worldWidth, config.worldHeight, self.tick, playerGrid, config.projectileSpeed)
        var spent: [EntityID] = []
        var hits: [(victim: EntityID, shooter: PlayerID)] = []
        var candidates: [EntityID] = []
        entities.updateEach { id, entity in
            guard case .projectile(var shot) = entity else { return }
            shot.position = Arena.projectilePosition(origin: shot.origin, aim: shot.aim, speed: speed, ageTicks: tick &- shot.spawnTick)
            let inside = shot.position.x >= .zero && shot.position.y >= .zero
                && shot.position.x <= worldWidth && shot.position.y <= worldHeight
            nearbyWalls.removeAll(keepingCapacity: true)
            obstacleGrid.query(center: shot.position, halfExtent: wallReach, into: &nearbyWalls)
            if !inside || tick >= shot.expiryTick || nearbyWalls.contains(where: { obstacles[Int($0.index)].contains(shot.position) }) {
                spent.append(id)
                return
            }
            candidates.removeAll(keepingCapacity: true)
            grid.query(center: shot.position, halfExtent: FixedVector(x: hitDistance, y: hitDistance), into: &candidates)
            candidates.sort()  // in place: a sorted copy per projectile was an allocation per projectile per tick
            for candidate in candidates {
                guard let target = living.first(where: { $0.id == candidate }), target.avatar.player != shot.owner,
                      (target.avatar.position - shot.position).lengthSquared < hitDistance * hitDistance else { continue }
                hits.append((candidate, shot.owner))
                spent.append(id)
                return
            }
            entity = .projectile(shot)
        }
        for id in spent {
            entities.remove(id)
            projectileCount -= 1
        }
        for (victim, shooter) in hits {
            guard case .player(var avatar) = entities[victim], avatar.isAlive else { continue }
            avatar.health -= config.projectileDamage
            if avatar.health <= 0 {
                avatar.health = 0
                avatar.deaths += 1
                avatar.velocity = .zero
                avatar.respawnTick = tick &+ UInt32(config.respawnDelayTicks)
                if let shooterID = avatars[shooter], case .player(var scorer) = entities[shooterID] {
                    scorer.score += 1
                    entities[shooterID] = .player(scorer)
                }
            }
            entities[victim] = .player(avatar)
        }
    }

    private mutating func respawnDeadPlayers() {
        var due: [(player: PlayerID, id: EntityID)] = []  // empty on most ticks: no allocation
        for (player, id) in avatars {
            if case .player(let avatar) = entities[id], !avatar.isAlive, tick >= avatar.respawnTick { due.append((player, id)) }
        }
        guard !due.isEmpty else { return }
        for (_, id) in due.sorted(by: { $0.player < $1.player }) {
            guard case .player(var avatar) = entities[id] else { continue }
            avatar.position = freeSpawnPoint()
            avatar.health = config.healthMax
            avatar.respawnTick = 0
            entities[id] = .player(avatar)
        }
    }

    // MARK: Places

    /// The walls' grid, from `obstacles` (whose positions in the array are the ids the grid hands back).
    mutating func rebuildObstacleGrid() {
        obstacleGrid.rebuild(obstacles.enumerated().map { offset, block in
            (id: EntityID(index: UInt32(offset), generation: 0), position: FixedVector(x: (block.minimum.x + block.maximum.x) / 2,
                                                                                       y: (block.minimum.y + block.maximum.y) / 2))
        })
    }

    private mutating func placeObstacles() {
        for _ in 0..<config.obstacleCount {
            let width = random.nextFixed(in: Fixed(60)...(Arena.obstacleHalfSizeMax * 2))
            let height = random.nextFixed(in: Fixed(60)...(Arena.obstacleHalfSizeMax * 2))
            let x = random.nextFixed(in: Fixed(100)...(config.worldWidth - width - 100))
            let y = random.nextFixed(in: Fixed(100)...(config.worldHeight - height - 100))
            let minimum = Arena.snapped(FixedVector(x: x, y: y))
            let block = ArenaObstacle(minimum: minimum, maximum: Arena.snapped(minimum + FixedVector(x: width, y: height)))
            if entities.insert(.obstacle(block)) != nil { obstacles.append(block) }
        }
        rebuildObstacleGrid()
    }

    /// A random point clear of walls and players (best effort after 32 tries). Players are looked up in the grid
    /// the last tick built, so the cost does not grow with the room.
    private mutating func freeSpawnPoint() -> FixedVector {
        let margin = config.playerRadius * 2
        let wallReach = FixedVector(x: margin + Arena.obstacleHalfSizeMax, y: margin + Arena.obstacleHalfSizeMax)
        let playerReach = FixedVector(x: margin * 2 + config.speedMax * 2, y: margin * 2 + config.speedMax * 2)
        var nearby: [EntityID] = []
        var candidate = FixedVector.zero
        for _ in 0..<32 {
            candidate = Arena.snapped(FixedVector(x: random.nextFixed(in: margin...(config.worldWidth - margin)),
                                            y: random.nextFixed(in: margin...(config.worldHeight - margin))))
            nearby.removeAll(keepingCapacity: true)
            obstacleGrid.query(center: candidate, halfExtent: wallReach, into: &nearby)
            let clearOfWalls = nearby.allSatisfy {
                let block = obstacles[Int($0.index)]
                return (block.nearestPoint(to: candidate) - candidate).lengthSquared > margin * margin
            }
            guard clearOfWalls else { continue }
            nearby.removeAll(keepingCapacity: true)
            playerGrid.query(center: candidate, halfExtent: playerReach, into: &nearby)
            let clearOfPlayers = nearby.allSatisfy {
                guard case .player(let other) = entities[$0], other.isAlive else { return true }
                return (other.position - candidate).lengthSquared > margin * margin * 4
            }
            if clearOfPlayers { break }
        }
        return candidate
    }

    private func clampToWorld(_ position: FixedVector) -> FixedVector {
        let radius = config.playerRadius
        return FixedVector(x: position.x.clamped(to: radius...(config.worldWidth - radius)),
                           y: position.y.clamped(to: radius...(config.worldHeight - radius)))
    }

    /// Where a projectile is after `ageTicks`: a pure function of what its snapshot carries, so clients compute
    /// exactly what the server does.
    public static func projectilePosition(origin: FixedVector, aim: BinaryAngle, speed: Fixed, ageTicks: UInt32) -> FixedVector {
        snapped(origin + aim.direction * (speed * Int(ageTicks)))
    }

    /// The position rounded down to the 1/16-unit grid that snapshots carry exactly.
    /// Positions snap to 1/16 unit, what the wire carries.
    static func snapped(_ position: FixedVector) -> FixedVector { position.snapped(toFractionBits: 16 - Int(positionShift)) }

    private func livingPlayers() -> [(id: EntityID, avatar: ArenaPlayer)] {
        var living: [(id: EntityID, avatar: ArenaPlayer)] = []
        living.reserveCapacity(avatars.count)
        entities.forEachLive { id, entity in
            if case .player(let avatar) = entity, avatar.isAlive { living.append((id, avatar)) }
        }
        return living
    }

    // MARK: Views

    public func entityStates() -> [EntityState] {
        func sixteenths(_ value: Fixed) -> Int64 { min(max(value.raw >> Arena.positionShift, 0), Arena.coordinateMax) }
        var states: [EntityState] = []
        states.reserveCapacity(entities.count)
        // Fields set one by one: an array literal would allocate an array per entity per tick.
        entities.forEachLive { id, entity in
            switch entity {
            case .player(let avatar):
                var fields = EntityFields(repeating: 0, count: 7)
                (fields[0], fields[1]) = (sixteenths(avatar.position.x), sixteenths(avatar.position.y))
                (fields[2], fields[3]) = (Int64(avatar.aim.raw), Int64(min(max(avatar.health, 0), 255)))
                (fields[4], fields[5], fields[6]) = (Int64(min(avatar.score, 65535)), avatar.isAlive ? 1 : 0, Int64(avatar.player.raw))
                states.append(EntityState(id: id, kind: 0, fields: fields))
            case .projectile(let shot):
                var fields = EntityFields(repeating: 0, count: 4)
                (fields[0], fields[1], fields[2], fields[3]) = (sixteenths(shot.origin.x), sixteenths(shot.origin.y), Int64(shot.aim.raw),
                                                                Int64(shot.spawnTick & 0xFFFF))
                states.append(EntityState(id: id, kind: 1, fields: fields))
            case .obstacle(let block):
                var fields = EntityFields(repeating: 0, count: 4)
                (fields[0], fields[1], fields[2], fields[3]) = (sixteenths(block.minimum.x), sixteenths(block.minimum.y),
                                                                sixteenths(block.maximum.x), sixteenths(block.maximum.y))
                states.append(EntityState(id: id, kind: 2, fields: fields))
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
        case .projectile(let shot): return shot.position
        case .obstacle(let block): return FixedVector(x: (block.minimum.x + block.maximum.x) / 2, y: (block.minimum.y + block.maximum.y) / 2)
        case nil: return nil
        }
    }

    /// The avatar of a player, if present.
    public func avatar(of player: PlayerID) -> EntityID? { avatars[player] }

    /// A player's name, score and deaths, for scoreboards and replays.
    public func scoreboard() -> [(player: PlayerID, name: String, score: Int, deaths: Int)] {
        avatars.keys.sorted().compactMap { player in
            guard let id = avatars[player], case .player(let avatar) = entities[id] else { return nil }
            return (player, names[player] ?? "", avatar.score, avatar.deaths)
        }
    }

    public func stateHash() -> UInt64 {
        var hasher = StateHasher()
        hasher.combine(UInt64(tick))
        hasher.combine(UInt64(projectileCount))
        entities.forEachLive { id, entity in
            hasher.combine(id)
            switch entity {
            case .player(let avatar):
                hasher.combine(UInt64(avatar.player.raw))
                hasher.combine(names[avatar.player] ?? "")
                hasher.combine(avatar.position)
                hasher.combine(avatar.velocity)
                hasher.combine(UInt64(avatar.aim.raw))
                hasher.combine(Int64(avatar.health))
                hasher.combine(Int64(avatar.score))
                hasher.combine(Int64(avatar.deaths))
                hasher.combine(UInt64(avatar.respawnTick))
                hasher.combine(UInt64(avatar.nextShotTick))
            case .projectile(let shot):
                hasher.combine(UInt64(shot.owner.raw))
                hasher.combine(shot.origin)
                hasher.combine(UInt64(shot.aim.raw))
                hasher.combine(UInt64(shot.spawnTick))
                hasher.combine(shot.position)
                hasher.combine(UInt64(shot.expiryTick))
            case .obstacle(let block):
                hasher.combine(block.minimum)
                hasher.combine(block.maximum)
            }
        }
        return hasher.value
    }
}

extension Arena {
    /// Moves a player's avatar (tests and scenario set-up only; not part of the simulation's inputs).
    mutating func placeForTest(_ player: PlayerID, at position: FixedVector) {
        guard let id = avatars[player], case .player(var avatar) = entities[id] else { return }
        avatar.position = Arena.snapped(position)
        entities[id] = .player(avatar)
    }
}
