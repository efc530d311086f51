// swift-tools-version:6.0
// Tickwire: an authoritative multiplayer game state server. No third-party packages, by design.
import PackageDescription

/// Rooms are generic over the game (`RoomCore<G: Game>`) and the game is chosen in the executable: full cross-module
/// optimisation lets the compiler specialise the tick and the encoder for it instead of running generic code.
let crossModuleOptimized: [SwiftSetting] = [.unsafeFlags(["-cross-module-optimization"], .when(configuration: .release))]

/// The simulation, the wire codec, the server (its rooms) and the bots also skip Swift's run-time exclusivity checks
/// in release builds: a class's arrays changed in place (the room's clients, a snapshot's pieces and views) paid a
/// check per access, 11% of the instructions of a room tick (`tickwire-bench rooms` under callgrind) and 6-9% of the
/// server's CPU at 800 players in rooms of 10 (docs/performance.md, sitting E). Debug builds, where every test runs,
/// keep the checks, so a conflicting access still traps there. The network-facing modules (WebSocket, Reactor) keep
/// them everywhere: they cost the server about 1% of its samples.
let hotPathOptimized: [SwiftSetting] = [
    .unsafeFlags(["-cross-module-optimization", "-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "Tickwire",
    products: [
        .executable(name: "tickwire", targets: ["tickwire"]),
        .library(name: "WebSocket", targets: ["WebSocket"]),
        .library(name: "Reactor", targets: ["Reactor"]),
    ],
    targets: [
        // epoll, timerfd, eventfd and signalfd, which Glibc does not expose: a header-only module of this package.
        .systemLibrary(name: "CEpoll", path: "Sources/CEpoll"),
        // `--name value` / `--name=value` command lines, shared by `tickwire serve` and `tickwire bots`.
        .target(name: "CommandLineFlags", path: "Sources/CommandLineFlags"),
        // RFC 6455 as pure state machines over bytes; no sockets.
        .target(name: "WebSocket", path: "Sources/WebSocket", swiftSettings: crossModuleOptimized),
        // epoll event loops, connections, write queues, timers, and WebSocket channels over them.
        .target(name: "Reactor", dependencies: ["CEpoll", "WebSocket"], path: "Sources/Reactor", swiftSettings: crossModuleOptimized),
        // HTTP routes, the echo and benchmark endpoints, configuration, logging, shutdown.
        .target(name: "Server", dependencies: ["Reactor", "WebSocket", "CEpoll", "Wire", "Engine", "CommandLineFlags", "Replay"], path: "Sources/Server",
                resources: [.copy("Static")], swiftSettings: hotPathOptimized),
        .executableTarget(name: "tickwire", dependencies: ["Server", "Bots", "Arena", "Engine", "Replay", "Wire"], path: "Sources/tickwire"),
        // Recordings: the file format (chunked, checksummed), the writer thread, the reader, re-simulation and verification.
        .target(name: "Replay", dependencies: ["Wire", "Engine"], path: "Sources/Replay"),
        // The bot swarm: many headless players on the Reactor's client side, with statistics and reports.
        .target(name: "Bots", dependencies: ["Reactor", "WebSocket", "Wire", "Engine", "Arena", "CommandLineFlags"], path: "Sources/Bots",
                swiftSettings: hotPathOptimized),
        // In-process benchmarks that print figures: wire efficiency and tick cost.
        .executableTarget(name: "tickwire-bench", dependencies: ["Server", "Arena", "Engine", "Wire", "Reactor", "Replay"],
                          path: "Sources/TickwireBench"),
        // The game's binary protocol: bit streams with one serialize function per message, shared by server,
        // bots and replay.
        .target(name: "Wire", dependencies: ["Engine"], path: "Sources/Wire", swiftSettings: hotPathOptimized),
        // The deterministic game API: fixed-point math, seeded random numbers, entity storage, a spatial grid,
        // state hashing. Pure Swift, standard library only: no I/O, no clocks, no threads.
        .target(name: "Engine", path: "Simulation/Engine", swiftSettings: hotPathOptimized),
        // The demo game, built only on Engine.
        .target(name: "Arena", dependencies: ["Engine"], path: "Simulation/Arena", swiftSettings: hotPathOptimized),
        // The second game, a team ball game, built only on Engine.
        .target(name: "Pitch", dependencies: ["Engine"], path: "Simulation/Pitch", swiftSettings: hotPathOptimized),
        .testTarget(name: "WebSocketTests", dependencies: ["WebSocket"], path: "Tests/WebSocketTests"),
        .testTarget(name: "ReactorTests", dependencies: ["Reactor", "WebSocket", "CEpoll"], path: "Tests/ReactorTests"),
        .testTarget(name: "BotsTests", dependencies: ["Bots", "Server", "Reactor", "Wire", "Engine", "Arena"], path: "Tests/BotsTests"),
        .testTarget(name: "ReplayTests", dependencies: ["Replay", "Arena", "Engine", "Wire", "Server", "Bots"], path: "Tests/ReplayTests"),
        .testTarget(name: "WireTests", dependencies: ["Wire", "Engine", "Arena"], path: "Tests/WireTests"),
        .testTarget(name: "EngineTests", dependencies: ["Engine"], path: "Tests/EngineTests"),
        .testTarget(name: "PitchTests", dependencies: ["Pitch", "Engine"], path: "Tests/PitchTests"),
        .testTarget(name: "ArenaTests", dependencies: ["Arena", "Engine", "Wire"], path: "Tests/ArenaTests"),
        .testTarget(name: "ServerTests", dependencies: ["Server", "Reactor", "WebSocket", "Wire", "Engine", "Arena", "Replay"], path: "Tests/ServerTests"),
    ],
    swiftLanguageModes: [.v6]
)
