import Dispatch
import Reactor
import Synchronization
import XCTest

/// A thread-safe box for values that tests collect on loop threads and check on the test thread.
final class Collected<Value: Sendable>: @unchecked Sendable {
    private let lock = Mutex<[Value]>([])
    func append(_ value: Value) { lock.withLock { $0.append(value) } }
    var values: [Value] { lock.withLock { $0 } }
}

/// Lets a non-Sendable loop object cross into a loop task; the test guarantees it is used on that loop only.
struct OnLoop<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}

/// Runs `body` on `loop` and waits (at most 5 s) for its result.
func runOn<T>(_ loop: EventLoop, _ body: @escaping () -> T) -> T {
    let semaphore = DispatchSemaphore(value: 0)
    let result = Collected<OnLoop<T>>()
    let work = OnLoop(body)
    loop.execute {
        result.append(OnLoop(work.value()))
        semaphore.signal()
    }
    precondition(semaphore.wait(timeout: .now() + 5) == .success, "loop task did not run within 5 s")
    return result.values[0].value
}

/// Polls `condition` every millisecond for up to `seconds`; true if it became true.
func waitUntil(seconds: Double = 5, _ condition: () -> Bool) -> Bool {
    let deadline = DispatchTime.now() + seconds
    while DispatchTime.now() < deadline {
        if condition() { return true }
        usleep(1000)
    }
    return condition()
}

/// A test case with two running event loops, stopped after each test.
class LoopGroupTestCase: XCTestCase {
    var group: EventLoopGroup!

    /// How often the loops sweep for timeouts; short, so timeout tests finish quickly.
    var sweepIntervalNs: UInt64 { 10_000_000 }

    override func setUpWithError() throws {
        group = try EventLoopGroup(count: 2, sweepIntervalNs: sweepIntervalNs)
        try group.start()
    }

    override func tearDown() {
        group.shutdown()
        group = nil
    }
}

/// Starts a listener on `loop` whose connections get `makeDelegate()` and are passed to `onAccepted`; returns its port.
func startListener(on loop: EventLoop, limits: ConnectionLimits = ConnectionLimits(),
                   onAccepted: @escaping (TCPConnection) -> Void = { _ in },
                   _ makeDelegate: @escaping () -> TCPConnectionDelegate) throws -> UInt16 {
    try runOn(loop) { () -> Result<UInt16, SystemError> in
        do throws(SystemError) {
            let listener = try TCPListener(host: "127.0.0.1", port: 0, on: loop, reusePort: false, onAccept: { fd, peer in
                if let connection = try? TCPConnection.adopt(fd: fd, peer: peer, on: loop, limits: limits, delegate: makeDelegate()) {
                    onAccepted(connection)
                }
            })
            try listener.start()
            return .success(listener.port)
        } catch {
            return .failure(error)
        }
    }.get()
}
