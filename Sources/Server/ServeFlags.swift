import CommandLineFlags

/// A command-line mistake, with the message to print.
public enum FlagError: Error, Equatable, Sendable {
    case unknownFlag(String)
    case missingValue(String)
    case invalidValue(flag: String, value: String, expected: String)

    /// What to tell the user.
    public var message: String {
        switch self {
        case .unknownFlag(let flag): return "unknown flag \(flag) (see --help)"
        case .missingValue(let flag): return "\(flag) needs a value"
        case .invalidValue(let flag, let value, let expected): return "\(flag) \(value): expected \(expected)"
        }
    }
}

/// The flags of `tickwire serve`: one table gives parsing, defaults and the help text, so they cannot disagree.
public enum ServeFlags {
    struct Flag: Sendable {
        let name: String
        let valueName: String
        let help: String
        let defaultValue: @Sendable (ServerConfig) -> String
        let apply: @Sendable (inout ServerConfig, String) throws(FlagError) -> Void
    }

    static func integer(_ flag: String, _ text: String, in range: ClosedRange<Int>) throws(FlagError) -> Int {
        guard let value = Int(text), range.contains(value) else {
            throw .invalidValue(flag: flag, value: text, expected: "an integer in \(range.lowerBound)...\(range.upperBound)")
        }
        return value
    }

    static func milliseconds(_ flag: String, _ text: String) throws(FlagError) -> UInt64 {
        UInt64(try integer(flag, text, in: 1...86_400_000)) * 1_000_000
    }

    static func path(_ flag: String, _ text: String) throws(FlagError) -> String {
        guard text.hasPrefix("/"), !text.contains(" ") else { throw .invalidValue(flag: flag, value: text, expected: "a path starting with /") }
        return text
    }

