import Engine
@testable import Pitch
import XCTest

/// The second game's rules and determinism, without sockets.
final class PitchTests: XCTestCase {
    /// Scripted players chase the ball and kick it at random: the same seed gives the same session.
    private func session(seed: UInt64, players: Int, ticks: Int, every: Int, config: PitchConfig = PitchConfig()) -> [UInt64] {
        var pitch = Pitch(config: config, seed: seed)
        var script = DeterministicRandom(seed: seed ^ 0x5EED)
        var hashes: [UInt64] = []
        for tick in 1...ticks {
            if tick <= players { _ = pitch.join(PlayerID(raw: UInt16(tick)), name: "p\(tick)") }
            let inputs = (1...min(tick, players)).map { number -> (player: PlayerID, input: InputBits) in
                let bits = InputBits(raw: UInt64(script.nextInt(below: 32)))
                return (PlayerID(raw: UInt16(number)), bits)
            }
            pitch.step(inputs: inputs)
            if tick % every == 0 { hashes.append(pitch.stateHash()) }
        }
        return hashes
    }

    func testSameSeedAndInputsGiveTheSameHashesTwice() {
        XCTAssertEqual(session(seed: 7, players: 10, ticks: 1200, every: 100), session(seed: 7, players: 10, ticks: 1200, every: 100))
        XCTAssertNotEqual(session(seed: 7, players: 10, ticks: 300, every: 100), session(seed: 8, players: 10, ticks: 300, every: 100))
    }

    func testHashSequenceMatchesTheGoldenOneCommittedHere() {
        // Changes when the simulation changes: then bump `Pitch.version` (old recordings no longer replay) and update.
        XCTAssertEqual(session(seed: 2026, players: 8, ticks: 600, every: 100).map { String($0, radix: 16) }, PitchTests.golden)
    }

    static let golden = ["a882c61b60819f6", "3969163df08cf00f", "3e8a65ae382b050c", "7449d1fe14b34991", "7acb7ea9781fd89c", "baade63faca66c20"]

    func testPlayersAreSplitIntoTeamsByTurns() {
        var pitch = Pitch(config: PitchConfig(), seed: 1)
        for number in 1...5 { _ = pitch.join(PlayerID(raw: UInt16(number)), name: "p") }
        XCTAssertEqual((1...5).map { pitch.team(of: PlayerID(raw: UInt16($0))) }, [0, 1, 0, 1, 0])
        pitch.leave(PlayerID(raw: 1))
        pitch.leave(PlayerID(raw: 3))
        _ = pitch.join(PlayerID(raw: 9), name: "late")
        XCTAssertEqual(pitch.team(of: PlayerID(raw: 9)), 0, "the team with fewer players")
    }

    func testABallRolledIntoTheRightGoalIsAGoalForRedAndAKickoffFollows() {
        var config = PitchConfig()
        config.kickoffPauseTicks = 30
        var pitch = Pitch(config: config, seed: 1)
        _ = pitch.join(PlayerID(raw: 1), name: "red")
        for _ in 0..<config.kickoffPauseTicks { pitch.step(inputs: []) }
        XCTAssertEqual(pitch.scoreboard.phase, .playing)
        pitch.placeBallForTest(at: FixedVector(x: config.pitchWidth - 40, y: config.pitchHeight / 2), velocity: FixedVector(x: 10, y: .zero))
        for _ in 0..<20 { pitch.step(inputs: []) }
        XCTAssertEqual(pitch.scoreboard.red, 1)
        XCTAssertEqual(pitch.scoreboard.blue, 0)
        XCTAssertEqual(pitch.scoreboard.phase, .kickoff)
        let ball = pitch.entityStates().first { $0.kind == 1 }
        XCTAssertEqual(ball?.fields[0], (config.pitchWidth / 2).raw >> 12, "back on the centre spot")
    }

    func testABallBesideTheGoalBouncesOffTheEndLine() {
        var config = PitchConfig()
        config.kickoffPauseTicks = 1
        var pitch = Pitch(config: config, seed: 1)
        pitch.step(inputs: [])
        pitch.placeBallForTest(at: FixedVector(x: 60, y: 100), velocity: FixedVector(x: -10, y: .zero))
        for _ in 0..<20 { pitch.step(inputs: []) }
        XCTAssertEqual(pitch.scoreboard.blue, 0)
        let ball = pitch.entityStates().first { $0.kind == 1 }!
        XCTAssertGreaterThan(ball.fields[0], 60 << 4, "it came back off the line")
    }

