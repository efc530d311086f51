import Engine

/// Arena's whole state as bytes, for recordings' keyframes: the tick, the random generator, and every entity slot
/// (with generations and the free list). What is derived from those (the avatar map, the projectile count, the
/// walls and both grids) is rebuilt on restore, exactly as the tick would see it.
extension Arena {
    static let stateVersion: UInt64 = 1

    public func encodeState() -> [UInt8] {
        var writer = StateWriter()
        writer.writeHeader(version: Arena.stateVersion, seed: seed, tick: tick, random: random)
        entities.write(to: &writer) { entity, writer in
            switch entity {
            case .player(let avatar):
                writer.write(UInt64(0))
                writer.write(UInt64(avatar.player.raw))
                writer.write(names[avatar.player] ?? "")
                writer.write(avatar.position)
                writer.write(avatar.velocity)
                writer.write(UInt64(avatar.aim.raw))
                writer.write(avatar.health)
                writer.write(avatar.score)
                writer.write(avatar.deaths)
                writer.write(avatar.respawnTick)
                writer.write(avatar.nextShotTick)
            case .projectile(let shot):
                writer.write(UInt64(1))
                writer.write(UInt64(shot.owner.raw))
                writer.write(shot.origin)
                writer.write(UInt64(shot.aim.raw))
                writer.write(shot.spawnTick)
                writer.write(shot.expiryTick)
                writer.write(shot.position)
            case .obstacle(let block):
                writer.write(UInt64(2))
                writer.write(block.minimum)
                writer.write(block.maximum)
            }
        }
        return writer.bytes
    }

    public static func restore(state: [UInt8], config: ArenaConfig) -> Arena? {
        var reader = StateReader(state)
        guard let (seed, tick, random) = reader.readHeader(version: stateVersion) else { return nil }
        let capacity = config.obstacleCount + config.playersMax + config.projectilesMax
        var names: [PlayerID: String] = [:]
        guard let entities = EntityStore<Entity>(from: &reader, capacity: capacity, value: { reader in
            guard let (entity, name) = Arena.readEntity(&reader) else { return nil }
            if case .player(let avatar) = entity { names[avatar.player] = name }
            return entity
        }), reader.isAtEnd else { return nil }
        var arena = Arena(config: config, seed: seed)
        arena.tick = tick
        arena.random = random
        arena.entities = entities
        arena.avatars = [:]
        arena.names = names
        arena.projectileCount = 0
        arena.obstacles = []
        var living: [(id: EntityID, position: FixedVector)] = []
        // A state the game could have reached: everything inside the world (a crafted file could place things
        // anywhere; the tick and the snapshot fields assume this).
        func inWorld(_ point: FixedVector) -> Bool {
            point.x.raw >= 0 && point.y.raw >= 0 && point.x <= config.worldWidth && point.y <= config.worldHeight
        }
        for id in entities.ids {
            switch entities[id] {
            case .player(let avatar):
                guard inWorld(avatar.position), (0...config.healthMax).contains(avatar.health) || !avatar.isAlive else { return nil }
                guard arena.avatars[avatar.player] == nil else { return nil }
                arena.avatars[avatar.player] = id
                if avatar.isAlive { living.append((id, avatar.position)) }
            case .projectile(let shot):
                guard inWorld(shot.origin) else { return nil }
                arena.projectileCount += 1
            case .obstacle(let block):
                guard inWorld(block.minimum), inWorld(block.maximum) else { return nil }
                arena.obstacles.append(block)
            case nil:
                break
            }
        }
        arena.rebuildObstacleGrid()
        // The tick rebuilds this grid before it moves projectiles; a restore at a tick's end does the same (players
        // killed since are skipped by every lookup, so leaving them out changes nothing).
        arena.playerGrid.rebuild(living)
        return arena
    }

    /// An entity, and the name when it is a player's avatar.
    private static func readEntity(_ reader: inout StateReader) -> (Entity, name: String)? {
        guard let kind = reader.readUInt64() else { return nil }
        func player() -> PlayerID? { reader.readInt(in: 0...Int(UInt16.max)).map { PlayerID(raw: UInt16($0)) } }
        func angle() -> BinaryAngle? { reader.readInt(in: 0...Int(UInt16.max)).map { BinaryAngle(raw: UInt16($0)) } }
        switch kind {
        case 0:
            guard let owner = player(), let name = reader.readString(maxBytes: 256), let position = reader.readVector(),
                  let velocity = reader.readVector(), let aim = angle(), let health = reader.readInt(in: Int(Int32.min)...Int(Int32.max)),
                  let score = reader.readInt(in: 0...Int(Int32.max)), let deaths = reader.readInt(in: 0...Int(Int32.max)),
                  let respawnTick = reader.readUInt32(), let nextShotTick = reader.readUInt32() else { return nil }
            return (.player(ArenaPlayer(player: owner, position: position, velocity: velocity, aim: aim, health: health,
                                        score: score, deaths: deaths, respawnTick: respawnTick, nextShotTick: nextShotTick)), name)
        case 1:
            guard let owner = player(), let origin = reader.readVector(), let aim = angle(), let spawnTick = reader.readUInt32(),
                  let expiryTick = reader.readUInt32(), let position = reader.readVector() else { return nil }
            return (.projectile(ArenaProjectile(owner: owner, origin: origin, aim: aim, spawnTick: spawnTick, expiryTick: expiryTick,
                                                position: position)), "")
        case 2:
            guard let minimum = reader.readVector(), let maximum = reader.readVector() else { return nil }
            return (.obstacle(ArenaObstacle(minimum: minimum, maximum: maximum)), "")
        default:
            return nil
        }
    }
}
