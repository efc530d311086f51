import CEpoll
import Glibc

/// A listening socket on one loop. With `SO_REUSEPORT` every loop of a group listens on the same port and the
/// kernel spreads new connections across them, so accepting needs no hand-off between threads.
public final class TCPListener: EventLoopHandler {
    /// Default listen backlog.
    public static let backlogDefault: Int32 = 4096
    /// Connections accepted per readiness event before yielding to other work on the loop.
    static let acceptsPerEventMax = 32
    /// How long accepting pauses after `accept` ran out of file descriptors (EMFILE/ENFILE). The listener is
    /// level-triggered: without a pause the loop would be woken again at once, and spin, for as long as the
    /// descriptors stay used. The backlog holds new peers meanwhile.
    public static let acceptPauseNsDefault: UInt64 = 100_000_000

    /// The listening socket.
    public let fd: Int32
    /// The bound port (useful with port 0).
    public let port: UInt16
    private let loop: EventLoop
    private let onAccept: (Int32, String) -> Void
    private let onError: (SystemError) -> Void
    private let acceptPauseNs: UInt64
    private var isPaused = false
    /// Times accepting paused for want of descriptors (for metrics).
    public private(set) var acceptPausesTotal = 0

    /// Listens on `host:port` (an IP literal) and calls `onAccept(fd, peer)` on `loop` for each connection.
    /// `onError` hears each failed `accept` that paused the listener (the caller rate-limits its log line).
    public init(host: String, port: UInt16, on loop: EventLoop, reusePort: Bool = true, backlog: Int32 = backlogDefault,
                acceptPauseNs: UInt64 = acceptPauseNsDefault,
                onAccept: @escaping (Int32, String) -> Void, onError: @escaping (SystemError) -> Void = { _ in }) throws(SystemError) {
        let fd = tw_listen_tcp(host, port, backlog, reusePort ? 1 : 0)
        guard fd >= 0 else { throw SystemError("listen on \(host):\(port)", errno: -fd) }
        self.fd = fd
        self.port = UInt16(tw_local_port(fd))
        self.loop = loop
        self.onAccept = onAccept
        self.onError = onError
        self.acceptPauseNs = acceptPauseNs
    }

    /// Starts accepting (call on the loop).
    public func start() throws(SystemError) {
        try loop.register(fd: fd, events: TW_EPOLLIN, handler: self)
    }

    public func handleEvents(_ events: UInt32) {
        var peer = [CChar](repeating: 0, count: 64)
        for _ in 0..<Self.acceptsPerEventMax {
            let accepted = tw_accept(fd, &peer, peer.count)
            if accepted < 0 {
                let error = -accepted
                if error == EAGAIN || error == EINTR || error == ECONNABORTED { return }
                // EMFILE/ENFILE (out of descriptors) or another error: stop watching for a while, or the
                // level-triggered readiness would wake the loop again at once; the backlog holds the peer.
                pause()
                onError(SystemError("accept", errno: error))
                return
            }
            let peerText = peer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            onAccept(accepted, peerText)
        }
    }

    private var isClosed = false

    private func pause() {
        guard !isPaused, !isClosed else { return }
        isPaused = true
        acceptPausesTotal += 1
        loop.deregister(fd: fd)
        loop.scheduleTimer(atNs: loop.nowNs + acceptPauseNs) { [weak self] _ in
            guard let self, !self.isClosed else { return }
            self.isPaused = false
            try? self.loop.register(fd: self.fd, events: TW_EPOLLIN, handler: self)
        }
    }

    /// Stops accepting and closes the socket (call on the loop).
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        loop.deregister(fd: fd)
        Glibc.close(fd)
    }

    public func loopDidStop() { close() }
}
