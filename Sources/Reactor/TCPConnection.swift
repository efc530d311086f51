import CEpoll
import Glibc

/// Why a TCP connection ended.
public enum TCPCloseReason: Equatable, Sendable {
    /// We closed it (after our side of the protocol finished, or on a protocol violation).
    case local
    /// The peer closed its end.
    case peerClosed
    /// The peer did not take our bytes fast enough and the write queue passed its limit.
    case writeQueueOverflow
    /// A timeout of the protocol above (handshake, idle, close).
    case timeout
    /// A socket error (reset, refused, …).
    case error(SystemError)
    /// The event loop shut down.
    case shutdown
}

/// Hears that a connection's socket was closed (see `TCPConnection.closeObserver`). Called on the connection's loop.
public protocol SocketCloseObserver: AnyObject, Sendable {
    func socketDidClose(_ connection: TCPConnection, reason: TCPCloseReason)
}

/// The protocol layer on top of a TCP connection (the HTTP handshake, then a WebSocket channel).
public protocol TCPConnectionDelegate: AnyObject {
    /// A client connection finished connecting.
    func connectionDidConnect(_ connection: TCPConnection)
    /// Bytes are ready and about to be read: the last moment to write something that should leave first. A write
    /// carries the TCP acknowledgement of what arrived; a read of a small segment, written after, would send an
    /// acknowledgement of its own. Must not move the connection to another loop.
    func connectionWillRead(_ connection: TCPConnection)
    /// Bytes arrived. They live in the loop's read buffer: use them now or copy them.
    func connectionDidRead(_ connection: TCPConnection, _ bytes: UnsafeMutableRawBufferPointer)
    /// Unsent bytes crossed the high watermark (false) or fell back to the low one (true).
    func connectionDidChangeWritability(_ connection: TCPConnection, isWritable: Bool)
    /// The write queue emptied (the peer took every queued byte).
    func connectionDidDrain(_ connection: TCPConnection)
    /// The connection is closed; called once. The delegate is released afterwards.
    func connectionDidClose(_ connection: TCPConnection, reason: TCPCloseReason)
    /// Periodic check for the delegate's own timeouts.
    func connectionSweep(_ connection: TCPConnection, nowNs: UInt64)
}

extension TCPConnectionDelegate {
    public func connectionDidConnect(_ connection: TCPConnection) {}
    public func connectionWillRead(_ connection: TCPConnection) {}
    public func connectionDidChangeWritability(_ connection: TCPConnection, isWritable: Bool) {}
    public func connectionDidDrain(_ connection: TCPConnection) {}
    public func connectionSweep(_ connection: TCPConnection, nowNs: UInt64) {}
}

/// A non-blocking TCP connection owned by one event loop: reads into the loop's shared buffer, writes directly
/// to the socket and queues only what the kernel did not take (flushed with writev on EPOLLOUT), with
/// high/low watermarks for backpressure and a hard limit for peers that stop reading.
public final class TCPConnection: EventLoopHandler {
    private enum State { case connecting, open, lingering, closed }

    /// The socket.
    public let fd: Int32
    /// The loop the connection belongs to (changes only through `move(to:)`).
    public private(set) var loop: EventLoop
    /// The peer address as text, for logs.
    public let peer: String
    /// Limits and timeouts.
    public let limits: ConnectionLimits
    /// The protocol on top; released when the connection closes.
    public var delegate: TCPConnectionDelegate?

    /// Monotonic time of the last bytes received (or of the connect).
    public private(set) var lastReadNs: UInt64
    /// True while unsent bytes are under the high watermark (or have fallen back to the low one).
    public private(set) var isWritable = true
    /// Bytes total received and sent, for metrics.
    public private(set) var bytesReceived = 0
    public private(set) var bytesSent = 0

