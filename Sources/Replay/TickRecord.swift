import Engine
import Wire

/// What the simulation consumed in one tick, in the order the room applied it: leaves, joins, then one input per
/// player in roster order; and the state hash after the step.
public struct TickRecord: Equatable, Sendable {
    public struct Join: Equatable, Sendable {
        public var player: PlayerID
        public var name: String
        public init(player: PlayerID, name: String) {
            self.player = player
            self.name = name
        }
    }

    public struct Chat: Equatable, Sendable {
        public var player: PlayerID
        public var text: String
        public init(player: PlayerID, text: String) {
            self.player = player
            self.text = text
        }
    }

    /// The tick the step produced (the game's tick after it).
    public var tick: UInt32
    public var leaves: [PlayerID]
    public var joins: [Join]
    /// The players whose inputs the step took, and those inputs, in order.
    public var inputs: [(player: PlayerID, input: InputBits)]
    public var chat: [Chat]
    public var stateHash: UInt64

    public init(tick: UInt32, leaves: [PlayerID], joins: [Join], inputs: [(player: PlayerID, input: InputBits)], chat: [Chat],
                stateHash: UInt64) {
        self.tick = tick
        self.leaves = leaves
        self.joins = joins
        self.inputs = inputs
        self.chat = chat
        self.stateHash = stateHash
    }

    public static func == (a: TickRecord, b: TickRecord) -> Bool {
        a.tick == b.tick && a.leaves == b.leaves && a.joins == b.joins && a.chat == b.chat && a.stateHash == b.stateHash
            && a.inputs.count == b.inputs.count && zip(a.inputs, b.inputs).allSatisfy { $0.player == $1.player && $0.input == $1.input }
    }
}

/// Bit-packs tick records. It carries the roster (who gives inputs, in order) and each player's last input from
/// tick to tick, so an unchanged input costs one bit and an unchanged roster one bit. Ticks must be coded in order
/// from the first, the same on both sides.
struct TickCodec {
    let inputBitCount: Int
    private var roster: [PlayerID] = []
    private var lastInputs: [PlayerID: InputBits] = [:]
    static let playersMax = 16_384
    static let chatPerTickMax = 255

    init(inputBitCount: Int) { self.inputBitCount = inputBitCount }

    mutating func write(_ record: TickRecord, into writer: inout BitWriter) throws(WireError) {
        var copy = record
        try serialize(&copy, &writer)
    }

    mutating func read(tick: UInt32, from reader: inout BitReader) throws(WireError) -> TickRecord {
        var record = TickRecord(tick: tick, leaves: [], joins: [], inputs: [], chat: [], stateHash: 0)
        try serialize(&record, &reader)
        return record
    }

    private mutating func serialize<Stream: BitStream>(_ record: inout TickRecord, _ stream: inout Stream) throws(WireError) {
        let newRoster = record.inputs.map(\.player)
        var hasEvents = !record.leaves.isEmpty || !record.joins.isEmpty || newRoster != roster
        try stream.serialize(&hasEvents, field: "events")
        if hasEvents {
            try serializePlayers(&record.leaves, &stream, field: "leaves")
            var joinCount = record.joins.count
            try stream.serialize(&joinCount, in: 0...TickCodec.playersMax, field: "joins")
            if stream.isReading { record.joins = Array(repeating: TickRecord.Join(player: PlayerID(raw: 0), name: ""), count: joinCount) }
            for index in 0..<joinCount {
                try stream.serialize(&record.joins[index].player.raw, field: "join player")
                try stream.serialize(&record.joins[index].name, maxBytes: 64, field: "join name")
            }
            var players = newRoster
            try serializePlayers(&players, &stream, field: "roster")
            roster = players
        }
        var chatCount = record.chat.count
        var hasChat = chatCount > 0
        try stream.serialize(&hasChat, field: "chat")
        if hasChat {
            try stream.serialize(&chatCount, in: 1...TickCodec.chatPerTickMax, field: "chat count")
            if stream.isReading { record.chat = Array(repeating: TickRecord.Chat(player: PlayerID(raw: 0), text: ""), count: chatCount) }
            for index in 0..<chatCount {
                try stream.serialize(&record.chat[index].player.raw, field: "chat player")
                try stream.serialize(&record.chat[index].text, maxBytes: 512, field: "chat text")
            }
        }
        if stream.isReading { record.inputs = roster.map { ($0, InputBits.neutral) } }
        for index in record.inputs.indices {
            let player = roster[index]
            let last = lastInputs[player] ?? .neutral
            var same = record.inputs[index].input == last
            try stream.serialize(&same, field: "input repeated")
            if same {
                record.inputs[index].input = last
            } else {
                var raw = record.inputs[index].input.raw
                try stream.serializeBits(&raw, bitCount: inputBitCount, field: "input")
                record.inputs[index].input = InputBits(raw: raw)
            }
            lastInputs[player] = record.inputs[index].input
        }
        for player in record.leaves where !roster.contains(player) { lastInputs[player] = nil }
        var hash = record.stateHash
        try stream.serializeBits(&hash, bitCount: 64, field: "state hash")
        record.stateHash = hash
    }

    /// A count, then player ids, each 16 bits.
    private func serializePlayers<Stream: BitStream>(_ players: inout [PlayerID], _ stream: inout Stream, field: StaticString) throws(WireError) {
        var count = players.count
        try stream.serialize(&count, in: 0...TickCodec.playersMax, field: field)
        if stream.isReading { players = Array(repeating: PlayerID(raw: 0), count: count) }
        for index in 0..<count { try stream.serialize(&players[index].raw, field: field) }
    }
}
