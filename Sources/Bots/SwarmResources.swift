import Reactor

/// CPU and memory of both ends of a run: the load generator (this process) and, when it serves `/metrics` with
/// the standard process figures, the server. A load generator near a full core is not measuring the server.
public struct SwarmResources: Sendable, Equatable {
    public var wallSeconds: Double
    /// The swarm's event loops (threads): the load generator's CPU is near saturation close to this many cores.
    public var threads: Int
    /// Bots connected at the end (memory per bot is divided by them).
    public var connectedBots: Int
    /// This process: CPU seconds over the run, resident bytes at its start and end.
    public var botsCPUSeconds: Double
    public var botsResidentBytesStart: UInt64
    public var botsResidentBytesEnd: UInt64
    /// The server from `/metrics` at the start and end of the run, or why there is none.
    public var server: Result<ServerFigures, ServerFiguresUnavailable>

    /// Why a run has no server figures.
    public enum ServerFiguresUnavailable: Error, Equatable, Sendable, CustomStringConvertible {
        /// `--metrics-timeout 0s`: not asked.
        case notRequested
        /// The GET of `/metrics` failed.
        case request(BlockingHTTPGetError)
        /// It answered, but not 200 with `process_cpu_seconds_total` and `process_resident_memory_bytes`.
        case noProcessFigures(status: Int)

        public var description: String {
            switch self {
            case .notRequested: return "not read (--metrics-timeout 0s)"
            case .request(let error): return "\(error)"
            case .noProcessFigures(let status): return "HTTP \(status) without process_cpu_seconds_total and process_resident_memory_bytes"
            }
        }
    }

    /// What the server's `/metrics` told.
    public struct ServerFigures: Sendable, Equatable {
        public var cpuSeconds: Double
        public var residentBytesStart: Double
        public var residentBytesEnd: Double
        /// A Tickwire server's own account of the run (nil from another server): counters' growth between the reads.
        public var troubles: [Trouble: Double]?
    }

    /// What a Tickwire server counts when it does not keep up, by its `/metrics` name.
    public enum Trouble: String, CaseIterable, Sendable {
        case snapshotsSkipped = "tickwire_snapshots_skipped_total"
        case catchUpTicks = "tickwire_catch_up_ticks_total"
        case inputsDropped = "tickwire_inputs_dropped_total"
        case decodeErrors = "tickwire_decode_errors_total"

        /// How the report names it.
        var label: String {
            switch self {
            case .snapshotsSkipped: return "snapshots skipped"
            case .catchUpTicks: return "catch-up ticks"
            case .inputsDropped: return "inputs dropped"
            case .decodeErrors: return "messages it could not decode"
            }
        }
        /// How `--json` names it.
        var jsonKey: String {
            switch self {
            case .snapshotsSkipped: return "snapshotsSkipped"
            case .catchUpTicks: return "catchUpTicks"
            case .inputsDropped: return "inputsDropped"
            case .decodeErrors: return "decodeErrors"
            }
        }
    }

    /// The load generator's CPU as a share of one core.
    public var botsCPUPercent: Double { wallSeconds > 0 ? botsCPUSeconds / wallSeconds * 100 : 0 }
    /// True at 90% of the swarm's threads or more: latencies may then be the load generator's own delays.
    public var botsNearSaturation: Bool { botsCPUPercent >= 90 * Double(max(threads, 1)) }
    public var serverCPUPercent: Double? {
        guard case .success(let server) = server, wallSeconds > 0 else { return nil }
        return server.cpuSeconds / wallSeconds * 100
    }

    /// Memory grown per connected bot, in bytes (nil without bots).
    static func perBot(_ start: Double, _ end: Double, bots: Int) -> Double? { bots > 0 ? (end - start) / Double(bots) : nil }
}