    // The three stored properties every write reads skip the run-time exclusivity check (one `swift_beginAccess`,
    // about 76 instructions, each; `callgrind` on the benchmark broadcast, docs/performance.md). Safe: the connection
    // is confined to its loop, and no access to them overlaps another (no inout escapes, no re-entrant callbacks while
    // one is held).
    @exclusivity(unchecked) private var state: State
    @exclusivity(unchecked) private var writeQueue = WriteQueue()
    private var readingPaused = false
    private var watchingWritable = false
    @exclusivity(unchecked) private var shutdownWhenFlushed = false
    private var closeWhenFlushed = false
    /// When a connection waiting to flush its last bytes (`closeAfterFlush`) is closed anyway: a peer that never
    /// reads must not hold a closing connection forever.
    private var flushDeadlineNs: UInt64 = 0
    private var lingerDeadlineNs: UInt64 = 0
    private var connectDeadlineNs: UInt64 = 0
    /// Told once, on the connection's loop, when the socket is closed (whatever the delegate is by then): the
    /// server's connection counts cover every state of a connection until its file descriptor is gone. One observer
    /// serves every connection, so a connection pays a reference, not a closure.
    public var closeObserver: SocketCloseObserver?
    /// What the close observer charged this connection to (the server's client address key), opaque to the reactor.
    public var accountingKey: String?

    /// Bytes waiting for the kernel.
    public var unsentBytes: Int { writeQueue.byteCount }
    /// Heap bytes the write queue holds for them (what `writeQueueBytesMax` limits).
    public var writeQueueCostBytes: Int { writeQueue.costBytes }
    /// Chunks in the write queue (small writes share one).
    public var writeQueueChunkCount: Int { writeQueue.chunkCount }
    /// True once `closeAfterFlush` was called: the connection only finishes sending.
    public var isClosing: Bool { shutdownWhenFlushed || state == .lingering }
    /// True until the connection closes.
    public var isOpen: Bool { state == .open || state == .connecting }

    init(fd: Int32, loop: EventLoop, peer: String, limits: ConnectionLimits, connecting: Bool) {
        self.fd = fd
        self.loop = loop
        self.peer = peer
        self.limits = limits
        state = connecting ? .connecting : .open
        lastReadNs = loop.nowNs
        connectDeadlineNs = connecting ? loop.nowNs + limits.handshakeTimeoutNs : 0
    }

    /// Adopts an accepted socket on `loop` (call on that loop).
    public static func adopt(fd: Int32, peer: String, on loop: EventLoop, limits: ConnectionLimits,
                             delegate: TCPConnectionDelegate) throws(SystemError) -> TCPConnection {
        let connection = TCPConnection(fd: fd, loop: loop, peer: peer, limits: limits, connecting: false)
        connection.delegate = delegate
        try loop.register(fd: fd, events: TW_EPOLLIN | TW_EPOLLRDHUP, handler: connection)
        return connection
    }

    /// Starts a non-blocking connect to `host:port` (an IP literal) on `loop`; the delegate hears
    /// `connectionDidConnect` or `connectionDidClose`.
    public static func connect(host: String, port: UInt16, on loop: EventLoop, limits: ConnectionLimits,
                               delegate: TCPConnectionDelegate) throws(SystemError) -> TCPConnection {
        let fd = tw_connect_tcp(host, port)
        guard fd >= 0 else { throw SystemError("connect", errno: -fd) }
        let connection = TCPConnection(fd: fd, loop: loop, peer: "\(host):\(port)", limits: limits, connecting: true)
        connection.delegate = delegate
        do {
            try loop.register(fd: fd, events: TW_EPOLLOUT | TW_EPOLLIN | TW_EPOLLRDHUP, handler: connection)
        } catch {
            Glibc.close(fd)
            throw error
        }
        connection.watchingWritable = true
        return connection
    }

    // MARK: Events

    public func handleEvents(_ events: UInt32) {
        if state == .connecting {
            finishConnecting(events)
            return
        }
        if events & TW_EPOLLOUT != 0 { flushQueue() }
        if events & (TW_EPOLLIN | TW_EPOLLHUP | TW_EPOLLERR | TW_EPOLLRDHUP) != 0, state == .open || state == .lingering {
            readAvailable(events)
        }
    }

    private func finishConnecting(_ events: UInt32) {
        let error = tw_socket_error(fd)
        guard error == 0, events & (TW_EPOLLERR | TW_EPOLLHUP) == 0 else {
            close(reason: .error(SystemError("connect", errno: error == 0 ? ECONNREFUSED : error)))
            return
        }
        state = .open
        lastReadNs = loop.nowNs
        updateInterest()
        delegate?.connectionDidConnect(self)
    }