    func testAKickSendsTheBallAwayFromTheKickerAtKickSpeed() throws {
        var config = PitchConfig()
        config.kickoffPauseTicks = 1
        var pitch = Pitch(config: config, seed: 1)
        let player = PlayerID(raw: 1)
        _ = pitch.join(player, name: "kicker")
        pitch.step(inputs: [])
        pitch.placeForTest(player, at: FixedVector(x: 400, y: 500))
        pitch.placeBallForTest(at: FixedVector(x: 440, y: 500))
        pitch.step(inputs: [(player, PitchInput(kick: true).bits)])
        let before = try XCTUnwrap(pitch.entityStates().first { $0.kind == 1 }).fields[0]
        pitch.step(inputs: [])
        let after = try XCTUnwrap(pitch.entityStates().first { $0.kind == 1 }).fields[0]
        XCTAssertGreaterThan(after - before, 13 << 4, "about kickSpeed (15) less the grass, to the right")
    }

    func testTheMatchEndsAtFullTimeThenANewMatchStarts() {
        var config = PitchConfig()
        config.matchTicks = 120
        config.endPauseTicks = 30
        config.kickoffPauseTicks = 10
        var pitch = Pitch(config: config, seed: 1)
        _ = pitch.join(PlayerID(raw: 1), name: "a")
        for _ in 0..<(10 + 120) { pitch.step(inputs: []) }
        XCTAssertEqual(pitch.scoreboard.phase, .fullTime)
        XCTAssertEqual(pitch.scoreboard.match, 1)
        for _ in 0..<30 { pitch.step(inputs: []) }
        XCTAssertEqual(pitch.scoreboard.match, 2)
        XCTAssertEqual(pitch.scoreboard.phase, .kickoff)
        XCTAssertEqual(pitch.scoreboard.ticksLeft, 120)
    }

    func testEntitiesFitTheirSchemaAndTheScoreboardHasNoPosition() {
        var pitch = Pitch(config: PitchConfig(), seed: 3)
        for number in 1...16 { _ = pitch.join(PlayerID(raw: UInt16(number)), name: "p") }
        XCTAssertNil(pitch.join(PlayerID(raw: 99), name: "one too many"))
        for _ in 0..<200 { pitch.step(inputs: (1...16).map { (PlayerID(raw: UInt16($0)), PitchInput(right: true, kick: true).bits) }) }
        for state in pitch.entityStates() {
            let kind = Pitch.schema.kinds.first { $0.number == state.kind }!
            XCTAssertEqual(state.fields.count, kind.fields.count)
            for (index, field) in kind.fields.enumerated() { XCTAssertTrue(field.range.contains(state.fields[index]), "\(field.name)") }
        }
        XCTAssertNil(pitch.position(of: Pitch.matchID))
        XCTAssertNotNil(pitch.position(of: Pitch.ballID))
    }

    func testStateRoundTripsAndTheRestoredWorldContinuesIdentically() throws {
        var pitch = Pitch(config: PitchConfig(), seed: 11)
        for number in 1...6 { _ = pitch.join(PlayerID(raw: UInt16(number)), name: "p\(number)") }
        var script = DeterministicRandom(seed: 4)
        func inputs() -> [(player: PlayerID, input: InputBits)] {
            (1...6).map { (PlayerID(raw: UInt16($0)), InputBits(raw: UInt64(script.nextInt(below: 32)))) }
        }
        for _ in 0..<400 { pitch.step(inputs: inputs()) }
        var restored = try XCTUnwrap(Pitch.restore(state: pitch.encodeState(), config: pitch.config))
        XCTAssertEqual(restored.stateHash(), pitch.stateHash())
        for _ in 0..<300 {
            let step = inputs()
            pitch.step(inputs: step)
            restored.step(inputs: step)
        }
        XCTAssertEqual(restored.stateHash(), pitch.stateHash())
    }

    func testHostileStateAndSettingsAreRefused() {
        let pitch = Pitch(config: PitchConfig(), seed: 1)
        var bytes = pitch.encodeState()
        XCTAssertNil(Pitch.restore(state: Array(bytes.dropLast()), config: pitch.config))
        bytes[0] ^= 1
        XCTAssertNil(Pitch.restore(state: bytes, config: pitch.config))
        var smaller = pitch.config
        smaller.pitchWidth = 300
        XCTAssertNil(Pitch.restore(state: pitch.encodeState(), config: smaller), "the ball would be off the pitch")
        XCTAssertEqual(Pitch.decodeConfig(Pitch.encodeConfig(PitchConfig())), PitchConfig())
        var noGoal = PitchConfig()
        noGoal.goalWidth = 5
        XCTAssertNil(Pitch.decodeConfig(Pitch.encodeConfig(noGoal)), "a goal narrower than the ball")
        var crowded = PitchConfig()
        crowded.playersMax = 64
        crowded.pitchHeight = 400
        XCTAssertNil(Pitch.decodeConfig(Pitch.encodeConfig(crowded)), "a kickoff line that does not fit")
        var zeroBall = PitchConfig()
        zeroBall.ballRadius = 0
        XCTAssertNil(Pitch.decodeConfig(Pitch.encodeConfig(zeroBall)))
        XCTAssertNil(Pitch.decodeConfig([0, 1]))
    }
}
