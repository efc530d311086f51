import Reactor
import WebSocket

/// The benchmark endpoint (`--bench-broadcast-hz`), the same contract as `../shared/bench/rawfanout`: on every
/// tick one frame is built (payload `GSBCAST1`, u64 CLOCK_MONOTONIC ns, u64 sequence, 0x2a fill; little endian)
/// and the same bytes are written to every subscriber on this loop, one write() each. Subscribers whose unsent
/// bytes are over the high watermark skip the tick.
final class BenchmarkBroadcaster: WebSocketChannelHandler, ChannelOpenObserver {
    private unowned let context: ServerLoopContext
    private var subscribers: [WebSocketChannel] = []
    private var subscriberIndex: [ObjectIdentifier: Int] = [:]
    private let frame: UnsafeMutableRawBufferPointer
    private let payloadOffset: Int
    private let payloadBytes: Int
    private var sequence: UInt64 = 0
    private var timer: TimerID?
    /// Ticks whose deadline passed by more than one period before they ran.
    private(set) var lateTicks = 0
    /// How late each tick ran after its deadline (bounded: the first `latenessSamplesMax`).
    private var latenessNs: [UInt64] = []
    private static let latenessSamplesMax = 1_000_000
    /// Deliveries skipped because the subscriber was not writable.
    private(set) var skippedSends = 0

    init(context: ServerLoopContext, hz: Int, payloadBytes: Int) {
        self.context = context
        self.payloadBytes = payloadBytes
        let headerLength = WebSocketFrameEncoder.headerLength(payloadLength: payloadBytes, masked: false)
        frame = .allocate(byteCount: headerLength + payloadBytes, alignment: 8)
        payloadOffset = WebSocketFrameEncoder.writeHeader(to: frame.baseAddress!, opcode: .binary, payloadLength: payloadBytes)
        (frame.baseAddress! + payloadOffset).initializeMemory(as: UInt8.self, repeating: 0x2A, count: payloadBytes)
        if payloadBytes >= 24 {
            for (offset, byte) in "GSBCAST1".utf8.enumerated() {
                frame.storeBytes(of: byte, toByteOffset: payloadOffset + offset, as: UInt8.self)
            }
        }
        let periodNs = 1_000_000_000 / UInt64(hz)
        timer = context.loop.scheduleRepeating(firstNs: monotonicNowNs() + periodNs, periodNs: periodNs) { [unowned self] deadlineNs in
            tick(deadlineNs: deadlineNs, periodNs: periodNs)
        }
    }

    deinit { frame.deallocate() }

    /// Stops ticking and logs how precisely the ticks ran.
    func stop() {
        if let timer { context.loop.cancelTimer(timer) }
        timer = nil
        let sorted = latenessNs.sorted()
        guard !sorted.isEmpty else { return }
        func microseconds(_ quantile: Double) -> String {
            let value = sorted[min(sorted.count - 1, Int(Double(sorted.count) * quantile))]
            return String(Double(value / 100) / 10)
        }
        context.logger.info("benchmark broadcast on loop \(context.loop.index): \(sequence) ticks, \(lateTicks) over a period late, "
                            + "lateness µs p50 \(microseconds(0.5)) p99 \(microseconds(0.99)) max \(microseconds(1)), "
                            + "\(skippedSends) sends skipped for backpressure")
    }

    private func tick(deadlineNs: UInt64, periodNs: UInt64) {
        let nowNs = monotonicNowNs()
        if nowNs - deadlineNs > periodNs { lateTicks += 1 }
        if latenessNs.count < Self.latenessSamplesMax { latenessNs.append(nowNs - deadlineNs) }
        sequence += 1
        if payloadBytes >= 24 {
            frame.storeBytes(of: nowNs.littleEndian, toByteOffset: payloadOffset + 8, as: UInt64.self)
            frame.storeBytes(of: sequence.littleEndian, toByteOffset: payloadOffset + 16, as: UInt64.self)
        }
        let bytes = UnsafeRawBufferPointer(frame)
        for subscriber in subscribers {
            if subscriber.connection.isWritable {
                subscriber.sendPreframed(bytes)
            } else {
                skippedSends += 1
            }
        }
    }

    func channelDidOpen(_ channel: WebSocketChannel) {
        subscriberIndex[ObjectIdentifier(channel)] = subscribers.count
        subscribers.append(channel)
    }

    func channel(_ channel: WebSocketChannel, didReceiveBinary bytes: UnsafeRawBufferPointer) {}

    func channelDidClose(_ channel: WebSocketChannel, code: UInt16, reason: String) {
        if let index = subscriberIndex.removeValue(forKey: ObjectIdentifier(channel)) {
            let last = subscribers.removeLast()
            if index < subscribers.count {
                subscribers[index] = last
                subscriberIndex[ObjectIdentifier(last)] = index
            }
        }
        context.channelClosed(channel, code: code)
    }
}
