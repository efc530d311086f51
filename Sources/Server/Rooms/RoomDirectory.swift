import Replay
import Reactor
import Synchronization

/// A room as the server hosts it, whatever its game. Every method is called on the room's own loop.
public protocol HostedRoom: AnyObject {
    /// The room was just created: start it on `loop` (its tick, its deadlines). Called once, before any `attach`
    /// reaches it, so a room whose first client never arrives still closes.
    func open(on loop: EventLoop)
    /// A client whose upgrade succeeded joins the room's connection list, on the room's `loop` (the first attach
    /// starts the room's tick there); `leftover` are bytes that came with the upgrade.
    func attach(_ channel: WebSocketChannel, spectator: Bool, leftover: [UInt8], on loop: EventLoop)
    /// Server shutdown: tell every client why and close them with 1001.
    func drain()
}

/// What `/rooms` reports about a room (published by the room about once a second).
public struct RoomSummary: Sendable, Equatable {
    public var id: String
    public var loopIndex: Int
    public var players: Int
    public var spectators: Int
    public var tickRateHz: Int
    public var tick: UInt32
    public var tickLatenessUsP99: Double
    public var tickDurationUsP99: Double
    public var snapshotsSkipped: Int
    public var inputsDropped: Int
    /// Ticks simulated without snapshots because the room was two whole periods behind.
    public var catchUpTicks = 0
    public var decodeErrors = 0
    public var ticksTotal = 0
    public var tickDuration = Histogram()
    public var tickLateness = Histogram()
}

/// Sums over every room, closed ones included (counters never go backwards).
struct RoomTotals {
    var rooms = 0, players = 0, spectators = 0
    var ticks = 0, snapshotsSkipped = 0, inputsDropped = 0, catchUpTicks = 0, decodeErrors = 0
    var tickDuration = Histogram(), tickLateness = Histogram()

    mutating func addCounters(of summary: RoomSummary) {
        ticks += summary.ticksTotal
        snapshotsSkipped += summary.snapshotsSkipped
        inputsDropped += summary.inputsDropped
        catchUpTicks += summary.catchUpTicks
        decodeErrors += summary.decodeErrors
        tickDuration.merge(summary.tickDuration)
        tickLateness.merge(summary.tickLateness)
    }
}

/// What a new room gets from the server.
public struct RoomContext: Sendable {
    /// The room's id (from `/rooms/{id}`).
    public let id: String
    /// Where the room publishes its figures and removes itself when it closes.
    public let directory: RoomDirectory
    public let logger: Logger
    /// The server's settings for rooms.
    public let settings: RoomSettings
    public let limits: RoomLimits
    /// Tell the server whenever one of the room's connections ends, with its close code.
    public let connectionClosed: @Sendable (UInt16) -> Void
    /// Where the room counts the defences it applies (kicks, dropped messages).
    public var defences = DefenceCounters()
    /// Logs (rate-limited) and counts a client the room or its channel failed.
    public var violationLogger: ChannelViolationLogger? = nil
    /// Where to record the session, and the keyframe interval; nil: not recorded.
    public var recordingSink: RecordingSink? = nil
    public var keyframeEveryTicks = 300

    /// A context for a room of `id`.
    public init(id: String, directory: RoomDirectory, logger: Logger, settings: RoomSettings, limits: RoomLimits,
                connectionClosed: @escaping @Sendable (UInt16) -> Void, defences: DefenceCounters = DefenceCounters(),
                violationLogger: ChannelViolationLogger? = nil, recordingSink: RecordingSink? = nil, keyframeEveryTicks: Int = 300) {
        self.id = id
        self.directory = directory
        self.logger = logger
        self.settings = settings
        self.limits = limits
        self.connectionClosed = connectionClosed
        self.defences = defences
        self.violationLogger = violationLogger
        self.recordingSink = recordingSink
        self.keyframeEveryTicks = keyframeEveryTicks
    }
}

/// Creates rooms for the server: the game is the executable's choice, so `Server` never imports a game.
public struct RoomHosting: Sendable {
    /// Makes a room (on any thread; it starts on its loop at its first client).
    public let makeRoom: @Sendable (RoomContext) -> HostedRoom
    public init(makeRoom: @escaping @Sendable (RoomContext) -> HostedRoom) {
        self.makeRoom = makeRoom
    }
}

