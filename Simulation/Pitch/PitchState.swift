import Engine

/// Pitch's whole state as bytes, for recordings' keyframes: the tick, the random generator, and every entity slot
/// (players, the ball, the match). The avatar map is rebuilt on restore. A restore checks what the rules rely on
/// (one ball and one match in their slots, everything on the pitch, teams and phases that exist), since a recording
/// is untrusted.
extension Pitch {
    static let stateVersion: UInt64 = 1

    public func encodeState() -> [UInt8] {
        var writer = StateWriter()
        writer.writeHeader(version: Pitch.stateVersion, seed: seed, tick: tick, random: random)
        entities.write(to: &writer) { entity, writer in
            switch entity {
            case .player(let avatar):
                writer.write(UInt64(0))
                writer.write(UInt64(avatar.player.raw))
                writer.write(names[avatar.player] ?? "")
                writer.write(avatar.team)
                writer.write(avatar.position)
                writer.write(avatar.velocity)
                writer.write(avatar.nextKickTick)
                writer.write(avatar.goals)
            case .ball(let ball):
                writer.write(UInt64(1))
                writer.write(ball.position)
                writer.write(ball.velocity)
                writer.write(ball.lastTouch.map { Int($0.raw) } ?? -1)
            case .match(let match):
                writer.write(UInt64(2))
                writer.write(match.red)
                writer.write(match.blue)
                writer.write(match.ticksLeft)
                writer.write(Int(match.phase.rawValue))
                writer.write(match.pauseTicks)
                writer.write(match.number)
            }
        }
        return writer.bytes
    }

    public static func restore(state: [UInt8], config: PitchConfig) -> Pitch? {
        var reader = StateReader(state)
        guard let (seed, tick, random) = reader.readHeader(version: stateVersion) else { return nil }
        var names: [PlayerID: String] = [:]
        let speedLimit = Fixed(1024)
        func onPitch(_ point: FixedVector, margin: Fixed = .zero) -> Bool {
            point.x >= -margin && point.y >= -margin && point.x <= config.pitchWidth + margin && point.y <= config.pitchHeight + margin
        }
        func plausible(_ velocity: FixedVector) -> Bool { velocity.x.magnitude <= speedLimit && velocity.y.magnitude <= speedLimit }
        guard let entities = EntityStore<Entity>(from: &reader, capacity: config.playersMax + 2, value: { reader in
            guard let kind = reader.readUInt64() else { return nil }
            switch kind {
            case 0:
                guard let raw = reader.readInt(in: 0...65535), let name = reader.readString(maxBytes: 256), let team = reader.readInt(in: 0...1),
                      let position = reader.readVector(), let velocity = reader.readVector(), let nextKick = reader.readUInt32(),
                      let goals = reader.readInt(in: 0...Int(Int32.max)), onPitch(position), plausible(velocity) else { return nil }
                let player = PlayerID(raw: UInt16(raw))
                names[player] = name
                return .player(Player(player: player, team: team, position: position, velocity: velocity, nextKickTick: nextKick, goals: goals))
            case 1:
                guard let position = reader.readVector(), let velocity = reader.readVector(), let touch = reader.readInt(in: -1...65535),
                      onPitch(position, margin: config.ballRadius), plausible(velocity) else { return nil }
                return .ball(Ball(position: position, velocity: velocity, lastTouch: touch < 0 ? nil : PlayerID(raw: UInt16(touch))))
            case 2:
                guard let red = reader.readInt(in: 0...Int(Int32.max)), let blue = reader.readInt(in: 0...Int(Int32.max)),
                      let ticksLeft = reader.readInt(in: 0...config.matchTicks), let phaseRaw = reader.readInt(in: 0...2),
                      let phase = Phase(rawValue: Int64(phaseRaw)), let pause = reader.readInt(in: 0...max(config.endPauseTicks, config.kickoffPauseTicks)),
                      let number = reader.readInt(in: 1...Int(Int32.max)) else { return nil }
                return .match(Match(red: red, blue: blue, ticksLeft: ticksLeft, phase: phase, pauseTicks: pause, number: number))
            default:
                return nil
            }
        }), reader.isAtEnd else { return nil }
        guard case .ball = entities[ballID], case .match = entities[matchID] else { return nil }
        var pitch = Pitch(config: config, seed: seed)
        pitch.tick = tick
        pitch.random = random
        pitch.entities = entities
        pitch.avatars = [:]
        for id in entities.ids {
            switch entities[id] {
            case .player(let avatar):
                guard pitch.avatars[avatar.player] == nil else { return nil }
                pitch.avatars[avatar.player] = id
            case .ball where id != ballID, .match where id != matchID:
                return nil  // a second ball or scoreboard
            default:
                break
            }
        }
        pitch.names = names.filter { pitch.avatars[$0.key] != nil }
        return pitch
    }
}
