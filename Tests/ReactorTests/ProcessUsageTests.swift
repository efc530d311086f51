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
        var sum: UInt64 = 0
        let startNs = monotonicNowNs()
        while monotonicNowNs() - startNs < 20_000_000 { sum &+= UInt64.random(in: 0...9) }  // 20 ms of work, bounded
        let after = ProcessUsage.current()
        XCTAssertGreaterThan(sum, 0)
        XCTAssertGreaterThan(before.residentBytes, 1_000_000)
        XCTAssertGreaterThan(after.cpuNs, before.cpuNs + 5_000_000, "20 ms busy is at least 5 ms of CPU")
    }
}
