import CEpoll
import WebSocket

/// The application side of a WebSocket channel (echo, a bot, a player). Called on the channel's loop.
public protocol WebSocketChannelHandler: AnyObject {
    /// A complete text message; the bytes are valid only during the call.
    func channel(_ channel: WebSocketChannel, didReceiveText bytes: UnsafeRawBufferPointer)
    /// Bytes are ready and about to be read (see `TCPConnectionDelegate.connectionWillRead`): what the handler sends
    /// now leaves before they are acknowledged, and carries that acknowledgement.
    func channelWillRead(_ channel: WebSocketChannel)
    /// A complete binary message; the bytes are valid only during the call.
    func channel(_ channel: WebSocketChannel, didReceiveBinary bytes: UnsafeRawBufferPointer)
    /// A pong arrived (for RTT measurements).
    func channel(_ channel: WebSocketChannel, didReceivePong bytes: UnsafeRawBufferPointer)
    /// Unsent bytes crossed the high watermark (false) or fell back to the low one (true).
    func channel(_ channel: WebSocketChannel, didChangeWritability isWritable: Bool)
    /// The channel closed; `code` is 1006 when no close frame was exchanged. Called once.
    func channelDidClose(_ channel: WebSocketChannel, code: UInt16, reason: String)
}

extension WebSocketChannelHandler {
    public func channelWillRead(_ channel: WebSocketChannel) {}
    public func channel(_ channel: WebSocketChannel, didReceiveText bytes: UnsafeRawBufferPointer) {}
    public func channel(_ channel: WebSocketChannel, didReceivePong bytes: UnsafeRawBufferPointer) {}
    public func channel(_ channel: WebSocketChannel, didChangeWritability isWritable: Bool) {}
}

/// Receives one line per peer that broke the protocol or timed out (the server logs it).
public typealias ChannelViolationLogger = @Sendable (_ peer: String, _ code: UInt16, _ reason: String) -> Void

/// Reasons the channel itself gives when it fails or gives up on a peer (the server counts each by its reason).
public enum WebSocketChannelReason {
    /// The peer was silent (no complete message or control frame) for `idleTimeoutNs`.
    public static let idleTimeout = "idle timeout"
    /// A started message did not arrive whole within `messageTimeoutNs`.
    public static let messageTimeout = "message not completed in time"
    /// The peer did not answer our close frame within `closeTimeoutNs`.
    public static let closeTimeout = "close handshake timeout"
}

/// A WebSocket connection after the handshake, in either role: reads frames with `WebSocketReader`, answers
/// pings, pings an idle peer and closes one that stays silent, runs the close handshake, and fails the
/// connection with the right close code when the peer breaks RFC 6455.
public final class WebSocketChannel: TCPConnectionDelegate {
    private enum State { case open, closeSent(deadlineNs: UInt64), closed }

    /// The TCP connection underneath.
    public let connection: TCPConnection
    /// Server or client.
    public let role: WebSocketRole
    /// The subprotocol negotiated in the handshake.
    public let subprotocol: String?
    /// The application handler.
    public var handler: WebSocketChannelHandler?
    /// Gets a line for each peer that breaks the rules.
    public var violationLogger: ChannelViolationLogger?

    private var reader: WebSocketReader
    private var state = State.open
    private var pingOutstanding = false
    private var closeReported = false
    /// When the peer last completed something (a message or a control frame): bytes that complete nothing, such
    /// as empty fragments or a message trickled a byte at a time, do not keep a connection alive.
    private var lastProgressNs: UInt64
    /// When the unfinished frame or message being read started (0: none).
    private var partialSinceNs: UInt64 = 0
    /// The latest ping not answered yet (while the peer does not read, or past `pongsPerReadMax` in one read):
    /// one pong answers it when the peer reads again, however many pings came.
    private var pendingPong: [UInt8] = []
    private var hasPendingPong = false
    private var pongsThisRead: UInt16 = 0

