import Glibc
import Server

/// `tickwire` — the command line. Subcommands: serve (default), help.
let usage = """
usage: tickwire <command> [flags]

commands:
  serve     run the game server (default); `tickwire serve --help` lists every flag and limit
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
        exit(TickwireServer.runUntilSignalled(config: config))
    } catch {
        printError("tickwire serve: \(error.message)")
        exit(2)
    }
case "help", "--help", "-h":
    print(usage, terminator: "")
default:
    printError("tickwire: unknown command \(command)\n\n\(usage)")
    exit(2)
}
