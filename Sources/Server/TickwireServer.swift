import CEpoll
import Glibc
import Reactor
import Replay
import WebSocket

/// The `tickwire serve` process: one event loop per core, each with its own `SO_REUSEPORT` listener, so a
/// connection lives on the loop that accepted it. SIGTERM/SIGINT drain: stop accepting, close every client
/// with 1001, give them `shutdownGraceNs` to answer, then stop.
public final class TickwireServer: @unchecked Sendable {
    /// The configuration in force.
    public let config: ServerConfig
    /// The logger.
    public let logger: Logger
    private let group: EventLoopGroup
    private var contexts: [ServerLoopContext] = []
    private let counters = ServerCounters()
    /// The per-address limits, shared by every loop.
    public let addressLimiter: AddressLimiter
    private let roomsListCache: RoomsListCache
    /// The port actually bound (differs from `config.port` when that was 0).
    public private(set) var boundPort: UInt16 = 0
    /// The rooms, when the server hosts a game.
    public let roomDirectory: RoomDirectory
    private let roomHosting: RoomHosting?
    /// The recording writer thread, when the server records (`--record DIR`).
    public let recordingWriter: RecordingWriter?

    /// Prepares loops for `config` (nothing listens yet); `rooms` makes the game rooms of `/rooms/{id}`.
    public init(config: ServerConfig, logger: Logger? = nil, rooms: RoomHosting? = nil) throws(SystemError) {
        self.config = config
        self.logger = logger ?? Logger(peerLinesPerSecondMax: config.violationLogLinesPerSecondMax,
                                       peerLinesPerAddressPerSecondMax: config.violationLogLinesPerAddressPerSecondMax)
        addressLimiter = AddressLimiter(limits: config.addressLimits)
        roomsListCache = RoomsListCache(ttlNs: config.roomsListCacheNs)
        group = try EventLoopGroup(count: config.loopCount, readBufferBytes: config.readBufferBytes)
        roomDirectory = RoomDirectory(loopCount: config.loopCount, roomsMax: config.roomsMax)
        roomHosting = rooms
        let logger = self.logger
        recordingWriter = config.recording.map { RecordingWriter(settings: $0, log: { logger.error($0) }) }
    }

    /// The server's event loops, one per core (tests stall one to check how rooms on it catch up).
    public var loops: [EventLoop] { group.loops }

    /// Open connections right now, across loops: every accepted socket not closed yet, whatever its state.
    public var openConnectionCount: Int { counters.openConnections.load(ordering: .relaxed) }

    /// The defences that fired so far, by reason (what `/metrics` reports).
    public var defences: DefenceCounters { counters.defences }

    /// Binds every loop's listener and starts the loop threads. Throws if the address cannot be bound.
    public func start() throws(SystemError) {
        tw_ignore_sigpipe()
        var port = config.port
        let staticFiles = StaticFiles(override: config.staticDirectory)
        if let directory = staticFiles.directory {
            logger.info("serving the browser client from \(directory) (\(staticFiles.responses.count - 1) files)")
        } else {
            logger.info("browser client files not found\(config.staticDirectory.map { " in \($0)" } ?? ""); serving the placeholder page")
        }
        for loop in group.loops {
            let context = ServerLoopContext(loop: loop, config: config, logger: logger, counters: counters, limiter: addressLimiter,
                                            roomsListCache: roomsListCache, rooms: roomHosting.map { ($0, roomDirectory, group.loops) }, directory: roomDirectory,
                                            staticFiles: staticFiles, recordingSink: recordingWriter)
            let listener = try TCPListener(host: config.host, port: port, on: loop,
                                           onAccept: { [unowned context] fd, peer in context.accept(fd: fd, peer: peer) },
                                           onError: { [logger, counters] error in
                                               // Paused for a moment (out of descriptors): counted; the line is rate-limited.
                                               counters.defences.count(.acceptFailed)
                                               logger.peer("listener:\(port)", "\(error); accepting paused")
                                           })
            port = listener.port  // with port 0, later loops join the port the first one got
            context.listener = listener
            contexts.append(context)
        }
        boundPort = port
        try group.start()
        for context in contexts {
            let transfer = UncheckedContext(context)
            context.loop.execute { [config] in
                let context = transfer.context
                do throws(SystemError) {
                    try context.listener?.start()
                } catch {
                    context.logger.error("listener on loop \(context.loop.index): \(error)")
                }
                if let hz = config.benchBroadcastHz {
                    context.broadcaster = BenchmarkBroadcaster(context: context, hz: hz, payloadBytes: config.benchBroadcastBytes)
                }
            }
        }
        var routes = ["/ (page)", "/healthz"]
        if roomHosting != nil {
            routes.append("/rooms/{id} (game rooms, \(config.roomSettings.tickRateHz) Hz)")
            routes.append("/rooms (JSON)")
        }
        if let echo = config.echoPath { routes.append("\(echo) (WebSocket echo)") }
        if let hz = config.benchBroadcastHz { routes.append("\(config.benchBroadcastPath) (benchmark broadcast, \(config.benchBroadcastBytes) B at \(hz) Hz)") }
        if let recording = config.recording { routes.append("recording every room into \(recording.directory)") }
        logger.info("tickwire listening on http://\(config.host.contains(":") ? "[\(config.host)]" : config.host):\(boundPort) "
                    + "with \(group.loops.count) event loop\(group.loops.count == 1 ? "" : "s"); routes: \(routes.joined(separator: ", "))")
    }

    /// Begins the graceful shutdown from any thread; `waitUntilStopped` returns when it is done.
    public func shutdown() {
        let grace = config.shutdownGraceNs
        for (loopIndex, room) in roomDirectory.allRooms() {
            group.loops[loopIndex].execute { room.value.drain() }
        }
        for context in contexts {
            let transfer = UncheckedContext(context)
            context.loop.execute {
                let context = transfer.context
                context.beginDrain()
                context.loop.scheduleTimer(atNs: monotonicNowNs() + grace) { _ in context.loop.stop() }
            }
        }
    }

    /// Blocks until every loop has stopped.
    public func waitUntilStopped() {
        for loop in group.loops { loop.join() }
        recordingWriter?.stopAndWait()  // rooms finished their recordings when they drained; write what is queued
        logger.info("tickwire stopped")
    }

    /// Runs until SIGTERM or SIGINT, then drains and returns. Call from the main thread before other threads start.
    public static func runUntilSignalled(config: ServerConfig, rooms: RoomHosting? = nil) -> Int32 {
        let signalFD = tw_signalfd_for_shutdown()  // blocks the signals in this thread and every loop thread it starts
        _ = tw_raise_nofile_limit()
        let server: TickwireServer
        do {
            server = try TickwireServer(config: config, rooms: rooms)
            try server.start()
        } catch {
            Logger().error("cannot start: \(error)")
            return 1
        }
        var pollDescriptor = pollfd(fd: signalFD, events: Int16(POLLIN), revents: 0)
        while poll(&pollDescriptor, 1, -1) < 0 && errno == EINTR {}
        let signal = tw_signalfd_read(signalFD)
        server.logger.info("received \(signal == SIGTERM ? "SIGTERM" : signal == SIGINT ? "SIGINT" : "signal \(signal)"); "
                           + "draining \(server.openConnectionCount) connections")
        server.shutdown()
        server.waitUntilStopped()
        return 0
    }
}

/// Moves a loop context into a task for its own loop.
private struct UncheckedContext: @unchecked Sendable {
    let context: ServerLoopContext
    init(_ context: ServerLoopContext) { self.context = context }
}