    /// Wraps an upgraded connection and becomes its delegate.
    public init(connection: TCPConnection, role: WebSocketRole, subprotocol: String?, limits: WebSocketLimits,
                handler: WebSocketChannelHandler?) {
        self.connection = connection
        self.role = role
        self.subprotocol = subprotocol
        self.handler = handler
        reader = WebSocketReader(role: role, limits: limits)
        lastProgressNs = connection.loop.nowNs
        connection.delegate = self
    }

    /// True until a close frame was sent or received.
    public var isOpen: Bool { if case .open = state { return connection.isOpen } else { return false } }

    // MARK: Sending

    /// Sends a binary message.
    @discardableResult
    public func send(binary payload: UnsafeRawBufferPointer) -> Bool { send(.binary, payload) }

    /// Sends a text message (must be UTF-8; Swift strings are).
    @discardableResult
    public func send(text: String) -> Bool {
        var text = text
        return text.withUTF8 { send(.text, UnsafeRawBufferPointer($0)) }
    }

    /// Sends a ping.
    @discardableResult
    public func sendPing(_ payload: UnsafeRawBufferPointer) -> Bool { send(.ping, payload) }

    /// Sends several binary messages, one frame each, with a single write() when they fit the loop's scratch
    /// buffer (a client batching its inputs saves a system call per message). Returns false once a send fails.
    @discardableResult
    public func send(binaryMessages payloads: [[UInt8]]) -> Bool {
        guard case .open = state else { return false }
        let scratch = connection.loop.scratchBuffer
        let total = payloads.reduce(0) { $0 + WebSocketFrameEncoder.headerLength(payloadLength: $1.count, masked: role == .client) + $1.count }
        guard payloads.count > 1, total <= scratch.count else {
            for payload in payloads where !payload.withUnsafeBytes({ writeFrame(.binary, $0, fin: true) }) { return false }
            return true
        }
        var offset = 0
        for payload in payloads { payload.withUnsafeBytes { offset = appendBinaryFrame($0, toScratchAt: offset) } }
        return connection.write(UnsafeRawBufferPointer(start: scratch.baseAddress!, count: offset))
    }

    /// `send(binaryMessages:)` for messages stored back to back in `bytes`, message i ending at `ends[i]` (a
    /// client's reused batch buffer: no array a message). `ends` ascends and stays within `bytes`.
    @discardableResult
    public func send(binaryMessagesIn bytes: UnsafeRawBufferPointer, ends: [Int]) -> Bool {
        guard case .open = state else { return false }
        func payload(_ position: Int) -> UnsafeRawBufferPointer {
            UnsafeRawBufferPointer(rebasing: bytes[(position == 0 ? 0 : ends[position - 1])..<ends[position]])
        }
        let headersMax = ends.count * WebSocketFrameEncoder.headerBytesMax
        guard ends.count > 1, bytes.count + headersMax <= connection.loop.scratchBuffer.count else {
            for position in ends.indices where !writeFrame(.binary, payload(position), fin: true) { return false }
            return true
        }
        var offset = 0
        for position in ends.indices { offset = appendBinaryFrame(payload(position), toScratchAt: offset) }
        return connection.write(UnsafeRawBufferPointer(start: connection.loop.scratchBuffer.baseAddress!, count: offset))
    }

    /// Builds one binary frame (masked on the client side) at `offset` in the loop's scratch buffer, which the caller
    /// checked has room; returns the offset after it.
    private func appendBinaryFrame(_ payload: UnsafeRawBufferPointer, toScratchAt offset: Int) -> Int {
        let base = connection.loop.scratchBuffer.baseAddress! + offset
        let maskKey: UInt32? = role == .client ? connection.loop.nextMaskKey() : nil
        let headerLength = WebSocketFrameEncoder.writeHeader(to: base, opcode: .binary, fin: true, payloadLength: payload.count, maskKey: maskKey)
        if let start = payload.baseAddress, !payload.isEmpty { (base + headerLength).copyMemory(from: start, byteCount: payload.count) }
        if let maskKey {
            WebSocketMask.apply(key: maskKey, to: UnsafeMutableRawBufferPointer(start: base + headerLength, count: payload.count), offset: 0)
        }
        return offset + headerLength + payload.count
    }

