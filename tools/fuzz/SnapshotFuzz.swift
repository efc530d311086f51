// libFuzzer target for what a bot decodes from a server: server messages and snapshots against the baselines a
// tracker keeps (Arena's schema), compiled by tools/fuzz.sh with Sources/Wire, Simulation/Engine and
// Simulation/Arena in one module.
//
// The input is a sequence of messages, each a length byte then that many bytes: a hostile server's stream. Every
// message goes through ServerMessage.read and, for snapshots, SnapshotTracker.receive, as Bot.handle does. Checked
// besides "never traps": every decoded world has at most the schema's entities, each of a known kind with its fields
// in range.

@_cdecl("LLVMFuzzerTestOneInput")
public func snapshotFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    var tracker = SnapshotTracker(schema: Arena.schema)
    var offset = 0
    while offset < size {
        let length = Int(data[offset])
        offset += 1
        let end = min(size, offset + length)
        let bytes = Array(UnsafeBufferPointer(start: data + offset, count: end - offset))
        offset = end
        var reader = BitReader(bytes)
        guard let message = try? ServerMessage.read(from: &reader) else { continue }
        guard case .snapshot(let header) = message else { continue }
        if case .success(let world) = tracker.receive(header, from: &reader) {
            for entity in world {
                guard let kind = Arena.schema.kinds.first(where: { $0.number == entity.kind }) else { preconditionFailure("unknown kind \(entity.kind)") }
                for (index, field) in kind.fields.enumerated() {
                    precondition(field.range.contains(entity.fields[index]), "\(field.name) out of range: \(entity.fields[index])")
                }
            }
        }
    }
    return 0
}
