import Foundation
import XCTest

extension XCTestCase {
    /// A fresh directory under the temporary directory, removed when the test ends.
    func temporaryRecordingDirectory() -> String {
        let path = NSTemporaryDirectory() + "tickwire-recordings-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        addTeardownBlock { try? FileManager.default.removeItem(atPath: path) }
        return path
    }

    /// The names of the recording files in `directory`, sorted.
    func recordingNames(in directory: String) -> [String] {
        ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".twrec") }.sorted()
    }
}
