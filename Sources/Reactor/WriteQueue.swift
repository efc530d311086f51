import CEpoll
import Glibc

/// Bytes the kernel did not take yet, in order. Empty (and allocation-free) in the common case where every
/// write completes at once; bytes are copied in only when a write was partial. Owns its chunks as raw
/// allocations, so the iovecs handed to writev point at memory that is valid by construction; noncopyable, so a
/// copy can never free them twice.
struct WriteQueue: ~Copyable {
    private var chunks: [UnsafeMutableRawBufferPointer] = []
    private var headIndex = 0
    private var headOffset = 0
    private(set) var byteCount = 0
    /// Chunks passed to one writev at most.
    static let iovecCountMax = 64

    init() {}

    deinit {
        for index in headIndex..<chunks.count { chunks[index].deallocate() }
    }

    var isEmpty: Bool { byteCount == 0 }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        let chunk = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 1)
        chunk.baseAddress!.copyMemory(from: source, byteCount: bytes.count)
        chunks.append(chunk)
        byteCount += bytes.count
    }

    /// Writes as much as the socket takes with one `writev`; returns bytes written, or -errno.
    mutating func flush(to fd: Int32) -> Int {
        guard !isEmpty else { return 0 }
        let count = min(Self.iovecCountMax, chunks.count - headIndex)
        let written = withUnsafeTemporaryAllocation(of: iovec.self, capacity: count) { vectors -> Int in
            for position in 0..<count {
                let chunk = chunks[headIndex + position]
                let skip = position == 0 ? headOffset : 0
                vectors[position] = iovec(iov_base: chunk.baseAddress! + skip, iov_len: chunk.count - skip)
            }
            return tw_writev(fd, vectors.baseAddress, Int32(count))
        }
        guard written >= 0 else { return -Int(tw_errno()) }
        consume(written)
        return written
    }

    private mutating func consume(_ count: Int) {
        var remaining = count
        byteCount -= count
        while remaining > 0 {
            let available = chunks[headIndex].count - headOffset
            if remaining >= available {
                remaining -= available
                chunks[headIndex].deallocate()
                headIndex += 1
                headOffset = 0
            } else {
                headOffset += remaining
                remaining = 0
            }
        }
        if headIndex == chunks.count {
            chunks.removeAll()
            headIndex = 0
        } else if headIndex > 32 {
            chunks.removeFirst(headIndex)
            headIndex = 0
        }
    }

    mutating func removeAll() {
        for index in headIndex..<chunks.count { chunks[index].deallocate() }
        chunks.removeAll()
        headIndex = 0
        headOffset = 0
        byteCount = 0
    }
}
