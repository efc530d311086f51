import Foundation

/// A load scenario (`tools/scenarios/*.json`): how many bots, how long, which behaviours, and the thresholds a
/// run must meet. `tickwire bots --scenario FILE` exits non-zero and names the thresholds a run broke.
public struct Scenario: Decodable, Sendable, Equatable {
    public var bots: Int
    public var rooms: Int?
    public var duration: String
    public var rampUp: String?
    public var threads: Int?
    public var behaviours: [String]?
    public var seed: UInt64?
    public var inputBatch: Int?
    public var latency: String?
    public var jitter: String?
    public var churnPercentPerMinute: Double?
    public var thresholds: Thresholds

    /// Limits on what players feel; any that is set must hold.
    public struct Thresholds: Decodable, Sendable, Equatable {
        public var rttMsP99Max: Double?
        public var inputToAckMsP99Max: Double?
        public var snapshotJitterMsP99Max: Double?
        public var deliveryRatioMin: Double?
        public var joinedRatioMin: Double?
        public var decodeErrorsMax: Int?
        public var connectFailuresMax: Int?
        public var kicksMax: Int?
        public var tickLatenessMsP99Max: Double?
        public var resumeFailuresMax: Int?
        /// The load generator's CPU over the run, in percent of one core: above it, the run measured the bots.
        public var loadGeneratorCpuPercentMax: Double?
        /// The server's CPU over the run, from its `/metrics` (broken when the server gives none).
        public var serverCpuPercentMax: Double?
    }

    /// Reads a scenario file (at most 64 KiB).
    public static func load(path: String) throws -> Scenario {
        let data = try Data(contentsOf: URL(fileURLWithPath: path))
        guard data.count <= 65536 else { throw BotsFlags.Mistake(message: "\(path): a scenario is at most 64 KiB") }
        return try JSONDecoder().decode(Scenario.self, from: data)
    }

    /// Applies the scenario to a swarm configuration (the URL comes from the command line).
    public func configure(_ config: inout SwarmConfig) throws(BotsFlags.Mistake) {
        guard (1...100_000).contains(bots) else { throw BotsFlags.Mistake(message: "scenario bots \(bots): expected 1...100000") }
        config.bots = bots
        config.rooms = rooms ?? 1
        guard let durationNs = BotsFlags.durationNs(duration), durationNs > 0 else { throw BotsFlags.Mistake(message: "scenario duration \(duration)") }
        config.durationNs = durationNs
        if let rampUp {
            guard let ramp = BotsFlags.durationNs(rampUp) else { throw BotsFlags.Mistake(message: "scenario rampUp \(rampUp)") }
            config.rampUpNs = ramp
        }
        if let threads { config.threads = max(1, min(threads, 64)) }
        if let seed { config.seed = seed }
        if let inputBatch {
            guard (1...60).contains(inputBatch) else { throw BotsFlags.Mistake(message: "scenario inputBatch \(inputBatch): expected 1...60") }
            config.inputBatch = inputBatch
        }
        if let latency {
            guard let value = BotsFlags.durationNs(latency) else { throw BotsFlags.Mistake(message: "scenario latency \(latency)") }
            config.link.latencyNs = value
        }
        if let jitter {
            guard let value = BotsFlags.durationNs(jitter) else { throw BotsFlags.Mistake(message: "scenario jitter \(jitter)") }
            config.link.jitterNs = value
        }
        if let churnPercentPerMinute {
            guard (0...6000).contains(churnPercentPerMinute) else { throw BotsFlags.Mistake(message: "scenario churnPercentPerMinute") }
            config.churnPercentPerMinute = churnPercentPerMinute
        }
        if let behaviours {
            config.behaviours = try behaviours.map { name throws(BotsFlags.Mistake) in
                guard let behaviour = BotBehaviour(rawValue: name) else { throw BotsFlags.Mistake(message: "scenario behaviour \(name)") }
                return behaviour
            }
        }
    }

