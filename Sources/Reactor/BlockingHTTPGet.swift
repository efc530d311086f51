import CEpoll
import Glibc
import WebSocket

/// Why a `BlockingHTTPGet` failed.
public enum BlockingHTTPGetError: Error, Equatable, Sendable {
    /// The host is not an IP literal, or the connection failed (errno).
    case connect(errno: Int32)
    /// The whole exchange did not finish within its time limit.
    case timeout
    /// The response went past `responseBytesMax`.
    case tooLarge
    /// The response head did not parse, or the body ended before its Content-Length.
    case malformedResponse
    /// Reading or writing failed (errno).
    case io(errno: Int32)
}

/// One HTTP/1.1 GET on a blocking thread (not an event loop), with a deadline and a size limit: how `tickwire bots`
/// reads the server's `/metrics` before and after a run. For small bodies with a Content-Length or a close.
public enum BlockingHTTPGet {
    /// Default time for the whole exchange.
    public static let timeoutMsDefault = 2_000
    /// Default limit on the whole response, head included.
    public static let responseBytesMaxDefault = 1 << 20

    /// GETs `path` from `host` (an IPv4 or IPv6 literal) and `port`; the status and the body.
    public static func get(host: String, port: UInt16, path: String, timeoutMs: Int = timeoutMsDefault,
                           responseBytesMax: Int = responseBytesMaxDefault) -> Result<(status: Int, body: [UInt8]), BlockingHTTPGetError> {
        let deadlineNs = monotonicNowNs() + UInt64(max(timeoutMs, 0)) * 1_000_000
        let fd = tw_connect_tcp(host, port)
        guard fd >= 0 else { return .failure(.connect(errno: -fd)) }
        defer { close(fd) }
        // Connected when writable, then the pending error says how.
        if let failure = wait(fd, for: Int16(POLLOUT), until: deadlineNs) { return .failure(failure) }
        let connectError = tw_socket_error(fd)
        guard connectError == 0 else { return .failure(.connect(errno: connectError)) }
        let request = Array("GET \(path) HTTP/1.1\r\nHost: \(host):\(port)\r\nConnection: close\r\n\r\n".utf8)
        var sent = 0
        while sent < request.count {
            if let failure = wait(fd, for: Int16(POLLOUT), until: deadlineNs) { return .failure(failure) }
            let count = request.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + sent, request.count - sent) }
            if count < 0 {
                let error = tw_errno()
                if error == EAGAIN || error == EINTR { continue }
                return .failure(.io(errno: error))
            }
            sent += count
        }
        var response: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16_384)
        while true {
            if let complete = completeResponse(response) { return complete }
            if let failure = wait(fd, for: Int16(POLLIN), until: deadlineNs) { return .failure(failure) }
            let count = chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                let error = tw_errno()
                if error == EAGAIN || error == EINTR { continue }
                return .failure(.io(errno: error))
            }
            if count == 0 { return completeResponse(response, atEnd: true) ?? .failure(.malformedResponse) }
            guard response.count + count <= responseBytesMax else { return .failure(.tooLarge) }
            response.append(contentsOf: chunk[..<count])
        }
    }

    /// The status and body once `bytes` hold a whole response (its Content-Length, or everything at the end of the
    /// stream); nil while more is needed; a failure for a head that does not parse.
    static func completeResponse(_ bytes: [UInt8], atEnd: Bool = false) -> Result<(status: Int, body: [UInt8]), BlockingHTTPGetError>? {
        let headLength: Int?
        do { headLength = try HTTPHeadParser.headLength(in: bytes, limitBytes: HTTPHeadParser.headBytesLimitDefault) } catch {
            return .failure(.malformedResponse)
        }
        guard let headLength else { return atEnd ? .failure(.malformedResponse) : nil }
        let head: HTTPResponseHead
        do { head = try bytes.withUnsafeBytes { buffer throws(HTTPParseError) in try HTTPHeadParser.parseResponse(UnsafeRawBufferPointer(rebasing: buffer[..<headLength])) } } catch {
            return .failure(.malformedResponse)
        }
        let body = bytes[headLength...]
        if let lengthText = head.headers["Content-Length"] {
            guard let length = Int(lengthText), length >= 0 else { return .failure(.malformedResponse) }
            if body.count >= length { return .success((head.status, Array(body.prefix(length)))) }
            return atEnd ? .failure(.malformedResponse) : nil
        }
        return atEnd ? .success((head.status, Array(body))) : nil
    }

    /// Waits until `fd` is ready for `events`; a failure when the deadline passes first.
    private static func wait(_ fd: Int32, for events: Int16, until deadlineNs: UInt64) -> BlockingHTTPGetError? {
        while true {
            let nowNs = monotonicNowNs()
            guard nowNs < deadlineNs else { return .timeout }
            var request = pollfd(fd: fd, events: events, revents: 0)
            let ready = poll(&request, 1, Int32(min((deadlineNs - nowNs) / 1_000_000 + 1, 60_000)))
            if ready > 0 { return nil }  // ready, or an error the next call reports
            if ready < 0 && tw_errno() != EINTR { return .io(errno: tw_errno()) }
        }
    }
}
