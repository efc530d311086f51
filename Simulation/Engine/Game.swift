/// A player in a room: a small number the room assigns, stable for the player's session.
public struct PlayerID: Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The number (0 is never assigned).
    public var raw: UInt16
    @inlinable public init(raw: UInt16) { self.raw = raw }
    public static func < (a: PlayerID, b: PlayerID) -> Bool { a.raw < b.raw }
    public var description: String { "player \(raw)" }
}

/// One player's input for one tick, as a fixed number of bits the game defines (buttons, aim). Games pack and
/// unpack their own meaning; the engine, the wire and recordings only move bits.
public struct InputBits: Hashable, Sendable {
    /// The packed bits (only the game's `inputBitCount` low bits are used).
    public var raw: UInt64
    @inlinable public init(raw: UInt64) { self.raw = raw }
    /// No buttons, no aim: what a player who sent nothing yet does.
    public static let neutral = InputBits(raw: 0)
}

/// One field of an entity kind, as snapshots carry it: an integer in `range` (the simulation's own fixed-point
/// units, quantised by the game), with `smallDeltaBits` for the common case of a small change.
public struct EntityField: Hashable, Sendable {
    /// A name for dumps and docs.
    public var name: String
    /// Every value the field can take: within `EntityFields.valueRange` (32 bits).
    public var range: ClosedRange<Int64>
    /// A change within ±2^(smallDeltaBits-1) is sent as a delta in this many bits (0: always absolute).
    public var smallDeltaBits: Int

    public init(_ name: String, range: ClosedRange<Int64>, smallDeltaBits: Int = 0) {
        precondition(smallDeltaBits >= 0 && smallDeltaBits < 32)
        precondition(EntityFields.valueRange.contains(range.lowerBound) && EntityFields.valueRange.contains(range.upperBound),
                     "a field's range fits 32 bits")
        self.name = name
        self.range = range
        self.smallDeltaBits = smallDeltaBits
    }
}

/// An entity kind: its number on the wire, its name and its fields, in order.
public struct EntityKind: Hashable, Sendable {
    public var number: UInt8
    public var name: String
    public var fields: [EntityField]
    public init(number: UInt8, name: String, fields: [EntityField]) {
        self.number = number
        self.name = name
        self.fields = fields
    }
}

/// The shape of every entity a game shows: the table the snapshot codec is driven by.
public struct EntitySchema: Hashable, Sendable {
    /// Kinds by number (numbers are 0..<kinds.count).
    public var kinds: [EntityKind]
    public init(kinds: [EntityKind]) {
        precondition(kinds.enumerated().allSatisfy { Int($0.element.number) == $0.offset }, "kinds are numbered 0, 1, 2, …")
        precondition(kinds.allSatisfy { $0.fields.count <= EntityFields.capacity }, "at most \(EntityFields.capacity) fields a kind")
        self.kinds = kinds
    }
    /// The most fields any kind has.
    public var fieldCountMax: Int { kinds.map(\.fields.count).max() ?? 0 }
}

/// One entity as a snapshot shows it: its id, kind, and quantised field values in schema order.
public struct EntityState: Hashable, Sendable {
    public var id: EntityID
    public var kind: UInt8
    public var fields: EntityFields
    public init(id: EntityID, kind: UInt8, fields: EntityFields) {
        self.id = id
        self.kind = kind
        self.fields = fields
    }
}

/// What every game implements. The simulation is a deterministic function of (config, seed, the joins,
/// leaves and inputs of each tick): no clocks, no I/O, no unseeded randomness, no floating point. That is what
/// lets the server be authoritative and `tickwire replay` re-run a session bit for bit.
public protocol Game {
    /// The game's settings (world size, rules), fixed for a session.
    associatedtype Config: Sendable

    /// A short name, e.g. "arena"; recordings refuse a different game.
    static var name: String { get }
    /// Bumped whenever a change alters the simulation; recordings refuse another version.
    static var version: Int { get }
    /// How many bits of `InputBits` the game uses.
    static var inputBitCount: Int { get }
    /// The entity kinds snapshots carry.
    static var schema: EntitySchema { get }

    /// A new world.
    init(config: Config, seed: UInt64)
    /// The settings and seed the world was made with (a recording stores both to re-create it).
    var config: Config { get }
    var seed: UInt64 { get }
    /// The settings as bytes, for recordings.
    static func encodeConfig(_ config: Config) -> [UInt8]
    /// Settings back from `encodeConfig`'s bytes; nil for bytes that are not a valid configuration (a recording is
    /// untrusted input: refuse sizes that would need unbounded memory).
    static func decodeConfig(_ bytes: [UInt8]) -> Config?
    /// The whole state (everything `step` reads), for a recording's keyframes: restored with `restore`, the world
    /// continues exactly as the original did.
    func encodeState() -> [UInt8]
    /// A world from `encodeState`'s bytes with this configuration; nil for bytes that are not one (untrusted input).
    static func restore(state: [UInt8], config: Config) -> Self?

    /// Adds a player (applied at a tick boundary); nil if the world is full.
    mutating func join(_ player: PlayerID, name: String) -> EntityID?
    /// Removes a player and whatever it owns.
    mutating func leave(_ player: PlayerID)
    /// Advances one tick with every present player's input, in player order.
    mutating func step(inputs: [(player: PlayerID, input: InputBits)])

    /// The tick count since the start.
    var tick: UInt32 { get }
    /// The world's size in the simulation's units.
    var worldSize: FixedVector { get }
    /// Every entity, in id order, as snapshots show them.
    func entityStates() -> [EntityState]
    /// Where a player's view is centred (its avatar), for interest management; nil if it has none now.
    func viewCenter(of player: PlayerID) -> FixedVector?
    /// The position of an entity, for interest management.
    func position(of entity: EntityID) -> FixedVector?
    /// A hash of the whole state, to detect divergence.
    func stateHash() -> UInt64
}
