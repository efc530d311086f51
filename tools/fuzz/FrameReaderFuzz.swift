// libFuzzer target for WebSocketReader, compiled by tools/fuzz.sh together with Sources/WebSocket and the unit
// tests' reader harness (Tests/WebSocketTests/ReaderHarness.swift).
//
// Byte 0 picks the role, small or default limits, and the seed of a chunking pattern; the rest is the stream.
// Checked on every input, besides "never traps":
//  - split invariance: the stream read whole and read in pieces of 1-16 bytes gives the same events and error;
//  - no text message that is not UTF-8 (by the standard library's own decoder);
//  - no message over the message limit, no control payload over 125 bytes, no close code that may not be sent.

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
        pieces.append(Int(seed >> 60) + 1)
    }
    let whole = readEvents(stream, role: role, limits: limits, pieces: [])
    let split = readEvents(stream, role: role, limits: limits, pieces: pieces)
    precondition(whole == split, "reader results depend on how the stream is split")
    for event in whole {
        switch event {
        case .invalidText(let bytes): preconditionFailure("reader passed invalid UTF-8: \(bytes)")
        case .text(let text): precondition(text.utf8.count <= limits.messageBytesMax)
        case .binary(let bytes): precondition(bytes.count <= limits.messageBytesMax)
        case .ping(let bytes), .pong(let bytes): precondition(bytes.count <= 125)
        case .close(let code, let reason):
            precondition(reason.utf8.count <= 123)
            if let code { precondition(WebSocketCloseCode.isValidOnWire(code)) }
        case .failed: break
        }
    }
    return 0
}