    static let flags: [Flag] = [
        Flag(name: "--host", valueName: "IP", help: "address to listen on (IPv4 or IPv6 literal; 0.0.0.0 for all)",
             defaultValue: { $0.host }, apply: { config, value throws(FlagError) in config.host = value }),
        Flag(name: "--port", valueName: "N", help: "TCP port (0 picks a free one)",
             defaultValue: { String($0.port) }, apply: { config, value throws(FlagError) in
                 config.port = UInt16(try integer("--port", value, in: 0...65535)) }),
        Flag(name: "--loops", valueName: "N", help: "event loops (threads); default one per core",
             defaultValue: { String($0.loopCount) }, apply: { config, value throws(FlagError) in
                 config.loopCount = try integer("--loops", value, in: 1...256) }),
        Flag(name: "--echo-path", valueName: "PATH", help: "serve a WebSocket echo endpoint at PATH (conformance tests)",
             defaultValue: { $0.echoPath ?? "off" }, apply: { config, value throws(FlagError) in
                 config.echoPath = try path("--echo-path", value) }),
        Flag(name: "--bench-broadcast-hz", valueName: "F", help: "benchmark mode: send every client of --bench-broadcast-path a message F times a second",
             defaultValue: { $0.benchBroadcastHz.map(String.init) ?? "off" }, apply: { config, value throws(FlagError) in
                 config.benchBroadcastHz = try integer("--bench-broadcast-hz", value, in: 1...10_000) }),
        Flag(name: "--bench-broadcast-bytes", valueName: "S", help: "payload bytes of each benchmark broadcast (GSBCAST1 header when >= 24)",
             defaultValue: { String($0.benchBroadcastBytes) }, apply: { config, value throws(FlagError) in
                 config.benchBroadcastBytes = try integer("--bench-broadcast-bytes", value, in: 1...60_000) }),
        Flag(name: "--bench-broadcast-path", valueName: "PATH", help: "path of the benchmark broadcast endpoint",
             defaultValue: { $0.benchBroadcastPath }, apply: { config, value throws(FlagError) in
                 config.benchBroadcastPath = try path("--bench-broadcast-path", value) }),
        Flag(name: "--allow-origin", valueName: "ORIGIN", help: "also accept WebSockets from this browser origin (repeatable; * allows all)",
             defaultValue: { $0.allowedOrigins.isEmpty ? "same origin, or no Origin" : $0.allowedOrigins.joined(separator: ",") },
             apply: { config, value throws(FlagError) in config.allowedOrigins.append(value) }),
        Flag(name: "--max-connections", valueName: "N", help: "open connections at most; more get 503",
             defaultValue: { String($0.connectionsMax) }, apply: { config, value throws(FlagError) in
                 config.connectionsMax = try integer("--max-connections", value, in: 1...10_000_000) }),
        Flag(name: "--max-header-bytes", valueName: "N", help: "largest HTTP request head; more gets 431",
             defaultValue: { String($0.headBytesMax) }, apply: { config, value throws(FlagError) in
                 config.headBytesMax = try integer("--max-header-bytes", value, in: 256...1_048_576) }),
        Flag(name: "--max-headers", valueName: "N", help: "most header fields in a request; more gets 431",
             defaultValue: { String($0.headerCountMax) }, apply: { config, value throws(FlagError) in
                 config.headerCountMax = try integer("--max-headers", value, in: 8...1000) }),
        Flag(name: "--max-frame-bytes", valueName: "N", help: "largest WebSocket frame payload; more closes with 1009",
             defaultValue: { String($0.webSocketLimits.frameBytesMax) }, apply: { config, value throws(FlagError) in
                 config.webSocketLimits.frameBytesMax = try integer("--max-frame-bytes", value, in: 125...1 << 30) }),
        Flag(name: "--max-message-bytes", valueName: "N", help: "largest WebSocket message (all fragments); more closes with 1009",
             defaultValue: { String($0.webSocketLimits.messageBytesMax) }, apply: { config, value throws(FlagError) in
                 config.webSocketLimits.messageBytesMax = try integer("--max-message-bytes", value, in: 125...1 << 30) }),
        Flag(name: "--room-max-message-bytes", valueName: "N", help: "largest message a game room accepts from a client; more closes with 1009",
             defaultValue: { String($0.roomMessageBytesMax) }, apply: { config, value throws(FlagError) in
                 config.roomMessageBytesMax = try integer("--room-max-message-bytes", value, in: 125...1 << 20) }),
        Flag(name: "--max-connections-per-address", valueName: "N", help: "connections open at once from one client address (IPv6: one /64); more get 503",
             defaultValue: { String($0.addressLimits.connectionsMax) }, apply: { config, value throws(FlagError) in
                 config.addressLimits.connectionsMax = try integer("--max-connections-per-address", value, in: 1...10_000_000) }),
        Flag(name: "--requests-per-second-per-address", valueName: "N", help: "HTTP requests and WebSocket handshakes per second from one address after the burst; more get 429",
             defaultValue: { String($0.addressLimits.requestsPerSecond) }, apply: { config, value throws(FlagError) in
                 config.addressLimits.requestsPerSecond = try integer("--requests-per-second-per-address", value, in: 1...10_000_000) }),
        Flag(name: "--request-burst-per-address", valueName: "N", help: "requests one address may make at once before the per-second rate applies",
             defaultValue: { String($0.addressLimits.requestBurst) }, apply: { config, value throws(FlagError) in
                 config.addressLimits.requestBurst = try integer("--request-burst-per-address", value, in: 1...10_000_000) }),
        Flag(name: "--rooms-created-per-minute-per-address", valueName: "N", help: "rooms one address may create per minute after the burst; more get 429",
             defaultValue: { String($0.addressLimits.roomsCreatedPerMinute) }, apply: { config, value throws(FlagError) in
                 config.addressLimits.roomsCreatedPerMinute = try integer("--rooms-created-per-minute-per-address", value, in: 1...10_000_000) }),
        Flag(name: "--room-create-burst-per-address", valueName: "N", help: "rooms one address may create at once before the per-minute rate applies",
             defaultValue: { String($0.addressLimits.roomsCreatedBurst) }, apply: { config, value throws(FlagError) in
                 config.addressLimits.roomsCreatedBurst = try integer("--room-create-burst-per-address", value, in: 1...10_000_000) }),
        Flag(name: "--addresses-tracked-max", valueName: "N", help: "client addresses tracked at once for the per-address limits; a new one past it gets 503",
             defaultValue: { String($0.addressLimits.addressesTrackedMax) }, apply: { config, value throws(FlagError) in
                 config.addressLimits.addressesTrackedMax = try integer("--addresses-tracked-max", value, in: 16...100_000_000) }),
        Flag(name: "--trusted-proxy", valueName: "ADDR", help: "believe X-Forwarded-For from this proxy address (repeatable): limits and logs then see the client",
             defaultValue: { $0.addressLimits.trustedProxies.isEmpty ? "none" : $0.addressLimits.trustedProxies.joined(separator: ",") },
             apply: { config, value throws(FlagError) in
                 guard PeerAddress.isIPLiteral(value) else { throw .invalidValue(flag: "--trusted-proxy", value: value, expected: "an IP address") }
                 config.addressLimits.trustedProxies.append(value) }),
        Flag(name: "--exempt-address", valueName: "ADDR", help: "no per-address limit for this address (repeatable; a local load generator)",
             defaultValue: { $0.addressLimits.exemptAddresses.isEmpty ? "none" : $0.addressLimits.exemptAddresses.joined(separator: ",") },
             apply: { config, value throws(FlagError) in
                 guard PeerAddress.isIPLiteral(value) else { throw .invalidValue(flag: "--exempt-address", value: value, expected: "an IP address") }
                 config.addressLimits.exemptAddresses.append(value) }),
        Flag(name: "--write-high-watermark-bytes", valueName: "N", help: "unsent bytes at which a connection is no longer writable (backpressure)",
             defaultValue: { String($0.connectionLimits.writeHighWatermarkBytes) }, apply: { config, value throws(FlagError) in
                 config.connectionLimits.writeHighWatermarkBytes = try integer("--write-high-watermark-bytes", value, in: 1...1 << 30) }),
        Flag(name: "--write-low-watermark-bytes", valueName: "N", help: "unsent bytes at which it is writable again",
             defaultValue: { String($0.connectionLimits.writeLowWatermarkBytes) }, apply: { config, value throws(FlagError) in
                 config.connectionLimits.writeLowWatermarkBytes = try integer("--write-low-watermark-bytes", value, in: 0...1 << 30) }),
        Flag(name: "--write-queue-max-bytes", valueName: "N", help: "unsent bytes at which a peer that does not read is disconnected",
             defaultValue: { String($0.connectionLimits.writeQueueBytesMax) }, apply: { config, value throws(FlagError) in
                 config.connectionLimits.writeQueueBytesMax = try integer("--write-queue-max-bytes", value, in: 1024...1 << 31) }),
        Flag(name: "--handshake-timeout-ms", valueName: "MS", help: "time a client has to complete the HTTP request / opening handshake",
             defaultValue: { String($0.connectionLimits.handshakeTimeoutNs / 1_000_000) }, apply: { config, value throws(FlagError) in
                 config.connectionLimits.handshakeTimeoutNs = try milliseconds("--handshake-timeout-ms", value) }),
        Flag(name: "--message-timeout-ms", valueName: "MS", help: "time a started WebSocket message has to arrive whole; slower closes with 1008",
             defaultValue: { String($0.connectionLimits.messageTimeoutNs / 1_000_000) }, apply: { config, value throws(FlagError) in
                 config.connectionLimits.messageTimeoutNs = try milliseconds("--message-timeout-ms", value) }),
        Flag(name: "--response-timeout-ms", valueName: "MS", help: "time an HTTP response has to reach the client before the connection is closed",
             defaultValue: { String($0.connectionLimits.responseTimeoutNs / 1_000_000) }, apply: { config, value throws(FlagError) in
                 config.connectionLimits.responseTimeoutNs = try milliseconds("--response-timeout-ms", value) }),
        Flag(name: "--pongs-per-read-max", valueName: "N", help: "pings answered one by one per read; past it only the latest is answered",
             defaultValue: { String($0.connectionLimits.pongsPerReadMax) }, apply: { config, value throws(FlagError) in
                 config.connectionLimits.pongsPerReadMax = try integer("--pongs-per-read-max", value, in: 1...100_000) }),
        Flag(name: "--ping-interval-ms", valueName: "MS", help: "silence after which the server pings a client",
             defaultValue: { String($0.connectionLimits.pingIntervalNs / 1_000_000) }, apply: { config, value throws(FlagError) in
                 config.connectionLimits.pingIntervalNs = try milliseconds("--ping-interval-ms", value) }),
        Flag(name: "--idle-timeout-ms", valueName: "MS", help: "silence after which a client is closed (1001, idle timeout)",
             defaultValue: { String($0.connectionLimits.idleTimeoutNs / 1_000_000) }, apply: { config, value throws(FlagError) in
                 config.connectionLimits.idleTimeoutNs = try milliseconds("--idle-timeout-ms", value) }),
        Flag(name: "--close-timeout-ms", valueName: "MS", help: "wait for a peer's close frame / end of TCP after we close",
             defaultValue: { String($0.connectionLimits.closeTimeoutNs / 1_000_000) }, apply: { config, value throws(FlagError) in
                 config.connectionLimits.closeTimeoutNs = try milliseconds("--close-timeout-ms", value) }),
        Flag(name: "--read-buffer-bytes", valueName: "N", help: "size of each loop's single read buffer",
             defaultValue: { String($0.readBufferBytes) }, apply: { config, value throws(FlagError) in
                 config.readBufferBytes = try integer("--read-buffer-bytes", value, in: 4096...64 << 20) }),
        Flag(name: "--log-peer-lines-per-second", valueName: "N", help: "lines about misbehaving peers logged per second at most",
             defaultValue: { String($0.violationLogLinesPerSecondMax) }, apply: { config, value throws(FlagError) in
                 config.violationLogLinesPerSecondMax = try integer("--log-peer-lines-per-second", value, in: 0...100_000) }),
        Flag(name: "--log-peer-lines-per-address", valueName: "N", help: "of those, lines about one client address per second at most",
             defaultValue: { String($0.violationLogLinesPerAddressPerSecondMax) }, apply: { config, value throws(FlagError) in
                 config.violationLogLinesPerAddressPerSecondMax = try integer("--log-peer-lines-per-address", value, in: 0...100_000) }),
        Flag(name: "--rooms-list-cache-ms", valueName: "MS", help: "how long one rendering of GET /rooms is reused",
             defaultValue: { String($0.roomsListCacheNs / 1_000_000) }, apply: { config, value throws(FlagError) in
                 config.roomsListCacheNs = try milliseconds("--rooms-list-cache-ms", value) }),
        Flag(name: "--tick-rate", valueName: "HZ", help: "simulation ticks per second in every room",
             defaultValue: { String($0.roomSettings.tickRateHz) }, apply: { config, value throws(FlagError) in
                 config.roomSettings.tickRateHz = try integer("--tick-rate", value, in: 1...240) }),
        Flag(name: "--snapshot-every", valueName: "N", help: "send each client a snapshot every N ticks (3 at 60 Hz = 20 a second), clients spread over N phases",
             defaultValue: { String($0.roomSettings.snapshotEveryTicks) }, apply: { config, value throws(FlagError) in
                 config.roomSettings.snapshotEveryTicks = try integer("--snapshot-every", value, in: 1...60) }),
        Flag(name: "--input-buffer", valueName: "N", help: "inputs buffered per player; more are dropped and counted",
             defaultValue: { String($0.roomSettings.inputBufferMax) }, apply: { config, value throws(FlagError) in
                 config.roomSettings.inputBufferMax = try integer("--input-buffer", value, in: 1...256) }),
        Flag(name: "--baseline-window-ticks", valueName: "N", help: "how old an acknowledged snapshot may be and still be a baseline",
             defaultValue: { String($0.roomSettings.baselineWindowTicks) }, apply: { config, value throws(FlagError) in
                 config.roomSettings.baselineWindowTicks = try integer("--baseline-window-ticks", value, in: 1...4095) }),
        Flag(name: "--room-players-max", valueName: "N", help: "players in one room; more are refused (Arena's world grows with it past 64)",
             defaultValue: { String($0.roomLimits.playersMax) }, apply: { config, value throws(FlagError) in
                 config.roomLimits.playersMax = try integer("--room-players-max", value, in: 1...16_384) }),
        Flag(name: "--room-spectators-max", valueName: "N", help: "spectators (?watch=1) in one room, counted apart from players",
             defaultValue: { String($0.roomLimits.spectatorsMax) }, apply: { config, value throws(FlagError) in
                 config.roomLimits.spectatorsMax = try integer("--room-spectators-max", value, in: 0...100_000) }),
        Flag(name: "--room-empty-close-ms", valueName: "MS", help: "an empty room closes after this long",
             defaultValue: { String($0.roomLimits.emptyCloseNs / 1_000_000) }, apply: { config, value throws(FlagError) in
                 config.roomLimits.emptyCloseNs = try milliseconds("--room-empty-close-ms", value) }),
        Flag(name: "--room-unused-close-ms", valueName: "MS", help: "a room no player has joined closes after this long (spectators are told why)",
             defaultValue: { String($0.roomLimits.unusedCloseNs / 1_000_000) }, apply: { config, value throws(FlagError) in
                 config.roomLimits.unusedCloseNs = try milliseconds("--room-unused-close-ms", value) }),
        Flag(name: "--room-chat-per-second", valueName: "N", help: "chat lines one room relays per second, all players together",
             defaultValue: { String($0.roomLimits.roomChatPerSecond) }, apply: { config, value throws(FlagError) in
                 config.roomLimits.roomChatPerSecond = try integer("--room-chat-per-second", value, in: 1...10_000) }),
        Flag(name: "--pings-per-second", valueName: "N", help: "game pings per second per client after a burst of 10; more are dropped",
             defaultValue: { String($0.roomLimits.pingsPerSecond) }, apply: { config, value throws(FlagError) in
                 config.roomLimits.pingsPerSecond = try integer("--pings-per-second", value, in: 1...1000) }),
        Flag(name: "--resume-grace-ms", valueName: "MS", help: "a dropped player keeps its avatar and score this long for a reconnect with its resume token",
             defaultValue: { String($0.roomLimits.resumeGraceNs / 1_000_000) }, apply: { config, value throws(FlagError) in
                 config.roomLimits.resumeGraceNs = try milliseconds("--resume-grace-ms", value) }),
        Flag(name: "--stuck-snapshots-max", valueName: "N", help: "snapshots a client may miss in a row (socket full) before it is kicked",
             defaultValue: { String($0.roomLimits.stuckSnapshotsMax) }, apply: { config, value throws(FlagError) in
                 config.roomLimits.stuckSnapshotsMax = try integer("--stuck-snapshots-max", value, in: 1...100_000) }),
        Flag(name: "--chat-per-second", valueName: "N", help: "chat lines per second per player after a burst of 5",
             defaultValue: { String($0.roomLimits.chatPerSecond) }, apply: { config, value throws(FlagError) in
                 config.roomLimits.chatPerSecond = try integer("--chat-per-second", value, in: 1...100) }),
        Flag(name: "--rooms-max", valueName: "N", help: "rooms open at once",
             defaultValue: { String($0.roomsMax) }, apply: { config, value throws(FlagError) in
                 config.roomsMax = try integer("--rooms-max", value, in: 1...1_000_000) }),
        Flag(name: "--static-dir", valueName: "DIR", help: "serve the browser client from DIR instead of the built-in files",
             defaultValue: { $0.staticDirectory ?? "built in" }, apply: { config, value throws(FlagError) in config.staticDirectory = value }),
        Flag(name: "--record", valueName: "DIR", help: "record every room session into DIR, one file each (tickwire replay FILE)",
             defaultValue: { $0.recordDirectory ?? "off" }, apply: { config, value throws(FlagError) in config.recordDirectory = value }),
        Flag(name: "--record-max-files", valueName: "N", help: "recordings kept; the oldest are deleted as new ones start",
             defaultValue: { String($0.recordingLimits.maxFiles) }, apply: { config, value throws(FlagError) in
                 config.recordingLimits.maxFiles = try integer("--record-max-files", value, in: 1...1_000_000) }),
        Flag(name: "--record-max-bytes", valueName: "N", help: "bytes of recordings kept, the same way",
             defaultValue: { String($0.recordingLimits.maxBytes) }, apply: { config, value throws(FlagError) in
                 config.recordingLimits.maxBytes = Int64(try integer("--record-max-bytes", value, in: 1...Int.max)) }),
        Flag(name: "--record-keyframe-ticks", valueName: "N", help: "ticks between keyframes (whole worlds, for seeking and diffs) in recordings",
             defaultValue: { String($0.recordingLimits.keyframeEveryTicks) }, apply: { config, value throws(FlagError) in
                 config.recordingLimits.keyframeEveryTicks = try integer("--record-keyframe-ticks", value, in: 1...1_000_000) }),
        Flag(name: "--shutdown-grace-ms", valueName: "MS", help: "on SIGTERM/SIGINT, time for clients to finish closing before exit",
             defaultValue: { String($0.shutdownGraceNs / 1_000_000) }, apply: { config, value throws(FlagError) in
                 config.shutdownGraceNs = try milliseconds("--shutdown-grace-ms", value) }),
    ]

