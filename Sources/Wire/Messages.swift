import Engine

/// The WebSocket subprotocol naming this wire version; a client offering another is refused at the handshake.
public let wireSubprotocol = "tickwire.v1"

/// Limits on what clients may put in a message.
public enum WireLimits {
    /// Bytes of a player name.
    public static let nameBytesMax = 32
    /// Bytes of a chat message.
    public static let chatBytesMax = 200
    /// Bytes of a kick reason.
    public static let reasonBytesMax = 120
    /// Highest tick rate a room can run at.
    public static let tickRateHzMax = 240
}

/// Why the server removed a player.
public enum KickReason: UInt8, Sendable, CaseIterable {
    case serverShutdown = 0
    case roomClosed = 1
    case tooSlow = 2
    case protocolViolation = 3
    case rateLimited = 4
    case replaced = 5
}

/// Everything a client sends, one binary WebSocket message each.
public enum ClientMessage: Equatable, Sendable {
    /// Join the room as `name`; `resumeToken` reclaims a player that dropped within the grace period.
    case join(name: String, resumeToken: UInt64?)
    /// This tick's input: a client sequence number, the newest snapshot tick it has (nil for none), the bits.
    case input(sequence: UInt32, acknowledgedTick: UInt32?, bits: InputBits)
    /// A ping for RTT and clock offset; the server answers at once with `pong`.
    case ping(clientTimeUs: UInt64)
    /// A chat line to the room.
    case chat(text: String)
    /// Leaving on purpose.
    case leave

    fileprivate var typeNumber: UInt8 {
        switch self {
        case .join: return 1
        case .input: return 2
        case .ping: return 3
        case .chat: return 4
        case .leave: return 5
        }
    }

    /// The bytes on the wire; `inputBitCount` is the game's.
    public func encoded(inputBitCount: Int) throws(WireError) -> [UInt8] {
        var message = self
        var writer = BitWriter()
        try message.serialize(&writer, inputBitCount: inputBitCount)
        return writer.finish()
    }

    /// Appends the bytes on the wire to `bytes`, encoding with `writer` (emptied first; its storage is reused).
    func append(to bytes: inout [UInt8], inputBitCount: Int, using writer: inout BitWriter) throws(WireError) {
        var message = self
        writer.removeAll()
        try message.serialize(&writer, inputBitCount: inputBitCount)
        writer.finish(appendingTo: &bytes)
    }

    /// Decodes one message; any bytes give a message or a `WireError`.
    public static func decode(_ bytes: [UInt8], inputBitCount: Int) throws(WireError) -> ClientMessage {
        var message = ClientMessage.leave
        var reader = BitReader(bytes)
        try message.serialize(&reader, inputBitCount: inputBitCount)
        try reader.finish()
        return message
    }

    private mutating func serialize<Stream: BitStream>(_ stream: inout Stream, inputBitCount: Int) throws(WireError) {
        var type = typeNumber
        try stream.serialize(&type, field: "message type")
        switch stream.isReading ? type : typeNumber {
        case 1:
            var name = "", token: UInt64 = 0, hasToken = false
            if case .join(let n, let t) = self { name = n; token = t ?? 0; hasToken = t != nil }
            try stream.serialize(&name, maxBytes: WireLimits.nameBytesMax, field: "name")
            try stream.serialize(&hasToken, field: "has resume token")
            if hasToken { try stream.serialize(&token, field: "resume token") }
            self = .join(name: name, resumeToken: hasToken ? token : nil)
        case 2:
            var sequence: UInt32 = 0, tick: UInt32 = 0, hasTick = false, bits: UInt64 = 0
            if case .input(let s, let t, let b) = self { sequence = s; tick = t ?? 0; hasTick = t != nil; bits = b.raw }
            try stream.serialize(&sequence, field: "input sequence")
            try stream.serialize(&hasTick, field: "has acknowledged tick")
            if hasTick { try stream.serialize(&tick, field: "acknowledged tick") }
            if inputBitCount > 0 { try stream.serializeBits(&bits, bitCount: inputBitCount, field: "input bits") }
            self = .input(sequence: sequence, acknowledgedTick: hasTick ? tick : nil, bits: InputBits(raw: bits))
        case 3:
            var time: UInt64 = 0
            if case .ping(let t) = self { time = t }
            try stream.serialize(&time, field: "client time")
            self = .ping(clientTimeUs: time)
        case 4:
            var text = ""
            if case .chat(let t) = self { text = t }
            try stream.serialize(&text, maxBytes: WireLimits.chatBytesMax, field: "chat text")
            self = .chat(text: text)
        case 5:
            self = .leave
        default:
            throw .unknownMessageType(type)
        }
    }
}

