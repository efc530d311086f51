// libFuzzer target for the server's decoding of client game messages (ClientMessage.decode), compiled by
// tools/fuzz.sh with Sources/Wire and Simulation/Engine in one module.
//
// Byte 0 picks the game's input bit count (1-64); the rest is one message. Checked besides "never traps": a message
// that decodes encodes back to bytes that decode to the same message (the serialise functions cannot drift apart).

@_cdecl("LLVMFuzzerTestOneInput")
public func clientMessageFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    guard size >= 1 else { return 0 }
    let inputBitCount = Int(data[0] % 64) + 1
    let bytes = Array(UnsafeBufferPointer(start: data + 1, count: size - 1))
    guard let message = try? ClientMessage.decode(bytes, inputBitCount: inputBitCount) else { return 0 }
    guard let again = try? message.encoded(inputBitCount: inputBitCount) else { preconditionFailure("a decoded message does not encode: \(message)") }
    guard let twice = try? ClientMessage.decode(again, inputBitCount: inputBitCount) else { preconditionFailure("re-encoded message does not decode") }
    precondition("\(twice)" == "\(message)", "round trip changed \(message) into \(twice)")
    return 0
}