    /// Writes a frame that is already encoded (a broadcast built once for many recipients). Server role only.
    @discardableResult
    public func sendPreframed(_ frame: UnsafeRawBufferPointer) -> Bool {
        guard case .open = state else { return false }
        return connection.write(frame)
    }

    /// Sends one frame. Small frames are built in the loop's scratch buffer and written with one write();
    /// large server frames go out as header + payload with one writev, without copying the payload.
    @discardableResult
    public func send(_ opcode: WebSocketOpcode, _ payload: UnsafeRawBufferPointer, fin: Bool = true) -> Bool {
        guard case .open = state else { return false }
        return writeFrame(opcode, payload, fin: fin)
    }

    private func writeFrame(_ opcode: WebSocketOpcode, _ payload: UnsafeRawBufferPointer, fin: Bool) -> Bool {
        let maskKey: UInt32? = role == .client ? connection.loop.nextMaskKey() : nil
        let scratch = connection.loop.scratchBuffer
        let headerLength = WebSocketFrameEncoder.headerLength(payloadLength: payload.count, masked: maskKey != nil)
        if headerLength + payload.count <= scratch.count {
            let base = scratch.baseAddress!
            let written = WebSocketFrameEncoder.writeHeader(to: base, opcode: opcode, fin: fin, payloadLength: payload.count, maskKey: maskKey)
            if let source = payload.baseAddress, !payload.isEmpty { (base + written).copyMemory(from: source, byteCount: payload.count) }
            if let maskKey {
                WebSocketMask.apply(key: maskKey, to: UnsafeMutableRawBufferPointer(start: base + written, count: payload.count), offset: 0)
            }
            return connection.write(UnsafeRawBufferPointer(start: base, count: written + payload.count))
        }
        if let maskKey {
            let frame = WebSocketFrameEncoder.frame(opcode: opcode, payload: payload, fin: fin, maskKey: maskKey)
            return frame.withUnsafeBytes { connection.write($0) }
        }
        var header: (UInt64, UInt64) = (0, 0)
        return withUnsafeMutableBytes(of: &header) { headerBytes in
            let length = WebSocketFrameEncoder.writeHeader(to: headerBytes.baseAddress!, opcode: opcode, fin: fin, payloadLength: payload.count)
            return connection.write(UnsafeRawBufferPointer(rebasing: headerBytes[0..<length]), payload)
        }
    }

    /// Starts the closing handshake: sends a close frame and waits up to `closeTimeoutNs` for the peer's.
    public func close(code: UInt16 = WebSocketCloseCode.normalClosure, reason: String = "") {
        guard case .open = state else { return }
        sendCloseFrame(code: code, reason: reason)
        state = .closeSent(deadlineNs: connection.loop.nowNs + connection.limits.closeTimeoutNs)
        reportClose(code: code, reason: reason)
    }

    /// Fails the connection (RFC 6455 §7.1.7): close frame with `code`, then end TCP without waiting.
    public func fail(code: UInt16, reason: String) {
        violationLogger?(connection.peer, code, reason)
        if case .open = state { sendCloseFrame(code: code, reason: reason) }
        state = .closed
        connection.closeAfterFlush()
        reportClose(code: code, reason: reason)
    }

    private func sendCloseFrame(code: UInt16?, reason: String) {
        let payload = code.map { WebSocketFrameEncoder.closePayload(code: $0, reason: reason) } ?? []
        _ = payload.withUnsafeBytes { writeFrame(.close, $0, fin: true) }
    }

    private func reportClose(code: UInt16, reason: String) {
        guard !closeReported else { return }
        closeReported = true
        let handler = self.handler
        handler?.channelDidClose(self, code: code, reason: reason)
    }

    // MARK: TCPConnectionDelegate

    public func connectionWillRead(_ connection: TCPConnection) {
        guard case .open = state else { return }
        handler?.channelWillRead(self)
    }

