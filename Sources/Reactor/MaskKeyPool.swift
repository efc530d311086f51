import CEpoll
import WebSocket

/// Masking keys for a loop's client frames, drawn from the kernel's secure generator a block at a time: one
/// `getrandom` call per 1,024 keys instead of one per frame (a bot swarm masks a hundred thousand frames a second).
/// The keys are as unpredictable as RFC 6455 §5.3 asks; they are only buffered. Loop-confined.
struct MaskKeyPool {
    static let keysPerRefill = 1024
    private var keys = [UInt32](repeating: 0, count: MaskKeyPool.keysPerRefill)
    private var nextIndex = MaskKeyPool.keysPerRefill

    mutating func next() -> UInt32 {
        if nextIndex == keys.count { refill() }
        defer { nextIndex += 1 }
        return keys[nextIndex]
    }

    private mutating func refill() {
        let byteCount = keys.count * MemoryLayout<UInt32>.size
        let filled = keys.withUnsafeMutableBytes { buffer -> Bool in
            var offset = 0
            while offset < byteCount {
                let got = getrandom(buffer.baseAddress! + offset, byteCount - offset, 0)
                if got < 0 {
                    if tw_errno() == EINTR { continue }
                    return false
                }
                offset += got
            }
            return true
        }
        if !filled {
            for index in keys.indices { keys[index] = WebSocketMask.randomKey() }  // the generator Swift uses itself
        }
        nextIndex = 0
    }
}