    private func readAvailable(_ events: UInt32) {
        if state == .open {
            delegate?.connectionWillRead(self)
            guard state == .open else { return }  // the delegate's write failed and closed it
        }
        let buffer = loop.readBuffer
        let count = tw_recv(fd, buffer.baseAddress, buffer.count)
        if count > 0 {
            bytesReceived += count
            loop.countReceived(count)
            lastReadNs = loop.nowNs
            if state == .lingering { return }  // we are closing: discard until the peer's end
            delegate?.connectionDidRead(self, UnsafeMutableRawBufferPointer(rebasing: buffer[0..<count]))
        } else if count == 0 {
            close(reason: .peerClosed)
        } else {
            let error = tw_errno()
            if error == EAGAIN || error == EINTR { return }
            close(reason: .error(SystemError("recv", errno: error)))
        }
    }

    public func sweep(nowNs: UInt64) {
        switch state {
        case .connecting where nowNs >= connectDeadlineNs:
            close(reason: .timeout)
        case .lingering where nowNs >= lingerDeadlineNs:
            close(reason: .local)
        case .open where shutdownWhenFlushed:
            if nowNs >= flushDeadlineNs { close(reason: .timeout) }
        case .open:
            delegate?.connectionSweep(self, nowNs: nowNs)
        default:
            break
        }
    }

    public func loopDidStop() { close(reason: .shutdown) }

    // MARK: Writing

    /// Sends `bytes` (copied only if the kernel does not take them all). Returns false if the connection is closed.
    @discardableResult
    public func write(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard state == .open, !shutdownWhenFlushed else { return false }
        guard writeQueue.isEmpty else { return enqueue(bytes) }
        guard let written = account(tw_send(fd, bytes.baseAddress, bytes.count), call: "send") else { return false }
        return written == bytes.count || enqueue(UnsafeRawBufferPointer(rebasing: bytes[written...]))
    }

    /// Sends `header` then `payload` with one writev, without joining them.
    @discardableResult
    public func write(_ header: UnsafeRawBufferPointer, _ payload: UnsafeRawBufferPointer) -> Bool {
        guard state == .open, !shutdownWhenFlushed else { return false }
        guard writeQueue.isEmpty else { return enqueue(header) && enqueue(payload) }
        var vectors = (iovec(iov_base: UnsafeMutableRawPointer(mutating: header.baseAddress), iov_len: header.count),
                       iovec(iov_base: UnsafeMutableRawPointer(mutating: payload.baseAddress), iov_len: payload.count))
        let result = withUnsafeMutableBytes(of: &vectors) { raw in
            tw_writev(fd, raw.baseAddress!.assumingMemoryBound(to: iovec.self), 2)
        }
        guard let written = account(result, call: "writev") else { return false }
        if written == header.count + payload.count { return true }
        if written < header.count {
            return enqueue(UnsafeRawBufferPointer(rebasing: header[written...])) && enqueue(payload)
        }
        return enqueue(UnsafeRawBufferPointer(rebasing: payload[(written - header.count)...]))
    }

    /// Counts a write's result: bytes written (0 when the socket is full), or nil after closing on an error.
    private func account(_ result: Int, call: String) -> Int? {
        if result >= 0 {
            bytesSent += result
            loop.countSent(result)
            return result
        }
        let error = tw_errno()
        if error == EAGAIN || error == EINTR { return 0 }
        close(reason: .error(SystemError(call, errno: error)))
        return nil
    }

    private func enqueue(_ bytes: UnsafeRawBufferPointer) -> Bool {
        guard state == .open else { return false }
        guard writeQueue.costBytes + writeQueue.costOfAppending(bytes.count) <= limits.writeQueueBytesMax else {
            close(reason: .writeQueueOverflow)
            return false
        }
        writeQueue.append(bytes)
        if !watchingWritable { updateInterest() }
        if isWritable && writeQueue.byteCount > limits.writeHighWatermarkBytes {
            isWritable = false
            delegate?.connectionDidChangeWritability(self, isWritable: false)
        }
        return true
    }

