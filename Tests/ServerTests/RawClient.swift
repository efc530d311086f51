import Glibc
@testable import WebSocket

/// A blocking test client over a plain socket (5 s receive timeout), so tests can send any bytes at all,
/// including ones no real client library would, and read exactly what the server answers.
final class RawClient {
    let fd: Int32
    private var buffered: [UInt8] = []

    /// Connects to 127.0.0.1:`port` from `sourceAddress` (any 127.x.y.z: per-address limits see each as a client
    /// of its own), with a kernel receive buffer of `receiveBufferBytes` when given (a peer that reads slowly).
    init(port: UInt16, sourceAddress: String = "127.0.0.1", receiveBufferBytes: Int32? = nil) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 5, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        if var size = receiveBufferBytes { setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &size, socklen_t(MemoryLayout<Int32>.size)) }
        var source = sockaddr_in()
        source.sin_family = sa_family_t(AF_INET)
        source.sin_addr.s_addr = inet_addr(sourceAddress)
        let bound = withUnsafePointer(to: &source) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard bound == 0 else { throw RawClientError.connectFailed(errno) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = port.bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let result = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard result == 0 else { throw RawClientError.connectFailed(errno) }
    }

    /// Resets the connection (RST instead of FIN) when it is closed.
    func resetOnClose() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
    }

    /// Sends what the socket takes without blocking; returns bytes sent.
    func sendWithoutBlocking(_ bytes: [UInt8]) -> Int {
        bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
    }

    deinit { close(fd) }

    func send(_ bytes: [UInt8]) {
        var sent = 0
        while sent < bytes.count {
            let written = bytes[sent...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if written <= 0 { return }
            sent += written
        }
    }

    func send(_ text: String) { send(Array(text.utf8)) }

    /// Reads until `count` bytes are buffered; false on EOF or timeout.
    private func fill(_ count: Int) -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        while buffered.count < count {
            let received = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if received <= 0 { return false }
            buffered += chunk[0..<received]
        }
        return true
    }

    private func take(_ count: Int) -> [UInt8] {
        let taken = Array(buffered.prefix(count))
        buffered.removeFirst(min(count, buffered.count))
        return taken
    }

    /// Reads an HTTP response: head and (by Content-Length) body.
    func readResponse() throws -> (head: HTTPResponseHead, body: String) {
        while true {
            if let length = try HTTPHeadParser.headLength(in: buffered, limitBytes: 65536) {
                let head = try buffered.withUnsafeBytes { try HTTPHeadParser.parseResponse(UnsafeRawBufferPointer(rebasing: $0[0..<length])) }
                _ = take(length)
                let bodyLength = Int(head.headers["Content-Length"] ?? "0") ?? 0
                guard fill(bodyLength) else { throw RawClientError.closed }
                return (head, String(decoding: take(bodyLength), as: UTF8.self))
            }
            guard fill(buffered.count + 1) else { throw RawClientError.closed }
        }
    }

    /// Sends a WebSocket upgrade for `path` and reads the 101.
    func upgrade(path: String = "/echo", extraHeaders: String = "", pipelined: [UInt8] = []) throws -> HTTPResponseHead {
        send(Array(("GET \(path) HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                    + "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\(extraHeaders)\r\n").utf8) + pipelined)
        return try readResponse().head
    }

    /// Reads one server frame: FIN, opcode and payload.
    func readFrame() throws -> (fin: Bool, opcode: UInt8, payload: [UInt8]) {
        guard fill(2) else { throw RawClientError.closed }
        let first = buffered[0]
        let length7 = Int(buffered[1] & 0x7F)
        let extra = length7 == 126 ? 2 : length7 == 127 ? 8 : 0
        guard fill(2 + extra) else { throw RawClientError.closed }
        var length = length7
        if extra > 0 { length = buffered[2..<(2 + extra)].reduce(0) { $0 << 8 | Int($1) } }
        guard fill(2 + extra + length) else { throw RawClientError.closed }
        _ = take(2 + extra)
        return (first & 0x80 != 0, first & 0x0F, take(length))
    }

    /// Reads a close frame and returns its code and reason.
    func readClose() throws -> (code: UInt16, reason: String) {
        let frame = try readFrame()
        guard frame.opcode == 0x8, frame.payload.count >= 2 else { throw RawClientError.unexpectedFrame(frame.opcode) }
        return (UInt16(frame.payload[0]) << 8 | UInt16(frame.payload[1]), String(decoding: frame.payload[2...], as: UTF8.self))
    }

    /// True when the server has closed its end (EOF) within the timeout.
    func readsEndOfStream() -> Bool {
        var byte: UInt8 = 0
        while true {
            let received = recv(fd, &byte, 1, 0)
            if received == 0 { return true }
            if received < 0 { return errno == ECONNRESET }
        }
    }
}

enum RawClientError: Error {
    case connectFailed(Int32)
    case closed
    case unexpectedFrame(UInt8)
}
