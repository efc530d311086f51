// libFuzzer target for recordings through re-simulation: what `tickwire replay FILE --verify` does with a file,
// compiled by tools/fuzz.sh with Sources/Replay, Sources/Wire, Simulation/Engine and Simulation/Arena in one module.
// Seeded with a real recording (tools/fuzz/seeds/replay/), so mutations reach the header, the tick chunks, the
// keyframes and the game's settings and restore.
//
// Checked besides "never traps": verification runs to its end (bounded: at most 3,000 ticks re-simulated per
// input, so the fuzzer keeps its pace), a seek restores keyframes (the game's restore from file bytes), and the
// world dumps as JSON.

@_cdecl("LLVMFuzzerTestOneInput")
public func replayFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    guard var recording = try? RecordingReader.parse(bytes, game: Arena.self, decodedBytesMax: 64 << 20) else { return 0 }
    if recording.ticks.count > 3_000 { recording.ticks.removeLast(recording.ticks.count - 3_000) }
    _ = try? Replayer<Arena>.verify(recording)
    guard var replayer = try? Replayer<Arena>(recording: recording) else { return 0 }
    if let middle = recording.ticks.dropFirst(recording.ticks.count / 2).first?.tick {
        _ = replayer.seek(to: middle)
        _ = WorldDiff.json(tick: replayer.game.tick, stateHash: replayer.game.stateHash(), entities: replayer.game.entityStates(),
                           schema: Arena.schema)
    }
    return 0
}