    public func connectionDidRead(_ connection: TCPConnection, _ bytes: UnsafeMutableRawBufferPointer) {
        var offset = 0
        pongsThisRead = 0
        defer { finishRead() }
        while true {
            switch reader.next(bytes, offset: &offset) {
            case .needMoreInput:
                return
            case .failed(let error):
                fail(code: error.closeCode, reason: error.reason)
                return
            case .event(let event):
                lastProgressNs = connection.loop.nowNs
                pingOutstanding = false
                if !handle(event) { return }
            }
        }
    }

    /// After a read: starts the clock on an unfinished message, and answers a ping held back in it.
    private func finishRead() {
        if reader.isBetweenMessages {
            partialSinceNs = 0
        } else if partialSinceNs == 0 {
            partialSinceNs = connection.loop.nowNs
        }
        if hasPendingPong, connection.unsentBytes == 0 { sendPendingPong() }
    }

    private func answerPing(_ payload: UnsafeRawBufferPointer) {
        guard connection.unsentBytes == 0, Int(pongsThisRead) < connection.limits.pongsPerReadMax else {
            // Replaced in place: a flood of pings from a peer that does not read costs no allocation each.
            pendingPong.removeAll(keepingCapacity: true)
            pendingPong.append(contentsOf: payload)
            hasPendingPong = true
            return
        }
        pongsThisRead += 1
        _ = writeFrame(.pong, payload, fin: true)
    }

    private func sendPendingPong() {
        guard hasPendingPong, case .open = state else { return }
        hasPendingPong = false
        _ = pendingPong.withUnsafeBytes { writeFrame(.pong, $0, fin: true) }
    }

    public func connectionDidDrain(_ connection: TCPConnection) {
        if hasPendingPong { sendPendingPong() }
    }

    /// Handles one event; false when reading must stop.
    private func handle(_ event: WebSocketEvent) -> Bool {
        switch event {
        case .text(let bytes):
            if case .open = state { handler?.channel(self, didReceiveText: bytes) }
        case .binary(let bytes):
            if case .open = state { handler?.channel(self, didReceiveBinary: bytes) }
        case .ping(let bytes):
            if case .open = state { answerPing(bytes) }
        case .pong(let bytes):
            handler?.channel(self, didReceivePong: bytes)
        case .close(let code, let reasonBytes):
            let reason = String(decoding: reasonBytes, as: UTF8.self)
            if case .open = state {
                // Echo the peer's code (an empty close is answered with an empty close).
                sendCloseFrame(code: code, reason: "")
            }
            state = .closed
            connection.closeAfterFlush()
            reportClose(code: code ?? WebSocketCloseCode.noStatusReceived, reason: reason)
            return false
        }
        return connection.isOpen
    }

    public func connectionDidChangeWritability(_ connection: TCPConnection, isWritable: Bool) {
        handler?.channel(self, didChangeWritability: isWritable)
    }

    public func connectionSweep(_ connection: TCPConnection, nowNs: UInt64) {
        switch state {
        case .closeSent(let deadlineNs) where nowNs >= deadlineNs:
            violationLogger?(connection.peer, WebSocketCloseCode.abnormalClosure, WebSocketChannelReason.closeTimeout)
            connection.close(reason: .timeout)
        case .open:
            let silentNs = nowNs &- lastProgressNs
            if partialSinceNs != 0, nowNs &- partialSinceNs >= connection.limits.messageTimeoutNs {
                fail(code: WebSocketCloseCode.policyViolation, reason: WebSocketChannelReason.messageTimeout)
            } else if silentNs >= connection.limits.idleTimeoutNs {
                fail(code: WebSocketCloseCode.goingAway, reason: WebSocketChannelReason.idleTimeout)
            } else if silentNs >= connection.limits.pingIntervalNs && !pingOutstanding {
                pingOutstanding = true
                _ = writeFrame(.ping, UnsafeRawBufferPointer(start: nil, count: 0), fin: true)
            }
        default:
            break
        }
    }

    public func connectionDidClose(_ connection: TCPConnection, reason: TCPCloseReason) {
        state = .closed
        reportClose(code: WebSocketCloseCode.abnormalClosure, reason: "\(reason)")
        handler = nil
    }
}
