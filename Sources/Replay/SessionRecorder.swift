import Engine
import Wire

/// Where sealed recording bytes go: a writer thread (`RecordingWriter`) in the server, a byte array in tests.
public protocol RecordingSink: AnyObject, Sendable {
    /// Appends bytes to the recording `file` (opened with `open`).
    func append(_ bytes: [UInt8], to file: RecordingFileID)
    /// Opens a new recording for `roomID`; nil when recording is off or the file cannot be created.
    func open(roomID: String, startUnixMs: UInt64) -> RecordingFileID?
    /// Closes it after everything appended so far.
    func close(_ file: RecordingFileID)
}

/// A recording file, as its sink knows it.
public struct RecordingFileID: Hashable, Sendable {
    public let raw: Int
    public init(raw: Int) { self.raw = raw }
}

/// Records one room session on the room's loop: it packs each tick into the current chunk and hands sealed chunks
/// to the sink (a writer thread does the I/O). A chunk is sealed at least every `flushEveryTicks` ticks (one
/// second by default), so a crash loses at most about a second; a keyframe is written every `keyframeEveryTicks`.
/// Loop-confined.
public final class SessionRecorder {
    public let header: RecordingHeader
    private let sink: RecordingSink
    private let file: RecordingFileID
    private let keyframeCodec: EntityDeltaCodec
    private let flushEveryTicks: Int
    private var codec: TickCodec
    private var writer = BitWriter(capacity: 4096)
    private var chunkFirstTick: UInt32?
    private var chunkTickCount = 0
    private var pendingChat: [TickRecord.Chat] = []
    /// Bytes written so far (the offset of the next chunk), and where each keyframe is.
    private var offset: UInt64
    private var keyframes: [(tick: UInt32, offset: UInt64)] = []
    private var ticksRecorded = 0
    private var lastTick: UInt32 = 0
    private var isFinished = false

    /// Opens a recording through `sink`; nil if the sink cannot (recording off, disk trouble).
    public init?(header: RecordingHeader, schema: EntitySchema, inputBitCount: Int, sink: RecordingSink, flushEveryTicks: Int) {
        guard let file = sink.open(roomID: header.roomID, startUnixMs: header.startUnixMs) else { return nil }
        self.header = header
        self.sink = sink
        self.file = file
        self.flushEveryTicks = max(1, flushEveryTicks)
        codec = TickCodec(inputBitCount: inputBitCount)
        keyframeCodec = EntityDeltaCodec(schema: schema, limits: SnapshotLimits(entityCountMax: 65_536))
        let opening = header.encoded()
        offset = UInt64(opening.count)
        sink.append(opening, to: file)
    }

    /// Chat said since the last tick; recorded with the next tick.
    public func chat(from player: PlayerID, text: String) {
        guard pendingChat.count < TickCodec.chatPerTickMax else { return }
        pendingChat.append(TickRecord.Chat(player: player, text: String(decoding: Array(text.utf8.prefix(512)), as: UTF8.self)))
    }

    /// Records one tick. On keyframe ticks only, `world` gives the entities as snapshots show them (for diffs) and
    /// `state` the game's whole state (`Game.encodeState`, for seeking; empty: this keyframe cannot be restored).
    public func record(tick: UInt32, leaves: [PlayerID], joins: [TickRecord.Join], inputs: [(player: PlayerID, input: InputBits)],
                       stateHash: UInt64, world: () -> [EntityState], state: () -> [UInt8] = { [] }) {
        guard !isFinished else { return }
        let record = TickRecord(tick: tick, leaves: leaves, joins: joins, inputs: inputs, chat: pendingChat, stateHash: stateHash)
        pendingChat.removeAll()
        if chunkFirstTick == nil { chunkFirstTick = tick }
        do throws(WireError) {
            try codec.write(record, into: &writer)
        } catch {
            return  // names and chat are bounded when they arrive; nothing else can fail
        }
        chunkTickCount += 1
        ticksRecorded += 1
        lastTick = tick
        let isKeyframeTick = Int(tick) % header.keyframeEveryTicks == 0
        if isKeyframeTick || chunkTickCount >= flushEveryTicks { sealTicks() }
        if isKeyframeTick { writeKeyframe(tick: tick, stateHash: stateHash, entities: world(), state: state()) }
    }

    /// Seals what is pending, writes the end chunk with the keyframe index, and closes the file.
    public func finish() {
        guard !isFinished else { return }
        sealTicks()
        var index = ByteWriter()
        index.append(UInt32(truncatingIfNeeded: ticksRecorded))
        index.append(lastTick)
        index.append(UInt32(keyframes.count))
        for keyframe in keyframes {
            index.append(keyframe.tick)
            index.append(keyframe.offset)
        }
        emit(.end, index.bytes)
        sink.close(file)
        isFinished = true
    }

    private func sealTicks() {
        guard let first = chunkFirstTick, chunkTickCount > 0 else { return }
        var payload = ByteWriter()
        payload.append(first)
        payload.append(UInt32(chunkTickCount))
        emit(.ticks, payload.bytes + writer.finish())
        writer = BitWriter(capacity: 4096)
        chunkFirstTick = nil
        chunkTickCount = 0
    }

    private func writeKeyframe(tick: UInt32, stateHash: UInt64, entities: [EntityState], state: [UInt8]) {
        var payload = ByteWriter()
        payload.append(tick)
        payload.append(stateHash)
        payload.append(bytes: state)
        var bits = BitWriter(capacity: entities.count * 16)
        guard (try? keyframeCodec.encode(entities, against: [], into: &bits)) != nil else { return }
        keyframes.append((tick, offset))
        emit(.keyframe, payload.bytes + bits.finish())
    }

    private func emit(_ kind: ChunkKind, _ payload: [UInt8]) {
        let chunk = RecordingFormat.chunk(kind, payload: payload)
        offset += UInt64(chunk.count)
        sink.append(chunk, to: file)
    }
}
