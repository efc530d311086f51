import Dispatch
import Reactor
import XCTest

final class EventLoopTests: LoopGroupTestCase {
    func testTimersFireInDeadlineOrderNotSchedulingOrder() {
        let loop = group.loops[0]
        let fired = Collected<Int>()
        runOn(loop) {
            let now = monotonicNowNs()
            loop.scheduleTimer(atNs: now + 30_000_000) { _ in fired.append(3) }
            loop.scheduleTimer(atNs: now + 10_000_000) { _ in fired.append(1) }
            loop.scheduleTimer(atNs: now + 20_000_000) { _ in fired.append(2) }
        }
        XCTAssertTrue(waitUntil { fired.values.count == 3 })
        XCTAssertEqual(fired.values, [1, 2, 3])
    }

    func testRepeatingTimerRunsOnAbsoluteDeadlinesWithoutDrift() {
        let loop = group.loops[0]
        let deadlines = Collected<UInt64>()
        let lateness = Collected<UInt64>()
        let periodNs: UInt64 = 5_000_000
        let first = runOn(loop) { () -> UInt64 in
            let first = monotonicNowNs() + periodNs
            var count = 0
            var timer: TimerID?
            timer = loop.scheduleRepeating(firstNs: first, periodNs: periodNs) { deadline in
                deadlines.append(deadline)
                lateness.append(monotonicNowNs() - deadline)
                count += 1
                if count == 20, let timer { loop.cancelTimer(timer) }
            }
            return first
        }
        XCTAssertTrue(waitUntil { deadlines.values.count == 20 })
        usleep(20_000)
        XCTAssertEqual(deadlines.values, (0..<20).map { first + UInt64($0) * periodNs }, "deadlines are start + n × period exactly")
        XCTAssertTrue(lateness.values.allSatisfy { $0 < 1_000_000_000 }, "no timer fired before its deadline or absurdly late")
    }

    func testCancelledTimerNeverFires() {
        let loop = group.loops[0]
        let fired = Collected<Int>()
        runOn(loop) {
            let id = loop.scheduleTimer(atNs: monotonicNowNs() + 5_000_000) { _ in fired.append(1) }
            loop.scheduleTimer(atNs: monotonicNowNs() + 10_000_000) { _ in fired.append(2) }
            loop.cancelTimer(id)
        }
        XCTAssertTrue(waitUntil { fired.values.count == 1 })
        usleep(10_000)
        XCTAssertEqual(fired.values, [2])
    }

    func testTasksFromManyThreadsAllRunOnTheLoopInPerThreadOrder() {
        let loop = group.loops[1]
        let seen = Collected<(Int, Int, Bool)>()
        DispatchQueue.concurrentPerform(iterations: 4) { thread in
            for sequence in 0..<500 { loop.execute { seen.append((thread, sequence, loop.isInLoop)) } }
        }
        XCTAssertTrue(waitUntil { seen.values.count == 2000 })
        XCTAssertTrue(seen.values.allSatisfy { $0.2 }, "every task ran on the loop thread")
        for thread in 0..<4 {
            XCTAssertEqual(seen.values.filter { $0.0 == thread }.map(\.1), Array(0..<500))
        }
    }
}
