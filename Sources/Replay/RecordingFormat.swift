import Engine

/// The recording file format (docs/replay.md has it byte for byte):
///
///     magic "TWREPLAY", format version u16, header length u32, header CRC-32 u32, header
///     chunks: kind u8, payload length u32, payload CRC-32 u32, payload
///
/// Chunk kinds: ticks (the inputs, joins, leaves, chat and state hash of consecutive ticks), keyframe (the whole
/// world as snapshots show it, every few seconds), end (an index of keyframes, written at a clean end).
public enum RecordingFormat {
    public static let magic: [UInt8] = Array("TWREPLAY".utf8)
    /// The format this build writes and reads.
    public static let version: UInt16 = 1
    /// Kind, length and checksum before each chunk's payload.
    static let chunkHeaderBytes = 9
    /// A chunk larger than this is refused (a recording is untrusted input).
    public static let chunkPayloadMax = 16 << 20
    static let headerPayloadMax = 64 << 10
    /// The file name suffix of recordings.
    public static let fileExtension = "twrec"

    /// Frames a chunk: kind, length, checksum, payload.
    static func chunk(_ kind: ChunkKind, payload: [UInt8]) -> [UInt8] {
        var writer = ByteWriter()
        writer.append(kind.rawValue)
        writer.append(UInt32(payload.count))
        writer.append(CRC32.checksum(payload))
        return writer.bytes + payload
    }
}

/// What a chunk holds.
enum ChunkKind: UInt8 {
    case ticks = 1
    case keyframe = 2
    case end = 3
}

/// Everything needed to re-create the session's world: the game and its version, the seed and settings.
public struct RecordingHeader: Equatable, Sendable {
    public var gameName: String
    public var gameVersion: Int
    /// The wire protocol version (the WebSocket subprotocol) of the server that recorded.
    public var wireVersion: String
    public var seed: UInt64
    public var tickRateHz: Int
    public var snapshotEveryTicks: Int
    /// The game's settings, as `Game.encodeConfig` wrote them.
    public var config: [UInt8]
    /// Wall-clock time of the first tick, in milliseconds since 1970.
    public var startUnixMs: UInt64
    public var roomID: String
    /// Ticks between keyframes.
    public var keyframeEveryTicks: Int

    public init(gameName: String, gameVersion: Int, wireVersion: String, seed: UInt64, tickRateHz: Int, snapshotEveryTicks: Int,
                config: [UInt8], startUnixMs: UInt64, roomID: String, keyframeEveryTicks: Int) {
        self.gameName = gameName
        self.gameVersion = gameVersion
        self.wireVersion = wireVersion
        self.seed = seed
        self.tickRateHz = tickRateHz
        self.snapshotEveryTicks = snapshotEveryTicks
        self.config = config
        self.startUnixMs = startUnixMs
        self.roomID = roomID
        self.keyframeEveryTicks = keyframeEveryTicks
    }

    /// The file's opening bytes: magic, format version, and the checksummed header.
    func encoded() -> [UInt8] {
        var body = ByteWriter()
        body.append(gameName)
        body.append(UInt32(clamping: gameVersion))
        body.append(wireVersion)
        body.append(seed)
        body.append(UInt16(clamping: tickRateHz))
        body.append(UInt16(clamping: snapshotEveryTicks))
        body.append(bytes: config)
        body.append(startUnixMs)
        body.append(roomID)
        body.append(UInt32(clamping: keyframeEveryTicks))
        var file = ByteWriter()
        for byte in RecordingFormat.magic { file.append(byte) }
        file.append(RecordingFormat.version)
        file.append(UInt32(body.bytes.count))
        file.append(CRC32.checksum(body.bytes))
        return file.bytes + body.bytes
    }

    /// Reads the header from the start of a file; returns it and where the first chunk starts.
    static func decode(_ bytes: [UInt8]) throws(RecordingError) -> (RecordingHeader, Int) {
        let magic = RecordingFormat.magic
        guard bytes.count >= magic.count + 10, Array(bytes[0..<magic.count]) == magic else { throw .notARecording }
        var reader = ByteReader(bytes[magic.count...])
        guard let version = reader.read(UInt16.self), let length = reader.read(UInt32.self), let checksum = reader.read(UInt32.self) else {
            throw .notARecording
        }
        guard version == RecordingFormat.version else {
            throw .unsupportedFormatVersion(found: Int(version), supported: Int(RecordingFormat.version))
        }
        guard Int(length) <= RecordingFormat.headerPayloadMax, reader.remaining >= Int(length) else {
            throw .corruptHeader(reason: "the header is cut short or too long (\(length) bytes)")
        }
        let start = reader.position
        let body = bytes[start..<start + Int(length)]
        guard CRC32.checksum(body) == checksum else { throw .corruptHeader(reason: "header checksum mismatch") }
        var fields = ByteReader(body)
        guard let gameName = fields.readString(maxBytes: 64), let gameVersion = fields.read(UInt32.self),
              let wireVersion = fields.readString(maxBytes: 64), let seed = fields.read(UInt64.self),
              let tickRate = fields.read(UInt16.self), let snapshotEvery = fields.read(UInt16.self),
              let config = fields.readBytes(maxCount: 64 << 10), let startUnixMs = fields.read(UInt64.self),
              let roomID = fields.readString(maxBytes: 256), let keyframeEvery = fields.read(UInt32.self),
              (1...1000).contains(tickRate), snapshotEvery >= 1, keyframeEvery >= 1 else {
            throw .corruptHeader(reason: "a header field is missing or out of range")
        }
        let header = RecordingHeader(gameName: gameName, gameVersion: Int(gameVersion), wireVersion: wireVersion, seed: seed,
                                     tickRateHz: Int(tickRate), snapshotEveryTicks: Int(snapshotEvery), config: config,
                                     startUnixMs: startUnixMs, roomID: roomID, keyframeEveryTicks: Int(keyframeEvery))
        return (header, start + Int(length))
    }
}

/// Why a recording cannot be read (or read further).
public enum RecordingError: Error, Equatable, Sendable, CustomStringConvertible {
    case notARecording
    case unsupportedFormatVersion(found: Int, supported: Int)
    case wrongGame(found: String, expected: String)
    case wrongGameVersion(game: String, found: Int, expected: Int)
    case badConfig
    case corruptHeader(reason: String)
    /// A chunk whose checksum or contents are wrong, at this byte offset of the file.
    case corruptChunk(offset: Int, reason: String)
    case unreadable(path: String, reason: String)

    public var description: String {
        switch self {
        case .notARecording: return "not a Tickwire recording (no TWREPLAY magic)"
        case .unsupportedFormatVersion(let found, let supported):
            return "recording format version \(found); this build reads version \(supported) (use a tickwire that writes version \(found))"
        case .wrongGame(let found, let expected): return "a recording of the game \"\(found)\"; this tickwire replays \"\(expected)\""
        case .wrongGameVersion(let game, let found, let expected):
            return "recorded with \(game) version \(found); this tickwire has \(game) version \(expected) and would not re-simulate it "
                + "bit for bit: replay it with a tickwire built with \(game) version \(found)"
        case .badConfig: return "the recorded game settings are not valid for this game"
        case .corruptHeader(let reason): return "corrupt header: \(reason)"
        case .corruptChunk(let offset, let reason): return "corrupt chunk at byte offset \(offset): \(reason)"
        case .unreadable(let path, let reason): return "cannot read \(path): \(reason)"
        }
    }
}
