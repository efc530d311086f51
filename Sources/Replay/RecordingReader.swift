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
    /// Largest file read (`tickwire replay` refuses bigger ones); 256 MiB is over 10 hours of 64 players.
    public static let fileBytesMax = 256 << 20
    /// Memory the decoded recording may take (ticks, their inputs, keyframes), estimated as it is read: a file can
    /// be far smaller than what it decodes to (an unchanged roster costs one bit a tick in the file and one input
    /// per player in memory), so the file's size alone bounds nothing. Reading stops, as at a corrupt chunk, when
    /// the next tick or keyframe would pass it.
    public static let decodedBytesMax = 4 << 30
    /// What the estimate charges: a tick record, one player's input in it, a keyframe entity.
    static let bytesPerTick = 96
    static let bytesPerInput = 16
    static let bytesPerKeyframeEntity = 64

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

    /// Reads a recording from bytes, decoding at most `decodedBytesMax` (estimated) into memory.
    public static func parse<G: Game>(_ bytes: [UInt8], game: G.Type, decodedBytesMax: Int = decodedBytesMax) throws(RecordingError) -> Recording {
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
        var decodedBytes = 0
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
                        let tick = try codec.read(tick: firstTick &+ UInt32(index), from: &bits)
                        decodedBytes += bytesPerTick + bytesPerInput * (tick.inputs.count + tick.joins.count + tick.leaves.count)
                            + tick.chat.reduce(0) { $0 + 32 + $1.text.utf8.count }
                        guard decodedBytes <= decodedBytesMax else {
                            recording.ending = .corrupt(.corruptChunk(offset: offset, reason: "decoded recording over the \(decodedBytesMax)-byte memory limit"))
                            return recording
                        }
                        recording.ticks.append(tick)
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
                decodedBytes += bytesPerKeyframeEntity * entities.count + state.count
                guard decodedBytes <= decodedBytesMax else {
                    recording.ending = .corrupt(.corruptChunk(offset: offset, reason: "decoded recording over the \(decodedBytesMax)-byte memory limit"))
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
