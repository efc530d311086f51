import Arena
import Engine
import Glibc
import Replay
import Server

/// `tickwire replay FILE [--verify] [--at TICK --dump] [--speed]`: reads an Arena recording and reports on it.
enum ReplayCommand {
    static let help = """
    usage: tickwire replay FILE [flags]

    Prints a summary of a recording: room, duration, ticks, players, size, and whether it ended cleanly or was
    recovered (a torn tail is cut at the last whole chunk; a corrupt chunk stops reading, reported by offset).

    flags:
      --verify          re-simulate from the start and compare every tick's state hash; on the first divergent tick,
                        print a field-level diff of the world (recorded keyframe against re-simulation) and exit 1
      --at TICK --dump  print the world at TICK as JSON (restored from the nearest keyframe, then re-simulated)
      --speed           re-simulate as fast as possible and report ticks per second and the multiple of real time
      --serve           host the recording as a room to watch in the browser: http://HOST:PORT/?room=replay&watch=1
                        (chat /play, /pause, /speed 0.25...16, /seek TICK, or use the page's replay controls)
      --host IP --port N  where --serve listens [127.0.0.1, 8080]

    Exit status: 0 when everything asked for holds, 1 on divergence or a corrupt recording, 2 when the file cannot
    be read at all (not a recording, another game version, unreadable).
    """

    static func run(_ arguments: [String]) -> Int32 {
        if arguments.contains("--help") || arguments.contains("-h") || arguments.isEmpty {
            print(help)
            return arguments.isEmpty ? 2 : 0
        }
        var path: String?
        var verify = false, dump = false, speed = false, serve = false
        var atTick: UInt32?
        var host = "127.0.0.1", port: UInt16 = 8080
        var index = 0
        while index < arguments.count {
            let argument = arguments[index]
            switch argument {
            case "--verify": verify = true
            case "--dump": dump = true
            case "--speed": speed = true
            case "--serve": serve = true
            case "--host", "--port":
                index += 1
                guard index < arguments.count else {
                    printError("tickwire replay: \(argument) needs a value")
                    return 2
                }
                if argument == "--host" {
                    host = arguments[index]
                } else {
                    guard let value = UInt16(arguments[index]) else {
                        printError("tickwire replay: --port \(arguments[index]): expected 0...65535")
                        return 2
                    }
                    port = value
                }
            case "--at":
                index += 1
                guard index < arguments.count, let tick = UInt32(arguments[index]) else {
                    printError("tickwire replay: --at needs a tick number")
                    return 2
                }
                atTick = tick
            default:
                if argument.hasPrefix("-") || path != nil {
                    printError("tickwire replay: unexpected argument \(argument) (see --help)")
                    return 2
                }
                path = argument
            }
            index += 1
        }
        guard let path else {
            printError("tickwire replay: which recording? (tickwire replay FILE)")
            return 2
        }
        if dump != (atTick != nil) {
            printError("tickwire replay: --at TICK and --dump go together")
            return 2
        }
        let recording: Recording
        do throws(RecordingError) {
            recording = try RecordingReader.read(path: path, game: Arena.self)
        } catch {
            printError("tickwire replay: \(path): \(error)")
            return 2
        }
        if let atTick {
            return dumpWorld(recording, at: atTick)
        }
        print(summary(recording, path: path))
        var status: Int32 = 0
        if case .corrupt = recording.ending { status = 1 }
        if verify { status = max(status, runVerify(recording)) }
        if speed { runSpeed(recording) }
        if serve { return serveRecording(recording, host: host, port: port) }
        return status
    }

