import Engine

/// Re-simulates a recording: the same game, seed and settings, fed exactly what the room fed it, tick by tick.
public struct Replayer<G: Game> {
    public let recording: Recording
    public private(set) var game: G
    /// How many recorded ticks have been applied.
    public private(set) var ticksApplied = 0

    public init(recording: Recording) throws(RecordingError) {
        guard let config = G.decodeConfig(recording.header.config) else { throw .badConfig }
        self.recording = recording
        game = G(config: config, seed: recording.header.seed)
    }

    /// Applies the next recorded tick; returns its record and the hash the re-simulation produced, nil at the end.
    public mutating func step() -> (record: TickRecord, simulatedHash: UInt64)? {
        guard ticksApplied < recording.ticks.count else { return nil }
        let record = recording.ticks[ticksApplied]
        for player in record.leaves { game.leave(player) }
        for join in record.joins { _ = game.join(join.player, name: join.name) }
        game.step(inputs: record.inputs)
        ticksApplied += 1
        return (record, game.stateHash())
    }

    /// Re-simulates forward up to and including `tick`.
    public mutating func advance(to tick: UInt32) {
        while game.tick < tick, step() != nil {}
    }

    /// Goes to `tick`, forward or back: restores the nearest keyframe at or before it that is ahead of where the
    /// replay stands (or any, to go back) and re-simulates the rest, at most one keyframe interval. A keyframe that
    /// does not restore to its recorded hash is skipped. Returns the keyframe tick it restored, if any.
    @discardableResult
    public mutating func seek(to tick: UInt32) -> UInt32? {
        let restoredTick = restoreKeyframe(atOrBefore: tick)
        advance(to: tick)
        return restoredTick
    }

    /// The first half of `seek`: restores the best keyframe for reaching `tick` (going back to the start first if
    /// `tick` is behind), without stepping further. Returns the keyframe tick it restored, if any.
    @discardableResult
    public mutating func restoreKeyframe(atOrBefore tick: UInt32) -> UInt32? {
        var restoredTick: UInt32?
        if tick < game.tick { restart() }
        if let first = recording.ticks.first?.tick, let config = G.decodeConfig(recording.header.config) {
            for keyframe in recording.keyframes.reversed() where keyframe.tick <= tick && keyframe.tick > game.tick && !keyframe.state.isEmpty {
                let index = Int(keyframe.tick &- first)
                guard keyframe.tick >= first, index < recording.ticks.count, recording.ticks[index].tick == keyframe.tick,
                      let restored = G.restore(state: keyframe.state, config: config), restored.tick == keyframe.tick,
                      restored.stateHash() == keyframe.stateHash else { continue }
                game = restored
                ticksApplied = index + 1
                restoredTick = keyframe.tick
                break
            }
        }
        return restoredTick
    }

    /// Back to the world the recording started from.
    private mutating func restart() {
        if let config = G.decodeConfig(recording.header.config) { game = G(config: config, seed: recording.header.seed) }
        ticksApplied = 0
    }

    /// The outcome of `verify`.
    public struct Divergence: Sendable {
        public var tick: UInt32
        public var recordedHash: UInt64
        public var simulatedHash: UInt64
        /// The first keyframe at or after the divergence, where the worlds are compared field by field.
        public var comparedAtTick: UInt32?
        public var differences: [String]
    }

    /// Re-simulates every tick and compares hashes. Returns the first divergence with a field-level diff of the
    /// world (recorded keyframe against re-simulation) at the first keyframe at or after it; nil if all match.
    public static func verify(_ recording: Recording) throws(RecordingError) -> Divergence? {
        var replayer = try Replayer(recording: recording)
        while let (record, hash) = replayer.step() {
            guard hash != record.stateHash else { continue }
            var divergence = Divergence(tick: record.tick, recordedHash: record.stateHash, simulatedHash: hash, comparedAtTick: nil, differences: [])
            if let keyframe = recording.keyframes.first(where: { $0.tick >= record.tick }) {
                replayer.advance(to: keyframe.tick)
                if replayer.game.tick == keyframe.tick {
                    divergence.comparedAtTick = keyframe.tick
                    divergence.differences = WorldDiff.differences(recorded: keyframe.entities, simulated: replayer.game.entityStates(),
                                                                   schema: G.schema)
                }
            }
            return divergence
        }
        return nil
    }
}

/// Field-level differences between two worlds as snapshots show them.
public enum WorldDiff {
    /// One line per difference: an entity only on one side, or a field whose values differ. At most `limit` lines.
    public static func differences(recorded: [EntityState], simulated: [EntityState], schema: EntitySchema, limit: Int = 40) -> [String] {
        var lines: [String] = []
        let byIndex = Dictionary(simulated.map { ($0.id.index, $0) }, uniquingKeysWith: { first, _ in first })
        let recordedIndices = Set(recorded.map(\.id.index))
        func name(_ entity: EntityState) -> String {
            let kind = Int(entity.kind) < schema.kinds.count ? schema.kinds[Int(entity.kind)].name : "kind \(entity.kind)"
            return "\(kind) \(entity.id.index).\(entity.id.generation)"
        }
        for entity in recorded {
            guard let other = byIndex[entity.id.index] else {
                lines.append("\(name(entity)): in the recording, missing from the re-simulation")
                continue
            }
            if other.id.generation != entity.id.generation || other.kind != entity.kind {
                lines.append("\(name(entity)): the re-simulation has \(name(other)) in that slot")
                continue
            }
            let fields = Int(entity.kind) < schema.kinds.count ? schema.kinds[Int(entity.kind)].fields : []
            for position in 0..<min(entity.fields.count, other.fields.count) where entity.fields[position] != other.fields[position] {
                let field = position < fields.count ? fields[position].name : "field \(position)"
                lines.append("\(name(entity)) \(field): recorded \(entity.fields[position]), re-simulated \(other.fields[position])")
            }
        }
        for entity in simulated where !recordedIndices.contains(entity.id.index) {
            lines.append("\(name(entity)): only in the re-simulation")
        }
        return lines.count > limit ? Array(lines.prefix(limit)) + ["… \(lines.count - limit) more"] : lines
    }

    /// The world as JSON: tick, hash, and every entity with its named fields.
    public static func json(tick: UInt32, stateHash: UInt64, entities: [EntityState], schema: EntitySchema) -> String {
        var text = "{\n  \"tick\": \(tick),\n  \"stateHash\": \"\(String(stateHash, radix: 16))\",\n  \"entities\": ["
        for (position, entity) in entities.enumerated() {
            let kind = Int(entity.kind) < schema.kinds.count ? schema.kinds[Int(entity.kind)] : nil
            let fields = entity.fields.enumerated().map { index, value in
                "\"\(kind.map { index < $0.fields.count ? $0.fields[index].name : "f\(index)" } ?? "f\(index)")\": \(value)"
            }.joined(separator: ", ")
            text += position == 0 ? "\n" : ",\n"
            text += "    {\"index\": \(entity.id.index), \"generation\": \(entity.id.generation), \"kind\": \"\(kind?.name ?? String(entity.kind))\""
            text += fields.isEmpty ? "}" : ", \(fields)}"
        }
        return text + "\n  ]\n}\n"
    }
}
