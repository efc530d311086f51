/// Human-readable figures: the live progress line and the final table.
public enum SwarmReport {
    static func milliseconds(_ microseconds: UInt64) -> String {
        microseconds >= 10_000 ? "\(microseconds / 1000) ms" : "\(Double(microseconds / 10) / 100) ms"
    }

    static func rate(_ bytes: Int, seconds: Double) -> String {
        let perSecond = Double(bytes) / max(seconds, 0.001)
        return perSecond >= 1_000_000 ? "\((perSecond / 10_000).rounded() / 100) MB/s" : "\((perSecond / 10).rounded() / 100) kB/s"
    }

    /// One line: bots, snapshots per second, bandwidth, RTT, errors, the bots' own CPU (since the previous snapshot).
    public static func progressLine(_ now: SwarmSnapshot, previous: SwarmSnapshot?) -> String {
        let seconds = Double(now.elapsedNs - (previous?.elapsedNs ?? 0)) / 1e9
        let snapshots = Double(now.snapshots - (previous?.snapshots ?? 0)) / max(seconds, 0.001)
        let rtt = previous.map { now.rttUs.since($0.rttUs) } ?? now.rttUs
        return "\(Int(Double(now.elapsedNs) / 1e9)) s  bots \(now.connected)/\(now.targetBots)  snapshots \(Int(snapshots))/s  "
            + "down \(rate(now.bytesReceived - (previous?.bytesReceived ?? 0), seconds: seconds))  "
            + "up \(rate(now.bytesSent - (previous?.bytesSent ?? 0), seconds: seconds))  "
            + (rtt.count == 0 ? "rtt –  " : "rtt p50 \(milliseconds(rtt.value(atQuantile: 0.5))) p99 \(milliseconds(rtt.value(atQuantile: 0.99)))  ")
            + "errors \(now.decodeErrors + now.connectFailures)  "
            + "bots cpu \(Int((Double(now.usage.cpuNs &- (previous?.usage.cpuNs ?? now.runStartCPUNs)) / 1e7 / max(seconds, 0.001)).rounded()))%"
    }

    static func megabytes(_ bytes: Double) -> String { "\((bytes / 100_000).rounded() / 10) MB" }

    static func kilobytesPerBot(_ bytes: Double?) -> String {
        guard let bytes else { return "" }
        return " (\(bytes >= 0 ? "+" : "−")\((abs(bytes) / 100).rounded() / 10) kB per bot)"
    }

    /// CPU and memory of both ends, when measured.
    static func resourceLines(_ resources: SwarmResources?, target: BotTarget) -> String {
        guard let resources else { return "" }
        let cores = "\(Int(resources.botsCPUPercent.rounded()))% of a core"
        var lines = "\n  load generator  CPU \(cores) (\(resources.threads) thread(s)), RSS \(megabytes(Double(resources.botsResidentBytesEnd)))"
            + kilobytesPerBot(SwarmResources.perBot(Double(resources.botsResidentBytesStart), Double(resources.botsResidentBytesEnd),
                                                    bots: resources.connectedBots))
        if resources.botsNearSaturation {
            lines += "\n                  near saturation: latencies and delivery may be the load generator's, not the server's"
        }
        switch resources.server {
        case .success(let server):
            lines += "\n  server          CPU \(Int((resources.serverCPUPercent ?? 0).rounded()))% of a core, RSS \(megabytes(server.residentBytesEnd))"
                + kilobytesPerBot(SwarmResources.perBot(server.residentBytesStart, server.residentBytesEnd, bots: resources.connectedBots))
                + " (its /metrics)"
            if let troubles = server.troubles {
                let counts = SwarmResources.Trouble.allCases.map { "\(Int(troubles[$0] ?? 0)) \($0.label)" }.joined(separator: ", ")
                lines += "\n                  it counted during the run: \(counts)"
            }
        case .failure(let error):
            let host = target.host.contains(":") ? "[\(target.host)]" : target.host
            lines += "\n  server          – (no process figures from http://\(host):\(target.port)/metrics: \(error))"
        }
        return lines
    }

    /// The table a person reads at the end.
    public static func table(_ result: SwarmSnapshot, config: SwarmConfig) -> String {
        let seconds = Double(result.elapsedNs) / 1e9
        let bots = max(result.joined, 1)
        let perBot = Double(result.snapshots) / seconds / Double(bots)
        func perSecondPerBot(_ count: Int) -> Double { (Double(count) / seconds / Double(bots) * 10).rounded() / 10 }
        func percentiles(_ histogram: LatencyHistogram) -> String {
            histogram.count == 0 ? "–" : "p50 \(milliseconds(histogram.value(atQuantile: 0.5)))  p99 \(milliseconds(histogram.value(atQuantile: 0.99)))  max \(milliseconds(histogram.max))"
        }
        let closes = result.closesByCode.sorted { $0.key < $1.key }.map { "\($0.key)×\($0.value)" }.joined(separator: " ")
        let behaviours = config.behaviours.map(\.rawValue).joined(separator: ",")
        var conditions = ""
        if !config.link.isTransparent {
            conditions += "\n  link            +\(milliseconds(config.link.latencyNs / 1000)) latency, +0…\(milliseconds(config.link.jitterNs / 1000)) jitter, each way"
        }
        if config.churnPercentPerMinute > 0 {
            conditions += "\n  churn           \(config.churnPercentPerMinute)%/min: \(result.churnDrops) dropped → \(result.resumes) resumed as themselves, "
                + "\(result.resumeFailures) resume failures; \(result.churnLeaves) left → \(result.rejoins) rejoined"
        }
        return """
        tickwire bots: \(config.bots) bots (\(behaviours)) on ws://\(config.target.host):\(config.target.port)\(config.target.path) for \((seconds * 10).rounded() / 10) s, \(config.threads) thread(s)\(conditions)
          connected       \(result.joined)/\(config.bots) joined, \(result.connectFailures) failed to connect; connect \(percentiles(result.connectUs))
          snapshots       \(Int(Double(result.snapshots) / seconds))/s in all, \((perBot * 10).rounded() / 10)/s per bot; delivery \((result.deliveryRatio * 1000).rounded() / 10)% of \(result.snapshotRateHz)/s from each bot's join
          snapshot jitter \(percentiles(result.snapshotJitterUs))
          rtt (ping)      \(percentiles(result.rttUs))
          inputs          \(perSecondPerBot(result.inputsSent))/s per bot in \(perSecondPerBot(result.writes)) writes/s per bot (\(config.inputBatch) tick(s) a write)
          input → ack     \(percentiles(result.inputToAckUs))\(config.inputBatch > 1 ? " (inputs sent \(config.inputBatch) ticks at a time)" : "")
          tick lateness   \(percentiles(result.tickLatenessUs)) (from snapshot ticks)
          bandwidth       down \(rate(result.bytesReceived, seconds: seconds)) (\(rate(result.bytesReceived / bots, seconds: seconds)) per bot), up \(rate(result.bytesSent, seconds: seconds)) (\(rate(result.bytesSent / bots, seconds: seconds)) per bot)
          decode errors   \(result.decodeErrors)
          kicks           \(result.kicks)
          closes          \(closes.isEmpty ? "none" : closes)\(resourceLines(result.resources, target: config.target))
        """
    }
}
