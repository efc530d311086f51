import Foundation
import Replay
import XCTest

/// The writer thread: files, order, retention, and the queue bound.
final class RecordingWriterTests: XCTestCase {
    private func files(in directory: String) -> [String] { recordingNames(in: directory) }

    /// Writes one recording of `bytes` bytes for `room`, waiting until the writer has written it.
    private func record(_ writer: RecordingWriter, room: String, bytes: Int, startMs: UInt64) throws {
        let file = try XCTUnwrap(writer.open(roomID: room, startUnixMs: startMs))
        writer.append([UInt8](repeating: 7, count: bytes), to: file)
        writer.close(file)
        usleep(50_000)  // the files' modification times order retention
    }

    func testAppendsLandInOrderAndRetentionKeepsTheNewestFiles() throws {
        let directory = temporaryRecordingDirectory()
        var settings = RecordingSettings(directory: directory)
        settings.maxFiles = 2
        let writer = RecordingWriter(settings: settings, log: { _ in })
        let file = try XCTUnwrap(writer.open(roomID: "a/b c", startUnixMs: 1))
        for chunk in 0..<50 { writer.append([UInt8(chunk)], to: file) }
        writer.close(file)
        usleep(50_000)
        try record(writer, room: "second", bytes: 10, startMs: 2)
        try record(writer, room: "third", bytes: 10, startMs: 3)
        writer.stopAndWait()
        XCTAssertEqual(files(in: directory).count, 2, "the oldest was deleted when the third started")
        XCTAssertFalse(files(in: directory).contains { $0.hasPrefix("a_b_c") })
        XCTAssertTrue(files(in: directory).contains { $0.hasPrefix("third-3-") })
        XCTAssertEqual(writer.failureCount, 0)
    }

    func testRetentionByBytesAndFileNamesAreSafe() throws {
        let directory = temporaryRecordingDirectory()
        var settings = RecordingSettings(directory: directory)
        settings.maxBytes = 1500
        let writer = RecordingWriter(settings: settings, log: { _ in })
        for index in 0..<4 { try record(writer, room: "../room\(index)", bytes: 1000, startMs: UInt64(index)) }
        writer.stopAndWait()
        let names = files(in: directory)
        XCTAssertEqual(names.count, 2, "each start keeps at most 1,500 bytes of older files: one, plus the new one")
        XCTAssertTrue(names.allSatisfy { !$0.contains("/") && $0.hasPrefix("___room") }, "\(names)")
    }

    func testAFullQueueDropsAndCountsInsteadOfGrowing() throws {
        let directory = temporaryRecordingDirectory()
        let writer = RecordingWriter(settings: RecordingSettings(directory: directory), log: { _ in })
        let file = try XCTUnwrap(writer.open(roomID: "big", startUnixMs: 0))
        // Two 48 MiB chunks back to back against a 64 MiB queue: the second arrives microseconds after the first,
        // long before 48 MiB can be written, so it is dropped and counted.
        let chunk = [UInt8](repeating: 1, count: 48 << 20)
        writer.append(chunk, to: file)
        writer.append(chunk, to: file)
        writer.close(file)
        writer.stopAndWait()
        XCTAssertEqual(writer.droppedChunkCount, 1)
        let size = try FileManager.default.attributesOfItem(atPath: directory + "/" + XCTUnwrap(files(in: directory).first))[.size] as? Int
        XCTAssertEqual(size, 48 << 20, "the first chunk was written whole")
    }
}