/// The standard process figures of a server's `/metrics` at one moment.
struct ServerProcessSample: Sendable, Equatable {
    var cpuSeconds: Double
    var residentBytes: Double
    var atNs: UInt64
    /// A Tickwire server's trouble counters (nil when any is missing: another server).
    var troubles: [SwarmResources.Trouble: Double]?

    /// Scrapes `http://HOST:PORT/metrics` of `target` (a short blocking GET on the calling thread).
    static func scrape(_ target: BotTarget, timeoutMs: Int) -> Result<ServerProcessSample, SwarmResources.ServerFiguresUnavailable> {
        let atNs = monotonicNowNs()
        switch BlockingHTTPGet.get(host: target.host, port: target.port, path: "/metrics", timeoutMs: timeoutMs) {
        case .failure(let error):
            return .failure(.request(error))
        case .success(let response):
            let samples = PrometheusText.unlabeledSamples(String(decoding: response.body, as: UTF8.self))
            guard response.status == 200, let cpu = samples["process_cpu_seconds_total"], let resident = samples["process_resident_memory_bytes"] else {
                return .failure(.noProcessFigures(status: response.status))
            }
            var troubles: [SwarmResources.Trouble: Double]? = [:]
            for trouble in SwarmResources.Trouble.allCases { troubles?[trouble] = samples[trouble.rawValue] }
            if troubles?.count != SwarmResources.Trouble.allCases.count { troubles = nil }
            return .success(ServerProcessSample(cpuSeconds: cpu, residentBytes: resident, atNs: atNs, troubles: troubles))
        }
    }
}

/// Reading the Prometheus text format (version 0.0.4), as much as a report needs.
enum PrometheusText {
    /// Samples larger than this are skipped: the text comes from a server the bots must not trust, and every figure
    /// the report derives (differences, per-bot shares, percentages, integers) stays exact and in range below it.
    static let magnitudeMax = 1e15

    /// The samples without labels, by name. Comments, labelled samples and lines that are not `name value` are
    /// skipped: any text gives an answer.
    static func unlabeledSamples(_ text: String) -> [String: Double] {
        var samples: [String: Double] = [:]
        for line in text.split(whereSeparator: { $0 == "\n" || $0 == "\r" }) {
            guard !line.hasPrefix("#") else { continue }
            let parts = line.split(separator: " ", omittingEmptySubsequences: true)
            guard parts.count == 2 || parts.count == 3,  // name value [timestamp]
                  parts[0].allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "_" || $0 == ":") }),
                  let value = Double(parts[1]), value.isFinite, abs(value) <= PrometheusText.magnitudeMax else { continue }
            samples[String(parts[0])] = value
        }
        return samples
    }
}

extension SwarmResources {
    /// For `--json`: percentages of one core, bytes, and the server's figures or why there are none.
    var jsonObject: [String: Any] {
        func rounded(_ value: Double) -> Double { (value * 10).rounded() / 10 }
        var object: [String: Any] = [
            "loadGenerator": ["cpuPercent": rounded(botsCPUPercent), "threads": threads, "nearSaturation": botsNearSaturation,
                              "residentBytes": botsResidentBytesEnd,
                              "residentBytesPerBot": Self.perBot(Double(botsResidentBytesStart), Double(botsResidentBytesEnd), bots: connectedBots)
                                  .map { $0.rounded() } as Any],
        ]
        switch server {
        case .success(let figures):
            var serverObject: [String: Any] = [
                "cpuPercent": rounded(serverCPUPercent ?? 0), "residentBytes": figures.residentBytesEnd.rounded(),
                "residentBytesPerBot": Self.perBot(figures.residentBytesStart, figures.residentBytesEnd, bots: connectedBots)
                    .map { $0.rounded() } as Any,
            ]
            if let troubles = figures.troubles {
                serverObject["duringRun"] = Dictionary(uniqueKeysWithValues: troubles.map { ($0.key.jsonKey, Int($0.value)) })
            }
            object["server"] = serverObject
        case .failure(let error):
            object["server"] = ["unavailable": "\(error)"]
        }
        return object
    }
}