/// The fixed part of a snapshot message; the entity delta follows it in the same message.
public struct SnapshotHeader: Equatable, Sendable {
    /// The tick this snapshot shows.
    public var tick: UInt32
    /// The snapshot it is a delta against; nil for a full snapshot.
    public var baselineTick: UInt32?
    /// The newest input sequence of this client that the simulation has applied (for reconciliation).
    public var lastProcessedInput: UInt32
    public init(tick: UInt32, baselineTick: UInt32?, lastProcessedInput: UInt32) {
        self.tick = tick
        self.baselineTick = baselineTick
        self.lastProcessedInput = lastProcessedInput
    }

    mutating func serialize<Stream: BitStream>(_ stream: inout Stream) throws(WireError) {
        try stream.serialize(&tick, field: "tick")
        var hasBaseline = baselineTick != nil
        try stream.serialize(&hasBaseline, field: "has baseline")
        if hasBaseline {
            // The baseline is a recent tick: sent as the distance back, 1...4095 ticks (68 s at 60 Hz).
            var back = Int(tick &- (baselineTick ?? tick))
            try stream.serialize(&back, in: 1...4095, field: "baseline distance")
            baselineTick = tick &- UInt32(back)
        } else {
            baselineTick = nil
        }
        try stream.serialize(&lastProcessedInput, field: "last processed input")
    }
}

/// Everything the server sends, one binary WebSocket message each.
public enum ServerMessage: Equatable, Sendable {
    /// The join worked.
    case welcome(Welcome)
    /// A snapshot header; decode the entity delta that follows with `EntityDeltaCodec` against the baseline.
    case snapshot(SnapshotHeader)
    /// The answer to a ping, sent at once (not on the tick).
    case pong(clientTimeUs: UInt64, serverTimeUs: UInt64, serverTick: UInt32)
    /// A chat line from a player.
    case chat(from: PlayerID, name: String, text: String)
    /// The server removed this client.
    case kick(reason: KickReason, text: String)
    /// A player's name (sent to everyone when the player joins, and to a newcomer for everyone present).
    case roster(player: PlayerID, name: String)

    /// What a client learns when it joins.
    public struct Welcome: Equatable, Sendable {
        public var player: PlayerID
        public var tickRateHz: Int
        public var snapshotRateHz: Int
        public var serverTick: UInt32
        /// The world's size in the simulation's raw fixed-point units.
        public var worldWidthRaw: UInt32
        public var worldHeightRaw: UInt32
        public var resumeToken: UInt64
        public init(player: PlayerID, tickRateHz: Int, snapshotRateHz: Int, serverTick: UInt32, worldWidthRaw: UInt32,
                    worldHeightRaw: UInt32, resumeToken: UInt64) {
            self.player = player
            self.tickRateHz = tickRateHz
            self.snapshotRateHz = snapshotRateHz
            self.serverTick = serverTick
            self.worldWidthRaw = worldWidthRaw
            self.worldHeightRaw = worldHeightRaw
            self.resumeToken = resumeToken
        }
    }