    static func summary(_ recording: Recording, path: String) -> String {
        let header = recording.header
        let ending: String
        switch recording.ending {
        case .clean: ending = "clean end"
        case .recovered(let torn): ending = "recovered (no end chunk: the server stopped without closing the room\(torn > 0 ? "; \(torn) torn bytes dropped" : ""))"
        case .corrupt(let error): ending = "CORRUPT: \(error); read up to there"
        }
        let first = recording.ticks.first?.tick ?? 0, last = recording.ticks.last?.tick ?? 0
        return """
        \(path)
          room        \(header.roomID) (\(header.gameName) v\(header.gameVersion), \(header.wireVersion), seed \(header.seed))
          duration    \((recording.durationSeconds * 10).rounded() / 10) s: \(recording.ticks.count) ticks (\(first)...\(last)) at \(header.tickRateHz) Hz
          players     \(recording.playerCount) joined; \(recording.ticks.reduce(0) { $0 + $1.chat.count }) chat lines
          keyframes   \(recording.keyframes.count), every \(header.keyframeEveryTicks) ticks
          size        \(recording.fileBytes) bytes
          ending      \(ending)
        """
    }

    static func runVerify(_ recording: Recording) -> Int32 {
        do throws(RecordingError) {
            guard let divergence = try Replayer<Arena>.verify(recording) else {
                print("verify: all \(recording.ticks.count) ticks match (every state hash re-simulated bit for bit)")
                return 0
            }
            print("verify: DIVERGED at tick \(divergence.tick): recorded hash \(String(divergence.recordedHash, radix: 16)), "
                  + "re-simulated \(String(divergence.simulatedHash, radix: 16))")
            if let compared = divergence.comparedAtTick {
                print("  the world at keyframe tick \(compared) (recorded against re-simulated): \(divergence.differences.count) difference(s)")
                for line in divergence.differences { print("    \(line)") }
                if divergence.differences.isEmpty {
                    print("    (what snapshots show matches there: the difference is in state they do not carry, such as velocities or cooldowns)")
                }
            } else {
                print("  no keyframe at or after that tick to compare fields with")
            }
            return 1
        } catch {
            printError("tickwire replay: \(error)")
            return 2
        }
    }

    static func runSpeed(_ recording: Recording) {
        guard var replayer = try? Replayer<Arena>(recording: recording) else { return }
        var start = timespec(), end = timespec()
        clock_gettime(CLOCK_MONOTONIC, &start)
        while replayer.step() != nil {}
        clock_gettime(CLOCK_MONOTONIC, &end)
        let seconds = Double(end.tv_sec - start.tv_sec) + Double(end.tv_nsec - start.tv_nsec) / 1e9
        let ticksPerSecond = Double(replayer.ticksApplied) / max(seconds, 1e-9)
        let multiple = ticksPerSecond / Double(recording.header.tickRateHz)
        print("speed: \(replayer.ticksApplied) ticks in \((seconds * 1000).rounded() / 1000) s: \(Int(ticksPerSecond)) ticks/s, "
              + "\((multiple * 10).rounded() / 10)× real time")
    }

    /// Hosts the recording: every room id plays it from the start for whoever watches.
    static func serveRecording(_ recording: Recording, host: String, port: UInt16) -> Int32 {
        guard let replayer = try? Replayer<Arena>(recording: recording) else { return 2 }
        var config = ServerConfig()
        config.host = host
        config.port = port
        print("watch it at http://\(host.contains(":") ? "[\(host)]" : host):\(port)/?room=replay&watch=1&replay=1 (Ctrl-C stops)")
        fflush(nil)
        // A value copied into each room and never mutated in place: safe to hand to whichever loop makes the room.
        let start = UncheckedValue(replayer)
        return TickwireServer.runUntilSignalled(config: config, rooms: RoomHosting { context in
            ReplayRoom(replayer: start.value, context: context)
        })
    }

    static func dumpWorld(_ recording: Recording, at tick: UInt32) -> Int32 {
        guard var replayer = try? Replayer<Arena>(recording: recording) else { return 2 }
        replayer.seek(to: tick)
        guard replayer.game.tick == tick else {
            printError("tickwire replay: tick \(tick) is not in the recording (last tick \(recording.ticks.last?.tick ?? 0))")
            return 1
        }
        print(WorldDiff.json(tick: tick, stateHash: replayer.game.stateHash(), entities: replayer.game.entityStates(), schema: Arena.schema),
              terminator: "")
        return 0
    }
}

/// Carries a value that is only ever copied (never mutated in place) across threads.
struct UncheckedValue<Value>: @unchecked Sendable {
    let value: Value
    init(_ value: Value) { self.value = value }
}