    /// Parses `arguments` (flags after `serve`). Accepts `--flag value` and `--flag=value`.
    public static func parse(_ arguments: [String]) throws(FlagError) -> ServerConfig {
        var config = ServerConfig()
        let pairs: [(name: String, value: String)]
        do throws(FlagArgumentError) {
            pairs = try splitFlagArguments(arguments, known: Set(flags.map(\.name)))
        } catch {
            switch error {
            case .unknownFlag(let name): throw .unknownFlag(name)
            case .missingValue(let name): throw .missingValue(name)
            }
        }
        for (name, value) in pairs {
            try flags.first { $0.name == name }!.apply(&config, value)
        }
        guard config.connectionLimits.writeLowWatermarkBytes <= config.connectionLimits.writeHighWatermarkBytes,
              config.connectionLimits.writeHighWatermarkBytes <= config.connectionLimits.writeQueueBytesMax
        else {
            throw .invalidValue(flag: "--write-low-watermark-bytes", value: String(config.connectionLimits.writeLowWatermarkBytes),
                                expected: "low <= high watermark <= write queue max")
        }
        if config.webSocketLimits.frameBytesMax > config.webSocketLimits.messageBytesMax {
            config.webSocketLimits.frameBytesMax = config.webSocketLimits.messageBytesMax
        }
        return config
    }

    /// The help text: every flag with its default.
    public static func helpText() -> String {
        let defaults = ServerConfig()
        var text = "usage: tickwire serve [flags]\n\nflags (default in brackets):\n"
        for flag in flags {
            let left = "  \(flag.name) \(flag.valueName)"
            text += left.padding(to: 36) + flag.help + " [\(flag.defaultValue(defaults))]\n"
        }
        return text
    }
}

extension String {
    func padding(to width: Int) -> String {
        count >= width ? self + " " : self + String(repeating: " ", count: width - count)
    }
}