    private func flushQueue() {
        while !writeQueue.isEmpty {
            let written = writeQueue.flush(to: fd)
            if written < 0 {
                let error = Int32(-written)
                if error == EAGAIN || error == EINTR { break }
                close(reason: .error(SystemError("writev", errno: error)))
                return
            }
            bytesSent += written
            loop.countSent(written)
        }
        if writeQueue.isEmpty {
            updateInterest()
            if shutdownWhenFlushed {
                beginLinger()
            } else if state == .open {
                delegate?.connectionDidDrain(self)
            }
        }
        if !isWritable && writeQueue.byteCount <= limits.writeLowWatermarkBytes && state == .open {
            isWritable = true
            delegate?.connectionDidChangeWritability(self, isWritable: true)
        }
    }

    // MARK: Flow control and closing

    /// Stops reading (backpressure towards the peer) until `resumeReading`.
    public func pauseReading() {
        guard !readingPaused else { return }
        readingPaused = true
        updateInterest()
    }

    /// Resumes reading after `pauseReading`.
    public func resumeReading() {
        guard readingPaused else { return }
        readingPaused = false
        updateInterest()
    }

    private func updateInterest() {
        guard state == .open || state == .lingering else { return }
        let wantWritable = !writeQueue.isEmpty
        let events = (readingPaused ? 0 : TW_EPOLLIN | TW_EPOLLRDHUP) | (wantWritable ? TW_EPOLLOUT : 0)
        watchingWritable = wantWritable
        loop.modify(fd: fd, events: events)
    }

    /// Ends our side gracefully: once queued bytes are sent, sends FIN, then discards input until the peer
    /// closes or `closeTimeoutNs` passes. Closing at once could reset the connection and lose our last frame.
    /// Queued bytes get `flushTimeoutNs` (default `closeTimeoutNs`) to leave; then the connection is closed anyway.
    /// With `linger` false the socket is closed as soon as the bytes are sent, without waiting for the peer's end:
    /// for refusals, where a peer opening connections in a loop must not hold a descriptor per refusal for the close
    /// timeout.
    public func closeAfterFlush(flushTimeoutNs: UInt64? = nil, linger: Bool = true) {
        guard state == .open else { return }
        if !shutdownWhenFlushed { flushDeadlineNs = loop.nowNs &+ (flushTimeoutNs ?? limits.closeTimeoutNs) }
        if !linger { closeWhenFlushed = true }
        shutdownWhenFlushed = true
        readingPaused = false
        if writeQueue.isEmpty { beginLinger() } else { updateInterest() }
    }

    private func beginLinger() {
        guard state == .open else { return }
        _ = tw_shutdown_write(fd)
        if closeWhenFlushed { return close(reason: .local) }
        state = .lingering
        lingerDeadlineNs = loop.nowNs + limits.closeTimeoutNs
        updateInterest()
    }

    /// Closes the socket now and tells the delegate once.
    public func close(reason: TCPCloseReason = .local) {
        guard state != .closed else { return }
        state = .closed
        loop.deregister(fd: fd)
        Glibc.close(fd)
        writeQueue.removeAll()
        let delegate = self.delegate
        self.delegate = nil
        delegate?.connectionDidClose(self, reason: reason)
        let observer = closeObserver
        closeObserver = nil
        observer?.socketDidClose(self, reason: reason)
    }

    /// Hands the connection to another loop (e.g. the loop of the room it joins). Call on the current loop;
    /// `completion` runs on the new loop once the connection is registered there, and never for a connection that
    /// is closed or closing: whatever the completion hands it to would otherwise run on the wrong thread, or hold a
    /// dead connection. Returns false when the connection did not move for that reason.
    @discardableResult
    public func move(to target: EventLoop, completion: @escaping @Sendable (TCPConnection) -> Void) -> Bool {
        loop.preconditionInLoop()
        guard state == .open, !shutdownWhenFlushed else { return false }
        guard target !== loop else {
            completion(self)
            return true
        }
        loop.deregister(fd: fd)
        let transfer = UncheckedTransfer(self)
        target.execute {
            let connection = transfer.value
            target.preconditionInLoop()
            connection.loop = target
            let events = TW_EPOLLIN | TW_EPOLLRDHUP | (connection.writeQueue.isEmpty ? 0 : TW_EPOLLOUT)
            do throws(SystemError) {
                try target.register(fd: connection.fd, events: events, handler: connection)
            } catch {
                connection.close(reason: .error(error))
                return
            }
            completion(connection)
        }
        return true
    }
}

/// Carries a loop-confined object to another loop. Safe because the sender gives up every reference first.
struct UncheckedTransfer<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
