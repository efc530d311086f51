import CEpoll
import Glibc

/// Bytes the kernel did not take yet, in order. Empty (and allocation-free) in the common case where every
/// write completes at once; bytes are copied in only when a write was partial. Owns its chunks as raw
/// allocations, so the iovecs handed to writev point at memory that is valid by construction; noncopyable, so a
/// copy can never free them twice.
///
/// A peer that never reads must not make the queue cost more than its cap says: small writes (pongs, control
/// frames, small snapshots) are packed into the tail chunk instead of taking an allocation each, and
/// `costBytes` counts what the queue really holds (chunk capacities plus a per-chunk overhead), which is what
/// the connection checks against `writeQueueBytesMax`. The head advances by index; consumed slots are dropped
/// only when they are at least half the array, so draining is linear however many chunks were queued.
struct WriteQueue: ~Copyable {
    private struct Chunk {
        var storage: UnsafeMutableRawBufferPointer
        var used: Int
    }

    private var chunks: [Chunk] = []
    private var headIndex = 0
    private var headOffset = 0
    /// Bytes waiting to be written.
    private(set) var byteCount = 0
    /// Heap bytes the queue holds for them: chunk capacities plus `chunkOverheadBytes` each.
    private(set) var costBytes = 0
    /// Chunks passed to one writev at most.
    static let iovecCountMax = 64
    /// Capacity of a chunk made for a small write, so later small writes share it.
    static let packedChunkBytes = 4096
    /// Bookkeeping charged per chunk on top of its capacity: the malloc header and the array slot.
    static let chunkOverheadBytes = 48

    init() {}

    deinit {
        for index in headIndex..<chunks.count { chunks[index].storage.deallocate() }
    }

    var isEmpty: Bool { byteCount == 0 }

    /// Chunks queued (for tests of the packing).
    var chunkCount: Int { chunks.count - headIndex }

    /// What appending `count` bytes would add to `costBytes` (0 when they fit the tail chunk).
    func costOfAppending(_ count: Int) -> Int {
        if let tail = chunks.last, chunks.count > headIndex, tail.storage.count - tail.used >= count { return 0 }
        return Self.capacity(for: count) + Self.chunkOverheadBytes
    }

    private static func capacity(for count: Int) -> Int { max(count, packedChunkBytes) }

    mutating func append(_ bytes: UnsafeRawBufferPointer) {
        guard let source = bytes.baseAddress, !bytes.isEmpty else { return }
        if chunks.count > headIndex, chunks[chunks.count - 1].storage.count - chunks[chunks.count - 1].used >= bytes.count {
            let tail = chunks.count - 1
            (chunks[tail].storage.baseAddress! + chunks[tail].used).copyMemory(from: source, byteCount: bytes.count)
            chunks[tail].used += bytes.count
        } else {
            let capacity = Self.capacity(for: bytes.count)
            let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: capacity, alignment: 1)
            storage.baseAddress!.copyMemory(from: source, byteCount: bytes.count)
            chunks.append(Chunk(storage: storage, used: bytes.count))
            costBytes += capacity + Self.chunkOverheadBytes
        }
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
                vectors[position] = iovec(iov_base: chunk.storage.baseAddress! + skip, iov_len: chunk.used - skip)
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
            let available = chunks[headIndex].used - headOffset
            if remaining >= available {
                remaining -= available
                release(chunks[headIndex])
                headIndex += 1
                headOffset = 0
            } else {
                headOffset += remaining
                remaining = 0
            }
        }
        if headIndex == chunks.count {
            chunks.removeAll(keepingCapacity: chunks.count <= 64)
            headIndex = 0
        } else if headIndex >= 64 && headIndex * 2 >= chunks.count {
            // Amortised O(1) per chunk: the slots moved are at most as many as were consumed since the last time.
            chunks.removeFirst(headIndex)
            headIndex = 0
        }
    }

    private mutating func release(_ chunk: Chunk) {
        chunk.storage.deallocate()
        costBytes -= chunk.storage.count + Self.chunkOverheadBytes
    }

    mutating func removeAll() {
        for index in headIndex..<chunks.count { chunks[index].storage.deallocate() }
        chunks = []
        headIndex = 0
        headOffset = 0
        byteCount = 0
        costBytes = 0
    }
}