    /// One line per threshold: what it required, what the run did, and whether it held.
    public func evaluate(_ result: SwarmSnapshot) -> [(line: String, held: Bool)] {
        var checks: [(String, Bool)] = []
        func atMost(_ name: String, _ limit: Double?, _ actual: Double) {
            guard let limit else { return }
            checks.append(("\(name) \(limit): \(actual)", actual <= limit))
        }
        func atLeast(_ name: String, _ limit: Double?, _ actual: Double) {
            guard let limit else { return }
            checks.append(("\(name) \(limit): \(actual)", actual >= limit))
        }
        let ms = { (microseconds: UInt64) in Double(microseconds / 10) / 100 }
        atMost("rttMsP99Max", thresholds.rttMsP99Max, ms(result.rttUs.value(atQuantile: 0.99)))
        atMost("inputToAckMsP99Max", thresholds.inputToAckMsP99Max, ms(result.inputToAckUs.value(atQuantile: 0.99)))
        atMost("snapshotJitterMsP99Max", thresholds.snapshotJitterMsP99Max, ms(result.snapshotJitterUs.value(atQuantile: 0.99)))
        atLeast("deliveryRatioMin", thresholds.deliveryRatioMin, (result.deliveryRatio * 10000).rounded() / 10000)
        atLeast("joinedRatioMin", thresholds.joinedRatioMin, Double(result.joined) / Double(max(result.targetBots, 1)))
        atMost("decodeErrorsMax", thresholds.decodeErrorsMax.map(Double.init), Double(result.decodeErrors))
        atMost("connectFailuresMax", thresholds.connectFailuresMax.map(Double.init), Double(result.connectFailures))
        atMost("kicksMax", thresholds.kicksMax.map(Double.init), Double(result.kicks))
        atMost("tickLatenessMsP99Max", thresholds.tickLatenessMsP99Max, ms(result.tickLatenessUs.value(atQuantile: 0.99)))
        atMost("resumeFailuresMax", thresholds.resumeFailuresMax.map(Double.init), Double(result.resumeFailures))
        let percent = { (value: Double) in (value * 10).rounded() / 10 }
        if let limit = thresholds.loadGeneratorCpuPercentMax {
            if let cpu = result.resources?.botsCPUPercent { atMost("loadGeneratorCpuPercentMax", limit, percent(cpu)) } else {
                checks.append(("loadGeneratorCpuPercentMax \(limit): not measured", false))
            }
        }
        if let limit = thresholds.serverCpuPercentMax {
            if let cpu = result.resources?.serverCPUPercent { atMost("serverCpuPercentMax", limit, percent(cpu)) } else {
                checks.append(("serverCpuPercentMax \(limit): no figures from the server's /metrics", false))
            }
        }
        return checks
    }
}

extension SwarmSnapshot {
    /// The figures as JSON, for `--json FILE` (milliseconds for latencies).
    public func json(config: SwarmConfig, timeline: [SwarmTimelinePoint] = []) -> String {
        func ms(_ microseconds: UInt64) -> Double { Double(microseconds / 10) / 100 }
        func latency(_ histogram: LatencyHistogram) -> [String: Any] {
            ["count": histogram.count, "p50Ms": ms(histogram.value(atQuantile: 0.5)), "p99Ms": ms(histogram.value(atQuantile: 0.99)),
             "maxMs": ms(histogram.max)]
        }
        let seconds = Double(elapsedNs) / 1e9
        var object: [String: Any] = [
            "url": "ws://\(config.target.host):\(config.target.port)\(config.target.path)", "bots": config.bots, "rooms": config.rooms,
            "behaviours": config.behaviours.map(\.rawValue), "seconds": (seconds * 100).rounded() / 100,
            "joined": joined, "connectFailures": connectFailures, "kicks": kicks, "decodeErrors": decodeErrors,
            "snapshots": snapshots, "snapshotRateHz": snapshotRateHz, "deliveryRatio": (deliveryRatio * 10000).rounded() / 10000,
            "bytesReceivedPerSecond": Int(Double(bytesReceived) / seconds), "bytesSentPerSecond": Int(Double(bytesSent) / seconds),
            "rtt": latency(rttUs), "inputToAck": latency(inputToAckUs), "snapshotJitter": latency(snapshotJitterUs), "connect": latency(connectUs),
            "tickLateness": latency(tickLatenessUs), "inputBatch": config.inputBatch,
            "inputsSentPerSecond": Int(Double(inputsSent) / seconds), "writesPerSecond": Int(Double(writes) / seconds),
            "link": ["latencyMs": Double(config.link.latencyNs) / 1e6, "jitterMs": Double(config.link.jitterNs) / 1e6],
            "churn": ["percentPerMinute": config.churnPercentPerMinute, "drops": churnDrops, "leaves": churnLeaves, "resumes": resumes,
                      "resumeFailures": resumeFailures, "rejoins": rejoins],
            "timeline": timeline.map { point -> [String: Any] in
                ["seconds": point.seconds, "connected": point.connected, "inRoom": point.inRoom,
                 "snapshotsPerSecond": point.snapshotsPerSecond.rounded(), "bytesReceivedPerSecond": point.bytesReceivedPerSecond.rounded(),
                 "bytesSentPerSecond": point.bytesSentPerSecond.rounded(), "rttMsP50": point.rttMsP50, "rttMsP99": point.rttMsP99,
                 "inputToAckMsP50": point.inputToAckMsP50, "inputToAckMsP99": point.inputToAckMsP99,
                 "snapshotJitterMsP50": point.snapshotJitterMsP50, "snapshotJitterMsP99": point.snapshotJitterMsP99,
                 "tickLatenessMsP50": point.tickLatenessMsP50, "tickLatenessMsP99": point.tickLatenessMsP99, "decodeErrors": point.decodeErrors,
                 "botsCpuPercent": point.botsCPUPercent]
            },
            "closesByCode": Dictionary(uniqueKeysWithValues: closesByCode.map { (String($0.key), $0.value) }),
        ]
        if let resources { object["resources"] = resources.jsonObject }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted, .sortedKeys])) ?? Data()
        return String(decoding: data, as: UTF8.self) + "\n"
    }
}
