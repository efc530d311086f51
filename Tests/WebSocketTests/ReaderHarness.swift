// Shared by the unit tests and the libFuzzer target (tools/fuzz.sh compiles this file into the fuzzer,
// where the WebSocket sources are part of the same module).
#if canImport(WebSocket)
@testable import WebSocket
#endif

/// What a reader produced, copied out of its transient buffers.
enum Observed: Equatable {
    case text(String)
    /// A text message that is not UTF-8: the reader must never produce it.
    case invalidText([UInt8])
    case binary([UInt8])
    case ping([UInt8])
    case pong([UInt8])
    case close(UInt16?, String)
    case failed(WebSocketError)
}

/// Feeds `stream` to a fresh reader in pieces of `pieceBytes` (whole when nil) and records every event.
func readEvents(_ stream: [UInt8], role: WebSocketRole = .server, limits: WebSocketLimits = WebSocketLimits(),
                pieceBytes: Int? = nil) -> [Observed] {
    readEvents(stream, role: role, limits: limits, pieces: pieceBytes.map { [$0] } ?? [])
}

/// Feeds `stream` to a fresh reader in pieces whose sizes cycle through `pieces` (whole when empty).
func readEvents(_ stream: [UInt8], role: WebSocketRole, limits: WebSocketLimits, pieces: [Int]) -> [Observed] {
    var reader = WebSocketReader(role: role, limits: limits)
    return feed(&reader, stream, pieces: pieces)
}

/// Feeds `stream` to `reader`, in pieces, and records events until the input ends or an error.
func feed(_ reader: inout WebSocketReader, _ stream: [UInt8], pieceBytes: Int? = nil) -> [Observed] {
    feed(&reader, stream, pieces: pieceBytes.map { [$0] } ?? [])
}

/// Feeds `stream` to `reader` in pieces whose sizes cycle through `pieces` (whole when empty).
func feed(_ reader: inout WebSocketReader, _ stream: [UInt8], pieces: [Int]) -> [Observed] {
    var observed: [Observed] = []
    var start = 0
    var pieceIndex = 0
    repeat {
        let length = min(pieces.isEmpty ? stream.count : pieces[pieceIndex % pieces.count], stream.count - start)
        pieceIndex += 1
        var chunk = Array(stream[start..<start + length])
        start += length
        var offset = 0
        let failed: Bool = chunk.withUnsafeMutableBytes { buffer in
            while true {
                switch reader.next(buffer, offset: &offset) {
                case .needMoreInput: return false
                case .failed(let error):
                    observed.append(.failed(error))
                    return true
                case .event(let event):
                    switch event {
                    case .text(let bytes):
                        observed.append(String(validating: Array(bytes), as: UTF8.self).map(Observed.text) ?? .invalidText(Array(bytes)))
                    case .binary(let bytes): observed.append(.binary(Array(bytes)))
                    case .ping(let bytes): observed.append(.ping(Array(bytes)))
                    case .pong(let bytes): observed.append(.pong(Array(bytes)))
                    case .close(let code, let reason): observed.append(.close(code, String(decoding: reason, as: UTF8.self)))
                    }
                }
            }
        }
        if failed { break }
    } while start < stream.count
    return observed
}

/// A client frame (masked with `key`) as a peer would send it.
func clientFrame(_ opcode: UInt8, _ payload: [UInt8], fin: Bool = true, key: UInt32 = 0x3D21_FA37, rsv: UInt8 = 0) -> [UInt8] {
    var frame: [UInt8] = [(fin ? 0x80 : 0) | rsv | opcode]
    let count = payload.count
    if count < 126 {
        frame.append(0x80 | UInt8(count))
    } else if count <= 0xFFFF {
        frame += [0x80 | 126, UInt8(count >> 8), UInt8(count & 0xFF)]
    } else {
        frame.append(0x80 | 127)
        for shift in stride(from: 56, through: 0, by: -8) { frame.append(UInt8(truncatingIfNeeded: count >> shift)) }
    }
    let keyBytes = withUnsafeBytes(of: key.littleEndian) { Array($0) }
    frame += keyBytes
    frame += payload.enumerated().map { $0.element ^ keyBytes[$0.offset % 4] }
    return frame
}
