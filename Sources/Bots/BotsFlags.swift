import CommandLineFlags

/// The flags of `tickwire bots`.
public enum BotsFlags {
    public static let help = """
    usage: tickwire bots --url ws://HOST:PORT/rooms/NAME [flags]

    flags (default in brackets):
      --url URL            the room to load (ws://, an IP literal or localhost) [required]
      --bots N             bots to run (1...100000) [10]
      --duration D         how long to run: 60s, 500ms, 2m [60s]
      --ramp-up D          spread the connects over this long [0s]
      --threads N          event loops (threads) the bots share [1]
      --behaviour LIST     idle, wander, shooter, chaser, chatty; a comma list is assigned to bots in turn [wander]
      --seed N             seed of the bots' choices [1]
      --rooms K            spread the bots over K rooms: bot i joins PATH-(i mod K) [1]
      --input-batch N      send inputs N ticks at a time, in one write (3 at 60 Hz = 20 writes a second) [1]
      --latency D          link conditioner: add this latency each way, per bot (e.g. 40ms) [0ms]
      --jitter D           link conditioner: add up to this much more, uniformly at random, each way [0ms]
      --watch              join as spectators (?watch=1): no avatar, the whole room in every snapshot
      --churn P            P% of the bots leave per minute: half drop their connection and resume with their
                           token, half leave and join again as new players, after a 0.5-1.5 s pause [0]
      --scenario FILE      take bots, duration, behaviours and thresholds from a JSON scenario (tools/scenarios/);
                           exits 1 naming every threshold the run broke
      --json FILE          also write the figures as JSON (with a per-second timeline)
      --html FILE          also write a self-contained HTML report with charts over time
      --metrics-timeout D  time for each read of the server's /metrics (before and after the run); 0s: no read [2s]
      --timer-slack D      a bot's input timer may fire this late, so timers due together share one wake-up of
                           the loop; 0ms: each on time [1ms]

    Prints a progress line every second and a report at the end, with the CPU and memory of the bots' own process
    and of the server (read from its /metrics before and after, when it serves one). Exits 1 when any bot failed to
    decode a snapshot or a scenario threshold broke.
    """

    /// A command-line mistake, with what to tell the user.
    public struct Mistake: Error, Equatable {
        public let message: String
    }

    /// Parses a duration: `60s`, `500ms`, `2m`, or plain seconds.
    public static func durationNs(_ text: String) -> UInt64? {
        let units: [(String, UInt64)] = [("ms", 1_000_000), ("s", 1_000_000_000), ("m", 60_000_000_000)]
        for (suffix, scale) in units where text.hasSuffix(suffix) {
            guard let value = UInt64(text.dropLast(suffix.count)), value <= 86_400_000 else { return nil }
            return value * scale
        }
        return UInt64(text).map { $0 * 1_000_000_000 }
    }

    /// The parsed command line: the swarm, and the scenario and report files if given.
    public struct Command {
        public var config: SwarmConfig
        public var scenario: Scenario?
        public var jsonPath: String?
        public var htmlPath: String?
    }

