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
