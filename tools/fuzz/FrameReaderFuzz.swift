// libFuzzer target for WebSocketReader, compiled together with Sources/WebSocket by tools/fuzz.sh.
//
// Byte 0 picks the role, small or default limits, and the seed of a chunking pattern. The rest is the byte
// stream. Checked on every input, besides "never traps":
//  - split invariance: the stream read whole and read in random pieces gives the same events and error;
//  - every text message is valid UTF-8 by the standard library's own decoder;
//  - no message or control payload exceeds its limit; a close code is one that may be on the wire.

private enum Observed: Equatable {
    case text([UInt8]), binary([UInt8]), ping([UInt8]), pong([UInt8]), close(UInt16?, [UInt8]), failed(WebSocketError)
}

private func readAll(_ stream: [UInt8], role: WebSocketRole, limits: WebSocketLimits, pieces: [Int]) -> [Observed] {
    var reader = WebSocketReader(role: role, limits: limits)
    var observed: [Observed] = []
    var start = 0
    var pieceIndex = 0
    while start < stream.count {
        let length = pieces.isEmpty ? stream.count : min(pieces[pieceIndex % pieces.count], stream.count - start)
        pieceIndex += 1
        var chunk = Array(stream[start..<start + length])
        start += length
        var offset = 0
        let stop: Bool = chunk.withUnsafeMutableBytes { buffer in
            while true {
                switch reader.next(buffer, offset: &offset) {
                case .needMoreInput: return false
                case .failed(let error):
                    observed.append(.failed(error))
                    return true
                case .event(let event):
                    switch event {
                    case .text(let bytes):
                        precondition(String(validating: Array(bytes), as: UTF8.self) != nil, "reader passed invalid UTF-8")
                        precondition(bytes.count <= limits.messageBytesMax)
                        observed.append(.text(Array(bytes)))
                    case .binary(let bytes):
                        precondition(bytes.count <= limits.messageBytesMax)
                        observed.append(.binary(Array(bytes)))
                    case .ping(let bytes):
                        precondition(bytes.count <= 125)
                        observed.append(.ping(Array(bytes)))
                    case .pong(let bytes):
                        precondition(bytes.count <= 125)
                        observed.append(.pong(Array(bytes)))
                    case .close(let code, let reason):
                        if let code { precondition(WebSocketCloseCode.isValidOnWire(code)) }
                        observed.append(.close(code, Array(reason)))
                    }
                }
            }
        }
        if stop { break }
    }
    return observed
}

@_cdecl("LLVMFuzzerTestOneInput")
public func frameReaderFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let control = data[0]
    let stream = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    let role: WebSocketRole = control & 1 == 0 ? .server : .client
    let limits = control & 2 == 0 ? WebSocketLimits(frameBytesMax: 64, messageBytesMax: 200) : WebSocketLimits()
    var seed = UInt64(control >> 2) &+ 0x9E37_79B9_7F4A_7C15
    var pieces: [Int] = []
    for _ in 0..<8 {
        seed = seed &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
        pieces.append(Int(seed >> 60) + 1)  // 1...16 bytes
    }
    let whole = readAll(stream, role: role, limits: limits, pieces: [])
    let split = readAll(stream, role: role, limits: limits, pieces: pieces)
    precondition(whole == split, "reader results depend on how the stream is split")
    return 0
}
