import Arena
import Bots
import Engine
import Glibc
import Server

/// `tickwire` — the command line. Subcommands: serve (default), bots, replay, help.
let usage = """
usage: tickwire <command> [flags]

commands:
  serve     run the game server (default); `tickwire serve --help` lists every flag and limit
  bots      run a bot swarm against a room and report what players would feel; `tickwire bots --help`
  replay    summarise, verify, time or dump a recording made with `tickwire serve --record DIR`; `tickwire replay --help`
  help      show this text

"""

var arguments = Array(CommandLine.arguments.dropFirst())
let command = arguments.first.flatMap { $0.hasPrefix("-") ? nil : $0 } ?? "serve"
if arguments.first == command { arguments.removeFirst() }

func printError(_ text: String) {
    let bytes = Array((text + "\n").utf8)
    _ = bytes.withUnsafeBytes { write(2, $0.baseAddress, $0.count) }
}

switch command {
case "serve":
    if arguments.contains("--help") || arguments.contains("-h") {
        print(ServeFlags.helpText(), terminator: "")
        exit(0)
    }
    do {
        let config = try ServeFlags.parse(arguments)
        // The demo game: every /rooms/{id} is an Arena with a fresh random seed, its world sized for the room's players.
        let arenaConfig = ArenaConfig.sized(forPlayers: config.roomLimits.playersMax)
        let arenaRooms = RoomHosting { context in
            var generator = SystemRandomNumberGenerator()
            return Room(game: Arena(config: arenaConfig, seed: generator.next()), context: context)
        }
        exit(TickwireServer.runUntilSignalled(config: config, rooms: arenaRooms))
    } catch {
        printError("tickwire serve: \(error.message)")
        exit(2)
    }
case "bots":
    if arguments.contains("--help") || arguments.contains("-h") {
        print(BotsFlags.help)
        exit(0)
    }
    do {
        let command = try BotsFlags.parseCommand(arguments)
        let config = command.config
        let isTerminal = isatty(1) == 1
        var previous: SwarmSnapshot?
        let swarm = Swarm(config: config)
        let result = try swarm.run { now in
            let line = SwarmReport.progressLine(now, previous: previous)
            print(isTerminal ? "\r\u{1B}[K" + line : line, terminator: isTerminal ? "" : "\n")
            fflush(nil)  // every stream: Swift 6 rejects the mutable global `stdout`
            previous = now
        }
        if isTerminal { print("") }
        print(SwarmReport.table(result, config: config))
        var broken: [String] = []
        let checks = command.scenario?.evaluate(result) ?? []
        if !checks.isEmpty {
            print("  thresholds")
            for check in checks {
                print("    \(check.held ? "ok    " : "BROKEN") \(check.line)")
                if !check.held { broken.append(check.line) }
            }
        }
        func save(_ text: String, to path: String) {
            let bytes = Array(text.utf8)
            guard let file = fopen(path, "w") else {
                printError("tickwire bots: cannot write \(path)")
                exit(1)
            }
            fwrite(bytes, 1, bytes.count, file)
            fclose(file)
        }
        if let path = command.jsonPath { save(result.json(config: config, timeline: swarm.timeline), to: path) }
        if let path = command.htmlPath {
            save(SwarmHTMLReport.render(result: result, config: config, timeline: swarm.timeline, checks: checks), to: path)
        }
        if !broken.isEmpty { printError("tickwire bots: thresholds broken: \(broken.joined(separator: "; "))") }
        exit(result.decodeErrors > 0 || !broken.isEmpty ? 1 : 0)
    } catch let mistake as BotsFlags.Mistake {
        printError("tickwire bots: \(mistake.message)")
        exit(2)
    } catch {
        printError("tickwire bots: \(error)")
        exit(1)
    }
case "replay":
    exit(ReplayCommand.run(arguments))
case "help", "--help", "-h":
    print(usage, terminator: "")
default:
    printError("tickwire: unknown command \(command)\n\n\(usage)")
    exit(2)
}
