import Dispatch
import Foundation
import Synchronization

/// Where recordings go and how many are kept.
public struct RecordingSettings: Sendable, Equatable {
    /// The directory for recording files (created if missing).
    public var directory: String
    /// Recordings kept at most; the oldest are deleted when a new one starts (`--record-max-files`).
    public var maxFiles = 100
    /// Bytes of recordings kept at most, the same way (`--record-max-bytes`).
    public var maxBytes: Int64 = 1 << 30
    /// Ticks between keyframes (`--record-keyframe-ticks`; 300 = 5 s at 60 Hz).
    public var keyframeEveryTicks = 300

    public init(directory: String) { self.directory = directory }
}

/// The server's recording writer: one thread that opens, appends to and closes recording files, so no loop
/// thread ever waits on the disk. Loops hand it sealed chunks (`append`); it writes them in order, per file, as soon
/// as it can. Retention (`maxFiles`, `maxBytes`) is applied when a recording starts.
public final class RecordingWriter: RecordingSink, @unchecked Sendable {
    private enum Job {
        case open(RecordingFileID, path: String)
        case append(RecordingFileID, [UInt8])
        case close(RecordingFileID)
        case stop
    }

    public let settings: RecordingSettings
    private let jobs = Mutex<[Job]>([])
    private let wake = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)
    private let nextFile = Atomic<Int>(1)
    /// Open files (writer thread only).
    private var descriptors: [RecordingFileID: Int32] = [:]
    /// Bytes queued and not written yet, for the metrics and a bound: past `queueMaxBytes` chunks are dropped
    /// and counted rather than growing memory without bound when the disk stalls.
    private let queuedBytes = Atomic<Int>(0)
    public let queueMaxBytes = 64 << 20
    private let droppedChunks = Atomic<Int>(0)
    private let failures = Atomic<Int>(0)
    private let log: @Sendable (String) -> Void

    /// Creates the directory (a failure is logged; every recording then fails to open and is counted) and starts
    /// the thread.
    public init(settings: RecordingSettings, log: @escaping @Sendable (String) -> Void) {
        self.settings = settings
        self.log = log
        do {
            try FileManager.default.createDirectory(atPath: settings.directory, withIntermediateDirectories: true)
        } catch {
            log("cannot create the recording directory \(settings.directory): \(error)")
        }
        let thread = Thread { [self] in run() }
        thread.name = "tickwire-recorder"
        thread.start()
    }

    /// Chunks dropped because the queue was full (the disk could not keep up), and write failures.
    public var droppedChunkCount: Int { droppedChunks.load(ordering: .relaxed) }
    public var failureCount: Int { failures.load(ordering: .relaxed) }

    public func open(roomID: String, startUnixMs: UInt64) -> RecordingFileID? {
        let id = RecordingFileID(raw: nextFile.wrappingAdd(1, ordering: .relaxed).oldValue)
        let safeRoom = String(roomID.map { $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" ? $0 : "_" }.prefix(64))
        let path = "\(settings.directory)/\(safeRoom)-\(startUnixMs)-\(id.raw).\(RecordingFormat.fileExtension)"
        enqueue(.open(id, path: path))
        return id
    }

    public func append(_ bytes: [UInt8], to file: RecordingFileID) {
        guard queuedBytes.load(ordering: .relaxed) + bytes.count <= queueMaxBytes else {
            droppedChunks.add(1, ordering: .relaxed)
            return
        }
        queuedBytes.add(bytes.count, ordering: .relaxed)
        enqueue(.append(file, bytes))
    }

    public func close(_ file: RecordingFileID) { enqueue(.close(file)) }

    /// Writes everything queued, closes every file and ends the thread (at shutdown).
    public func stopAndWait() {
        enqueue(.stop)
        stopped.wait()
    }

    private func enqueue(_ job: Job) {
        jobs.withLock { $0.append(job) }
        wake.signal()
    }

    private func run() {
        while true {
            wake.wait()
            let batch = jobs.withLock { jobs -> [Job] in
                let taken = jobs
                jobs.removeAll(keepingCapacity: true)
                return taken
            }
            for job in batch {
                switch job {
                case .open(let id, let path):
                    applyRetention()
                    let descriptor = Glibc.open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o644)
                    if descriptor < 0 {
                        failures.add(1, ordering: .relaxed)
                        log("cannot create recording \(path): errno \(errno)")
                    } else {
                        descriptors[id] = descriptor
                    }
                case .append(let id, let bytes):
                    // Counted until written, so the bound covers the chunk on its way to the disk too.
                    defer { queuedBytes.subtract(bytes.count, ordering: .relaxed) }
                    guard let descriptor = descriptors[id] else { continue }
                    if !writeAll(descriptor, bytes) {
                        failures.add(1, ordering: .relaxed)
                        log("recording write failed: errno \(errno); this recording stops here")
                        Glibc.close(descriptor)
                        descriptors[id] = nil
                    }
                case .close(let id):
                    if let descriptor = descriptors.removeValue(forKey: id) { Glibc.close(descriptor) }
                case .stop:
                    for descriptor in descriptors.values { Glibc.close(descriptor) }
                    descriptors.removeAll()
                    stopped.signal()
                    return
                }
            }
        }
    }

    private func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
        bytes.withUnsafeBytes { buffer in
            var written = 0
            while written < buffer.count {
                let result = Glibc.write(descriptor, buffer.baseAddress! + written, buffer.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    return false
                }
                written += result
            }
            return true
        }
    }

    /// Deletes the oldest recordings until one more fits within `maxFiles` and `maxBytes`.
    private func applyRetention() {
        let manager = FileManager.default
        guard let names = try? manager.contentsOfDirectory(atPath: settings.directory) else { return }
        var files: [(path: String, modified: Date, size: Int64)] = []
        for name in names where name.hasSuffix("." + RecordingFormat.fileExtension) {
            let path = settings.directory + "/" + name
            guard let attributes = try? manager.attributesOfItem(atPath: path) else { continue }
            files.append((path, attributes[.modificationDate] as? Date ?? .distantPast, (attributes[.size] as? NSNumber)?.int64Value ?? 0))
        }
        files.sort { $0.modified < $1.modified }
        var totalBytes = files.reduce(Int64(0)) { $0 + $1.size }
        while let oldest = files.first, files.count >= settings.maxFiles || totalBytes > settings.maxBytes {
            try? manager.removeItem(atPath: oldest.path)
            totalBytes -= oldest.size
            files.removeFirst()
        }
    }
}