    fileprivate var typeNumber: UInt8 {
        switch self {
        case .welcome: return 1
        case .snapshot: return 2
        case .pong: return 3
        case .chat: return 4
        case .kick: return 5
        case .roster: return 6
        }
    }

    /// Writes the message into `writer` (a snapshot's entity delta is appended by the caller after it).
    public func write(into writer: inout BitWriter) throws(WireError) {
        var message = self
        try message.serialize(&writer)
    }

    /// Reads one message's fixed part from `reader`; for a snapshot the entity delta remains to be read.
    public static func read(from reader: inout BitReader) throws(WireError) -> ServerMessage {
        var message = ServerMessage.kick(reason: .serverShutdown, text: "")
        try message.serialize(&reader)
        return message
    }

    private mutating func serialize<Stream: BitStream>(_ stream: inout Stream) throws(WireError) {
        var type = typeNumber
        try stream.serialize(&type, field: "message type")
        switch stream.isReading ? type : typeNumber {
        case 1:
            var welcome = Welcome(player: PlayerID(raw: 0), tickRateHz: 1, snapshotRateHz: 1, serverTick: 0, worldWidthRaw: 0,
                                  worldHeightRaw: 0, resumeToken: 0)
            if case .welcome(let w) = self { welcome = w }
            try stream.serialize(&welcome.player.raw, field: "player")
            try stream.serialize(&welcome.tickRateHz, in: 1...WireLimits.tickRateHzMax, field: "tick rate")
            try stream.serialize(&welcome.snapshotRateHz, in: 1...WireLimits.tickRateHzMax, field: "snapshot rate")
            try stream.serialize(&welcome.serverTick, field: "server tick")
            try stream.serialize(&welcome.worldWidthRaw, field: "world width")
            try stream.serialize(&welcome.worldHeightRaw, field: "world height")
            try stream.serialize(&welcome.resumeToken, field: "resume token")
            self = .welcome(welcome)
        case 2:
            var header = SnapshotHeader(tick: 0, baselineTick: nil, lastProcessedInput: 0)
            if case .snapshot(let h) = self { header = h }
            try header.serialize(&stream)
            self = .snapshot(header)
        case 3:
            var client: UInt64 = 0, server: UInt64 = 0, tick: UInt32 = 0
            if case .pong(let c, let s, let t) = self { client = c; server = s; tick = t }
            try stream.serialize(&client, field: "client time")
            try stream.serialize(&server, field: "server time")
            try stream.serialize(&tick, field: "server tick")
            self = .pong(clientTimeUs: client, serverTimeUs: server, serverTick: tick)
        case 4:
            var player = PlayerID(raw: 0), name = "", text = ""
            if case .chat(let p, let n, let t) = self { player = p; name = n; text = t }
            try stream.serialize(&player.raw, field: "chat player")
            try stream.serialize(&name, maxBytes: WireLimits.nameBytesMax, field: "chat name")
            try stream.serialize(&text, maxBytes: WireLimits.chatBytesMax, field: "chat text")
            self = .chat(from: player, name: name, text: text)
        case 5:
            var reason = KickReason.serverShutdown.rawValue, text = ""
            if case .kick(let r, let t) = self { reason = r.rawValue; text = t }
            try stream.serialize(&reason, in: 0...UInt8(KickReason.allCases.count - 1), field: "kick reason")
            try stream.serialize(&text, maxBytes: WireLimits.reasonBytesMax, field: "kick text")
            self = .kick(reason: KickReason(rawValue: reason) ?? .serverShutdown, text: text)
        case 6:
            var player = PlayerID(raw: 0), name = ""
            if case .roster(let p, let n) = self { player = p; name = n }
            try stream.serialize(&player.raw, field: "roster player")
            try stream.serialize(&name, maxBytes: WireLimits.nameBytesMax, field: "roster name")
            self = .roster(player: player, name: name)
        default:
            throw .unknownMessageType(type)
        }
    }
}
