import Engine
import Foundation
import Wire

/// A recording read back: its header, every tick that was whole, the keyframes, and how the file ended.
public struct Recording: Sendable {
    /// A world as snapshots show it, stored every few seconds.
    public struct Keyframe: Sendable {
        public var tick: UInt32
        public var stateHash: UInt64
        public var entities: [EntityState]
        /// The game's whole state (`Game.encodeState`): a restore point for seeking. Empty if not recorded.
        public var state: [UInt8]
        /// Where its chunk starts in the file.
        public var offset: Int
    }

    /// How the file ended.
    public enum Ending: Equatable, Sendable {
        /// The end chunk was there: the room closed normally.
        case clean
        /// The file stopped mid-chunk or without an end chunk (the server was killed): everything before was kept.
        case recovered(tornBytes: Int)
        /// A chunk failed its checksum or did not decode: reading stopped before it.
        case corrupt(RecordingError)
    }

    public var header: RecordingHeader
    public var ticks: [TickRecord]
    public var keyframes: [Keyframe]
    public var ending: Ending
    public var fileBytes: Int

    /// Distinct players that ever joined.
    public var playerCount: Int { Set(ticks.flatMap { $0.joins.map(\.player) }).count }
    public var durationSeconds: Double { Double(ticks.count) / Double(header.tickRateHz) }
}

/// Reads recordings. Total: any bytes give a recording (possibly cut short and saying why) or a `RecordingError`,
/// never a trap; sizes are checked before anything is allocated.
public enum RecordingReader {
    /// Largest file read (`tickwire replay` refuses bigger ones). A recording is held in memory decoded, about 20×
    /// its size on disk, so this bounds memory to about 5 GiB; 256 MiB is over 10 hours of 64 players.
    public static let fileBytesMax = 256 << 20

    /// Reads the file at `path`, for the game `G` (a recording of another game or game version is refused).
    public static func read<G: Game>(path: String, game: G.Type) throws(RecordingError) -> Recording {
        guard let attributes = try? FileManager.default.attributesOfItem(atPath: path),
              let size = (attributes[.size] as? NSNumber)?.intValue else {
            throw .unreadable(path: path, reason: "no such file")
        }
        guard size <= fileBytesMax else { throw .unreadable(path: path, reason: "larger than \(fileBytesMax) bytes") }
        guard let data = FileManager.default.contents(atPath: path) else { throw .unreadable(path: path, reason: "cannot open") }
        return try parse([UInt8](data), game: game)
    }

    /// Reads a recording from bytes.
    public static func parse<G: Game>(_ bytes: [UInt8], game: G.Type) throws(RecordingError) -> Recording {
        let (header, firstChunk) = try RecordingHeader.decode(bytes)
        guard header.gameName == G.name else { throw .wrongGame(found: header.gameName, expected: G.name) }
        guard header.gameVersion == G.version else {
            throw .wrongGameVersion(game: G.name, found: header.gameVersion, expected: G.version)
        }
        guard G.decodeConfig(header.config) != nil else { throw .badConfig }
        var recording = Recording(header: header, ticks: [], keyframes: [], ending: .recovered(tornBytes: 0), fileBytes: bytes.count)
        var codec = TickCodec(inputBitCount: G.inputBitCount)
        let keyframeCodec = EntityDeltaCodec(schema: G.schema, limits: SnapshotLimits(entityCountMax: 65_536))
        var offset = firstChunk
        while offset < bytes.count {
            var framing = ByteReader(bytes[offset...])
            guard let kindByte = framing.read(UInt8.self), let length = framing.read(UInt32.self), let checksum = framing.read(UInt32.self),
                  framing.remaining >= Int(length) else {
                // A chunk cut short: the last write before a crash. Keep everything before it.
                if let kind = bytes[offset...].first, ChunkKind(rawValue: kind) == nil {
                    recording.ending = .corrupt(.corruptChunk(offset: offset, reason: "unknown chunk kind \(kind)"))
                } else {
                    recording.ending = .recovered(tornBytes: bytes.count - offset)
                }
                return recording
            }
            guard let kind = ChunkKind(rawValue: kindByte) else {
                recording.ending = .corrupt(.corruptChunk(offset: offset, reason: "unknown chunk kind \(kindByte)"))
                return recording
            }
            guard Int(length) <= RecordingFormat.chunkPayloadMax else {
                recording.ending = .corrupt(.corruptChunk(offset: offset, reason: "chunk of \(length) bytes is over the limit"))
                return recording
            }
            let payloadStart = offset + RecordingFormat.chunkHeaderBytes
            let payload = bytes[payloadStart..<payloadStart + Int(length)]
            guard CRC32.checksum(payload) == checksum else {
                recording.ending = .corrupt(.corruptChunk(offset: offset, reason: "checksum mismatch"))
                return recording
            }
            var reader = ByteReader(payload)
            switch kind {
            case .ticks:
                guard let firstTick = reader.read(UInt32.self), let count = reader.read(UInt32.self), count <= 1_000_000,
                      firstTick == (recording.ticks.last.map { $0.tick &+ 1 } ?? firstTick) else {
                    recording.ending = .corrupt(.corruptChunk(offset: offset, reason: "tick numbering does not follow on"))
                    return recording
                }
                var bits = BitReader(Array(payload[reader.position...]))
                for index in 0..<Int(count) {
                    do throws(WireError) {
                        recording.ticks.append(try codec.read(tick: firstTick &+ UInt32(index), from: &bits))
                    } catch {
                        recording.ending = .corrupt(.corruptChunk(offset: offset, reason: "tick \(firstTick &+ UInt32(index)): \(error)"))
                        return recording
                    }
                }
            case .keyframe:
                guard let tick = reader.read(UInt32.self), let hash = reader.read(UInt64.self),
                      let state = reader.readBytes(maxCount: RecordingFormat.chunkPayloadMax) else {
                    recording.ending = .corrupt(.corruptChunk(offset: offset, reason: "keyframe header"))
                    return recording
                }
                var bits = BitReader(Array(payload[reader.position...]))
                guard let entities = try? keyframeCodec.decode(from: &bits, against: []) else {
                    recording.ending = .corrupt(.corruptChunk(offset: offset, reason: "keyframe of tick \(tick) does not decode"))
                    return recording
                }
                recording.keyframes.append(Recording.Keyframe(tick: tick, stateHash: hash, entities: entities, state: state, offset: offset))
            case .end:
                recording.ending = .clean
                return recording
            }
            offset = payloadStart + Int(length)
        }
        recording.ending = .recovered(tornBytes: 0)
        return recording
    }
}
