import Glibc

/// One event loop per thread, usually one per core.
public final class EventLoopGroup: @unchecked Sendable {
    /// The loops, in index order.
    public let loops: [EventLoop]

    /// Creates `count` loops (not yet running); `timerSlackNs` as for `EventLoop.init`.
    public init(count: Int, readBufferBytes: Int = EventLoop.readBufferBytesDefault,
                sweepIntervalNs: UInt64 = EventLoop.sweepIntervalNsDefault, timerSlackNs: UInt64 = 0) throws(SystemError) {
        precondition(count >= 1)
        var loops: [EventLoop] = []
        for index in 0..<count {
            loops.append(try EventLoop(index: index, readBufferBytes: readBufferBytes, sweepIntervalNs: sweepIntervalNs, timerSlackNs: timerSlackNs))
        }
        self.loops = loops
    }

    /// The number of online CPUs.
    public static var coreCount: Int { max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN)))) }

    /// Starts every loop on its own thread.
    public func start() throws(SystemError) {
        for loop in loops { try loop.start() }
    }

    /// Stops every loop and waits for their threads.
    public func shutdown() {
        for loop in loops { loop.stop() }
        for loop in loops { loop.join() }
    }
}
