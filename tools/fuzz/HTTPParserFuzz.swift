// libFuzzer target for the HTTP head parser and both sides of the handshake, compiled together with
// Sources/WebSocket by tools/fuzz.sh. Besides "never traps", it checks that a head is found only where a blank
// line ends, that the server's answer to any request is a well-formed response, and base64 round trips.

@_cdecl("LLVMFuzzerTestOneInput")
public func httpParserFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))
    let limit = 4096
    guard let headLength = try? HTTPHeadParser.headLength(in: bytes, limitBytes: limit) else { return 0 }
    precondition(headLength >= 4 && headLength <= min(bytes.count, limit))
    precondition(Array(bytes[headLength - 4..<headLength]) == [13, 10, 13, 10])

    if let request = try? HTTPHeadParser.parseRequest(bytes, length: headLength, headerCountLimit: 32) {
        let policies = [HandshakePolicy(), HandshakePolicy(subprotocols: ["tickwire.v1"], requiresSubprotocol: true,
                                                           originPolicy: OriginPolicy(allowing: ["http://a.example"]))]
        for policy in policies {
            switch ServerHandshake.accept(request, policy: policy) {
            case .success(let acceptance):
                let head = acceptance.response
                precondition(head.starts(with: Array("HTTP/1.1 101 ".utf8)))
                // Our own 101 must parse back and carry the accept value for the key that was sent.
                let parsed = try? head.withUnsafeBytes { buffer in
                    try HTTPHeadParser.parseResponse(buffer)
                }
                let key = request.headers["Sec-WebSocket-Key"] ?? ""
                precondition(parsed?.headers["Sec-WebSocket-Accept"] == ServerHandshake.acceptValue(forKey: key))
            case .failure(let rejection):
                let response = rejection.response.serialized()
                precondition([400, 403, 405, 426].contains(rejection.status))
                precondition(response.starts(with: Array("HTTP/1.1 \(rejection.status) ".utf8)))
            }
        }
    }
    // The same bytes as a server response to our client handshake.
    let client = ClientHandshake(host: "127.0.0.1:1", path: "/", subprotocols: ["tickwire.v1"])
    _ = bytes.withUnsafeBytes { client.validate(UnsafeRawBufferPointer(rebasing: $0[0..<headLength])) }

    // Base64: whatever decodes re-encodes to something that decodes to the same bytes.
    let text = String(decoding: bytes.prefix(64), as: UTF8.self)
    if let decoded = Base64.decode(text) {
        precondition(Base64.decode(Base64.encode(decoded)) == decoded)
    }
    return 0
}