    /// Parses flags; a scenario's settings apply first and flags given too override them.
    public static func parseCommand(_ arguments: [String]) throws(Mistake) -> Command {
        var scenario: Scenario?
        var jsonPath: String?
        var htmlPath: String?
        let fileFlags = ["--scenario", "--json", "--html"]
        var rest: [String] = []
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            let isFileFlag = fileFlags.contains { argument == $0 || argument.hasPrefix($0 + "=") }
            for flag in fileFlags where argument == flag || argument.hasPrefix(flag + "=") {
                var value = argument.hasPrefix(flag + "=") ? String(argument.dropFirst(flag.count + 1)) : nil
                if value == nil {
                    index += 1
                    guard index < arguments.count else { throw Mistake(message: "\(flag) needs a value") }
                    value = arguments[index]
                }
                switch flag {
                case "--json": jsonPath = value
                case "--html": htmlPath = value
                default:
                    do { scenario = try Scenario.load(path: value!) } catch { throw Mistake(message: "--scenario \(value!): \(error)") }
                }
            }
            if !isFileFlag { rest.append(argument) }
            index += 1
        }
        var config = try parse(rest, scenario: scenario)
        if scenario == nil, config.rooms < 1 { config.rooms = 1 }
        return Command(config: config, scenario: scenario, jsonPath: jsonPath, htmlPath: htmlPath)
    }

    public static func parse(_ arguments: [String], scenario: Scenario? = nil) throws(Mistake) -> SwarmConfig {
        var values: [String: String] = [:]
        let spectate = arguments.contains("--watch")  // the one flag without a value
        let arguments = arguments.filter { $0 != "--watch" }
        do throws(FlagArgumentError) {
            let known: Set<String> = ["--url", "--bots", "--duration", "--ramp-up", "--threads", "--behaviour", "--seed", "--rooms",
                                      "--input-batch", "--latency", "--jitter", "--churn", "--scenario", "--json", "--html", "--metrics-timeout",
                                      "--timer-slack"]
            for (name, value) in try splitFlagArguments(arguments, known: known) { values[name] = value }
        } catch {
            switch error {
            case .unknownFlag(let name): throw Mistake(message: "unknown flag \(name) (see --help)")
            case .missingValue(let name): throw Mistake(message: "\(name) needs a value")
            }
        }
        guard let url = values["--url"] else { throw Mistake(message: "--url is required (e.g. ws://127.0.0.1:8080/rooms/load)") }
        guard let target = BotTarget(url: url) else { throw Mistake(message: "--url \(url): expected ws://IP:PORT/PATH") }
        var config = SwarmConfig(target: target)
        try scenario?.configure(&config)
        if let text = values["--rooms"] {
            guard let rooms = Int(text), (1...10_000).contains(rooms) else { throw Mistake(message: "--rooms \(text): expected 1...10000") }
            config.rooms = rooms
        }
        if let text = values["--bots"] {
            guard let bots = Int(text), (1...100_000).contains(bots) else { throw Mistake(message: "--bots \(text): expected 1...100000") }
            config.bots = bots
        }
        if let text = values["--duration"] {
            guard let duration = durationNs(text), duration > 0 else { throw Mistake(message: "--duration \(text): expected e.g. 60s, 500ms, 2m") }
            config.durationNs = duration
        }
        if let text = values["--ramp-up"] {
            guard let ramp = durationNs(text) else { throw Mistake(message: "--ramp-up \(text): expected e.g. 5s") }
            config.rampUpNs = ramp
        }
        if let text = values["--threads"] {
            guard let threads = Int(text), (1...64).contains(threads) else { throw Mistake(message: "--threads \(text): expected 1...64") }
            config.threads = threads
        }
        if let text = values["--behaviour"] {
            var behaviours: [BotBehaviour] = []
            for name in text.split(separator: ",") {
                guard let behaviour = BotBehaviour(rawValue: String(name)) else {
                    throw Mistake(message: "--behaviour \(name): expected \(BotBehaviour.allCases.map(\.rawValue).joined(separator: ", "))")
                }
                behaviours.append(behaviour)
            }
            guard !behaviours.isEmpty else { throw Mistake(message: "--behaviour needs at least one") }
            config.behaviours = behaviours
        }
        if let text = values["--input-batch"] {
            guard let batch = Int(text), (1...60).contains(batch) else { throw Mistake(message: "--input-batch \(text): expected 1...60") }
            config.inputBatch = batch
        }
        if let text = values["--latency"] {
            guard let latency = durationNs(text), latency <= 10_000_000_000 else { throw Mistake(message: "--latency \(text): expected e.g. 40ms (at most 10s)") }
            config.link.latencyNs = latency
        }
        if let text = values["--jitter"] {
            guard let jitter = durationNs(text), jitter <= 10_000_000_000 else { throw Mistake(message: "--jitter \(text): expected e.g. 10ms (at most 10s)") }
            config.link.jitterNs = jitter
        }
        if let text = values["--churn"] {
            guard let churn = Double(text), churn >= 0, churn <= 6000 else { throw Mistake(message: "--churn \(text): expected a percentage per minute, 0...6000") }
            config.churnPercentPerMinute = churn
        }
        if let text = values["--metrics-timeout"] {
            guard let timeout = durationNs(text), timeout <= 60_000_000_000 else {
                throw Mistake(message: "--metrics-timeout \(text): expected e.g. 2s, or 0s for no /metrics read (at most 60s)")
            }
            config.serverMetricsTimeoutNs = timeout
        }
        if let text = values["--timer-slack"] {
            guard let slack = durationNs(text), slack <= 50_000_000 else {
                throw Mistake(message: "--timer-slack \(text): expected e.g. 1ms, or 0ms for timers on time (at most 50ms)")
            }
            config.timerSlackNs = slack
        }
        if spectate { config.spectate = true }
        if let text = values["--seed"] {
            guard let seed = UInt64(text) else { throw Mistake(message: "--seed \(text): expected a number") }
            config.seed = seed
        }
        return config
    }
}