/// Which rooms exist and on which loop each lives. Loops consult it only when a client asks for a room, and rooms
/// publish their summaries into it: never on the per-tick path.
public final class RoomDirectory: Sendable {
    private struct Entry {
        var loopIndex: Int
        var room: UncheckedRoom
        var summary: RoomSummary
    }

    private let entries = Mutex<[String: Entry]>([:])
    private let retired = Mutex(RoomTotals())
    private let loopCount: Int
    /// Rooms at most; joining another one is refused with 503.
    public let roomsMax: Int

    init(loopCount: Int, roomsMax: Int) {
        self.loopCount = loopCount
        self.roomsMax = roomsMax
    }

    /// What `findOrCreate` found.
    enum Lookup {
        /// The room and its loop; `created` when this call made it (the caller opens it on its loop).
        case found(loopIndex: Int, room: UncheckedRoom, created: Bool)
        /// It did not exist and could not be made: `roomsMax`, or the creator's budget (`mayCreate`).
        case refused(RejectionReason)
    }

    /// The room `id` and its loop, created (on the loop with the fewest rooms) if it does not exist, `roomsMax`
    /// allows, and `mayCreate` (asked only then) returns no reason to refuse.
    func findOrCreate(_ id: String, mayCreate: () -> RejectionReason? = { nil }, make: () -> HostedRoom) -> Lookup {
        entries.withLock { entries in
            if let entry = entries[id] { return .found(loopIndex: entry.loopIndex, room: entry.room, created: false) }
            guard entries.count < roomsMax else { return .refused(.roomsMax) }
            if let reason = mayCreate() { return .refused(reason) }
            var perLoop = [Int](repeating: 0, count: loopCount)
            for entry in entries.values { perLoop[entry.loopIndex] += 1 }
            let loopIndex = perLoop.indices.min { perLoop[$0] < perLoop[$1] } ?? 0
            let room = UncheckedRoom(make())
            entries[id] = Entry(loopIndex: loopIndex, room: room,
                                summary: RoomSummary(id: id, loopIndex: loopIndex, players: 0, spectators: 0, tickRateHz: 0, tick: 0,
                                                     tickLatenessUsP99: 0, tickDurationUsP99: 0, snapshotsSkipped: 0, inputsDropped: 0))
            return .found(loopIndex: loopIndex, room: room, created: true)
        }
    }

    /// A room closed (it had been empty long enough).
    public func remove(_ id: String, room: HostedRoom, final summary: RoomSummary) {
        let removed = entries.withLock { entries -> Bool in
            guard entries[id]?.room.value === room else { return false }
            entries[id] = nil
            return true
        }
        if removed { retired.withLock { $0.addCounters(of: summary) } }
    }

    /// Totals for /metrics.
    func totals() -> RoomTotals {
        let live = summaries()
        var totals = retired.withLock { $0 }
        totals.rooms = live.count
        for summary in live {
            totals.players += summary.players
            totals.spectators += summary.spectators
            totals.addCounters(of: summary)
        }
        return totals
    }

    /// A room's latest figures.
    public func publish(_ summary: RoomSummary) {
        entries.withLock { entries in entries[summary.id]?.summary = summary }
    }

    /// Every room's latest figures, by id.
    public func summaries() -> [RoomSummary] {
        entries.withLock { $0.values.map(\.summary) }.sorted { $0.id < $1.id }
    }

    /// Every room with its loop (for shutdown).
    func allRooms() -> [(loopIndex: Int, room: UncheckedRoom)] {
        entries.withLock { $0.values.map { ($0.loopIndex, $0.room) } }
    }
}

/// A room reference carried between threads; the room itself is only ever used on its loop.
struct UncheckedRoom: @unchecked Sendable {
    let value: HostedRoom
    init(_ value: HostedRoom) { self.value = value }
}

/// Room ids in paths: 1-64 characters of letters, digits, `-` and `_`.
func isValidRoomID(_ id: Substring) -> Bool {
    (1...64).contains(id.utf8.count) && id.utf8.allSatisfy { byte in
        (byte >= 48 && byte <= 57) || (byte >= 65 && byte <= 90) || (byte >= 97 && byte <= 122) || byte == 45 || byte == 95
    }
}
