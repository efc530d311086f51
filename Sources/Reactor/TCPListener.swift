import CEpoll
import Glibc

/// A listening socket on one loop. With `SO_REUSEPORT` every loop of a group listens on the same port and the
/// kernel spreads new connections across them, so accepting needs no hand-off between threads.
public final class TCPListener: EventLoopHandler {
    /// Default listen backlog.
    public static let backlogDefault: Int32 = 4096
    /// Connections accepted per readiness event before yielding to other work on the loop.
    static let acceptsPerEventMax = 32

    /// The listening socket.
    public let fd: Int32
    /// The bound port (useful with port 0).
    public let port: UInt16
    private let loop: EventLoop
    private let onAccept: (Int32, String) -> Void
    private let onError: (SystemError) -> Void

    /// Listens on `host:port` (an IP literal) and calls `onAccept(fd, peer)` on `loop` for each connection.
    public init(host: String, port: UInt16, on loop: EventLoop, reusePort: Bool = true, backlog: Int32 = backlogDefault,
                onAccept: @escaping (Int32, String) -> Void, onError: @escaping (SystemError) -> Void = { _ in }) throws(SystemError) {
        let fd = tw_listen_tcp(host, port, backlog, reusePort ? 1 : 0)
        guard fd >= 0 else { throw SystemError("listen on \(host):\(port)", errno: -fd) }
        self.fd = fd
        self.port = UInt16(tw_local_port(fd))
        self.loop = loop
        self.onAccept = onAccept
        self.onError = onError
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
                // EMFILE/ENFILE: out of descriptors. Report it; the backlog holds the peer until one frees.
                onError(SystemError("accept", errno: error))
                return
            }
            let peerText = peer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
            onAccept(accepted, peerText)
        }
    }

    private var isClosed = false

    /// Stops accepting and closes the socket (call on the loop).
    public func close() {
        guard !isClosed else { return }
        isClosed = true
        loop.deregister(fd: fd)
        Glibc.close(fd)
    }

    public func loopDidStop() { close() }
}
