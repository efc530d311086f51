import Dispatch
@testable import Reactor
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

    func testTimerSlackRoundsAWakeUpUpToItsGridAndNeverEarlier() {
        XCTAssertEqual(EventLoop.wakeNs(forDeadlineNs: 12_300_000, slackNs: 1_000_000), 13_000_000)
        XCTAssertEqual(EventLoop.wakeNs(forDeadlineNs: 13_000_000, slackNs: 1_000_000), 13_000_000, "on the grid: on time")
        XCTAssertEqual(EventLoop.wakeNs(forDeadlineNs: 12_300_000, slackNs: 0), 12_300_000, "no slack: on time")
        XCTAssertEqual(EventLoop.wakeNs(forDeadlineNs: 0, slackNs: 1_000_000), 0, "no timer stays no timer")
        XCTAssertEqual(EventLoop.wakeNs(forDeadlineNs: .max - 5, slackNs: 1_000_000), .max - 5, "no overflow near the end of time")
    }

    func testTimersWithinOneSlackWindowShareAWakeUpAndNoneFiresEarly() throws {
        // No sweep timer and no connections: nothing but these timers wakes the loop.
        let loop = try EventLoop(sweepIntervalNs: 0, timerSlackNs: 50_000_000)
        try loop.start()
        defer {
            loop.stop()
            loop.join()
        }
        let firings = Collected<(deadlineNs: UInt64, loopNowNs: UInt64, firedNs: UInt64)>()
        runOn(loop) {
            let start = monotonicNowNs() + 2_000_000
            for index in 0..<10 {
                let deadline = start + UInt64(index) * 1_000_000
                loop.scheduleTimer(atNs: deadline) { deadline in firings.append((deadline, loop.nowNs, monotonicNowNs())) }
            }
        }
        XCTAssertTrue(waitUntil { firings.values.count == 10 })
        XCTAssertTrue(firings.values.allSatisfy { $0.firedNs >= $0.deadlineNs }, "slack only delays")
        XCTAssertTrue(firings.values.allSatisfy { $0.firedNs < $0.deadlineNs + 2_000_000_000 }, "and within reason")
        // Ten deadlines 1 ms apart lie in at most two 50 ms windows: at most two wake-ups ran them all.
        XCTAssertLessThanOrEqual(Set(firings.values.map(\.loopNowNs)).count, 2)
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
