@testable import Reactor
import XCTest

final class ProcessUsageTests: XCTestCase {
    func testResidentPagesAreTheSecondFieldOfStatm() {
        XCTAssertEqual(ProcessUsage.parseResidentPages(ArraySlice("2641 1203 890 12 0 700 0\n".utf8)), 1203)
        XCTAssertEqual(ProcessUsage.parseResidentPages(ArraySlice("2641 77".utf8)), 77, "no newline at the end")
    }

    func testStatmThatIsNotTwoNumbersGivesZero() {
        for text in ["", "2641", "2641 \n", "abc def", "2641 99999999999999999999999 1\n"] {
            XCTAssertEqual(ProcessUsage.parseResidentPages(ArraySlice(text.utf8)), 0, text)
        }
    }

    func testThisProcessHasResidentMemoryAndItsCPUTimeGrowsWithWork() {
        let before = ProcessUsage.current()
        XCTAssertGreaterThan(before.residentBytes, 1_000_000)
        // Busy until the process clock shows 10 ms more (a loaded host only makes it take longer), at most 5 s.
        var sum: UInt64 = 0
        let startNs = monotonicNowNs()
        var after = before
        while after.cpuNs < before.cpuNs + 10_000_000, monotonicNowNs() - startNs < 5_000_000_000 {
            for _ in 0..<10_000 { sum &+= UInt64.random(in: 0...9) }
            after = ProcessUsage.current()
        }
        XCTAssertGreaterThan(sum, 0)
        XCTAssertGreaterThanOrEqual(after.cpuNs, before.cpuNs + 10_000_000, "5 s of busy work did not show as 10 ms of CPU")
    }
}
