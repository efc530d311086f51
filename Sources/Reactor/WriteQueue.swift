import CEpoll
import Glibc

/// Bytes the kernel did not take yet, in order. Empty (and allocation-free) in the common case where every
/// write completes at once; chunks are copied in only when a write was partial.
struct WriteQueue {
    private var chunks: [[UInt8]] = []
    private var headIndex = 0
    private var headOffset = 0
    private(set) var byteCount = 0

    var isEmpty: Bool { byteCount == 0 }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard !bytes.isEmpty else { return }
        chunks.append(Array(bytes))
        byteCount += bytes.count
    }

    /// Writes as much as the socket takes with one `writev`; returns bytes written, or -errno.
    mutating func flush(to fd: Int32) -> Int {
        guard !isEmpty else { return 0 }
        let iovecCountMax = 64
        var iovecs = [iovec](repeating: iovec(), count: min(iovecCountMax, chunks.count - headIndex))
        // Chunks are heap arrays that are not mutated while the queue holds them, so their storage is stable.
        for (position, chunkIndex) in (headIndex..<min(chunks.count, headIndex + iovecCountMax)).enumerated() {
            chunks[chunkIndex].withUnsafeBytes { bytes in
                let skip = chunkIndex == headIndex ? headOffset : 0
                iovecs[position] = iovec(iov_base: UnsafeMutableRawPointer(mutating: bytes.baseAddress! + skip),
                                         iov_len: bytes.count - skip)
            }
        }
        let written = iovecs.withUnsafeBufferPointer { tw_writev(fd, $0.baseAddress, Int32($0.count)) }
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
                headIndex += 1
                headOffset = 0
            } else {
                headOffset += remaining
                remaining = 0
            }
        }
        if headIndex == chunks.count {
            chunks = []
            headIndex = 0
        } else if headIndex > 32 {
            chunks.removeFirst(headIndex)
            headIndex = 0
        }
    }

    mutating func removeAll() {
        chunks = []
        headIndex = 0
        headOffset = 0
        byteCount = 0
    }
}
