import Bridge
import Demo
import DiscordSimulator
import Foundation
import PersonaPlexStandIn
import XCTest

/// The bot running the shipped pipeline against the simulator and the PersonaPlex stand-in: speakers, network
/// faults and the ways a session ends. Real time on loopback; bounds hold on a loaded 2-core machine.
final class BridgeSessionTests: XCTestCase {
    func testTwoSpeakersAtOnceAreBothDecodedAndMixed() async throws {
        let (world, directory) = try await makeWorld()
        defer { Task { await world.shutdown() } }
        let alice = try await world.humanJoins("alice")
        let bob = try await world.humanJoins("bob")
        let botID = world.simulator.botUserID
        async let heardByAlice = alice.run(
            seconds: 6, speak: Repo.speech, listenTo: botID, record: directory + "/alice.wav")
        async let heardByBob = bob.run(seconds: 6, speak: Repo.speech, listenTo: botID, record: nil)
        let (a, b) = try await (heardByAlice, heardByBob)
        XCTAssertEqual(a.framesSent + b.framesSent, 400)
        XCTAssertGreaterThan(a.framesHeard, 150)
        await world.humanLeaves(alice)
        await world.humanLeaves(bob)
        let ended = await SimulatedWorld.waitFor(seconds: 10) { !world.summaries.isEmpty }
        XCTAssertTrue(ended)
        let speakers = try XCTUnwrap(world.summaries.first?.speakers)
        XCTAssertEqual(Set(speakers.map(\.userID)), [alice.userID, bob.userID])
        for speaker in speakers { XCTAssertGreaterThan(speaker.decoded, 150, speaker.summary) }
        // Both streams went through the mixer into one uplink: the stand-in heard about 4 s (not 8).
        let captioned = await world.waitForChat("I heard you speak for")
        XCTAssertNotNil(captioned)
    }

    func testLossReorderDuplicationAndJitterAreConcealed() async throws {
        var faults = SimulatedVoiceOptions.discordLike
        faults.lossRate = 0.10
        faults.reorderRate = 0.05
        faults.duplicateRate = 0.02
        faults.jitterMilliseconds = 20
        let (world, directory) = try await makeWorld(voiceOptions: faults)
        defer { Task { await world.shutdown() } }
        let alice = try await world.humanJoins("alice")
        let heard = try await alice.run(
            seconds: 7, speak: Repo.speech, listenTo: world.simulator.botUserID, record: directory + "/a.wav")
        XCTAssertGreaterThan(heard.framesHeard, 150, "the reply still reaches her through the same faults")
        await world.humanLeaves(alice)
        _ = await SimulatedWorld.waitFor(seconds: 10) { !world.summaries.isEmpty }
        let speaker = try XCTUnwrap(world.summaries.first?.speakers.first)
        XCTAssertGreaterThan(speaker.concealed, 5, speaker.summary)
        XCTAssertGreaterThan(speaker.frames, 180, "continuous audio while she spoke: \(speaker.summary)")
    }

    func testGarbageAndUnknownSSRCsAreCountedAndIgnored() async throws {
        var faults = SimulatedVoiceOptions.discordLike
        faults.garbageRate = 0.05
        faults.unknownSSRCRate = 0.05
        let (world, _) = try await makeWorld(voiceOptions: faults)
        defer { Task { await world.shutdown() } }
        let alice = try await world.humanJoins("alice")
        let heard = try await alice.run(
            seconds: 5, speak: Repo.speech, listenTo: world.simulator.botUserID, record: nil)
        XCTAssertGreaterThan(heard.framesHeard, 100)
        await world.humanLeaves(alice)
        _ = await SimulatedWorld.waitFor(seconds: 10) { !world.summaries.isEmpty }
        let voice = try XCTUnwrap(world.summaries.first?.voice)
        XCTAssertGreaterThan(voice.receive.unknownSSRC + voice.receive.notRTP + voice.receive.decryptFailed, 0)
        XCTAssertGreaterThan(voice.receive.audio, 150)
    }

    func testPersonaPlexDyingEndsTheSessionWithinTwoSecondsAndTheNextJoinWorks() async throws {
        let standIn = try await PersonaPlexStandIn.start()
        let port = standIn.port
        let (world, _) = try await makeWorld(personaPlexURL: standIn.url)
        defer { Task { await world.shutdown() } }
        let alice = try await world.humanJoins("alice")
        let live = await world.waitForChat("I repeat what you say")
        XCTAssertNotNil(live, "the link is live")
        let killed = ContinuousClock.now
        await standIn.stop()
        let toldAt = await world.waitForChat("the AI server ended the conversation", seconds: 10)
        let told = try XCTUnwrap(toldAt)
        let left = await SimulatedWorld.waitFor(seconds: 10) { world.botVoiceChannel == nil }
        XCTAssertTrue(left, "the bot left voice: \(world.chat)")
        XCTAssertLessThan(killed.duration(to: told), .seconds(2), "users are told within 2 s")
        print("PersonaPlex killed → users told in \(killed.duration(to: told))")

        let restarted = try await PersonaPlexStandIn.start(port: port)
        defer { Task { await restarted.stop() } }
        await world.humanLeaves(alice)
        let again = try await world.humanJoins("alice-again")
        let heard = try await again.run(
            seconds: 5, speak: Repo.speech, listenTo: world.simulator.botUserID, record: nil)
        XCTAssertGreaterThan(heard.framesHeard, 100, "the next session bridges again")
        XCTAssertEqual(world.chat.filter { $0.contains("Voice session started") }.count, 2)
    }

    func testVoiceClose4015ResumesAnd4006RejoinsWithoutEndingTheSession() async throws {
        let (world, _) = try await makeWorld()
        defer { Task { await world.shutdown() } }
        let alice = try await world.humanJoins("alice")
        let server = try XCTUnwrap(world.voice.server(alice.channelID))
        let botID = world.simulator.botUserID
        async let speaking = alice.run(seconds: 8, speak: Repo.speech, listenTo: botID, record: nil)
        try await Task.sleep(for: .seconds(2))
        await server.close(userID: botID, code: 4015)
        try await Task.sleep(for: .seconds(2))
        await server.close(userID: botID, code: 4006)
        let heard = try await speaking
        XCTAssertGreaterThan(heard.framesHeard, 150, "audio kept flowing around the resume and the rejoin")
        XCTAssertTrue(world.summaries.isEmpty, "the session survived both")
        await world.humanLeaves(alice)
        _ = await SimulatedWorld.waitFor(seconds: 10) { !world.summaries.isEmpty }
        let voice = try XCTUnwrap(world.summaries.first?.voice)
        XCTAssertGreaterThanOrEqual(voice.resumes, 1)
        XCTAssertGreaterThanOrEqual(voice.rejoins, 1)
    }

    func testShutdownEndsEverySessionAndTellsTheUsers() async throws {
        let (world, _) = try await makeWorld()
        defer { Task { await world.shutdown() } }
        _ = try await world.humanJoins("alice")
        let started = await world.waitForChat("Voice session started")
        XCTAssertNotNil(started)
        let code = await world.stopBot()
        XCTAssertEqual(code, 0)
        XCTAssertTrue(world.chat.contains { $0.contains("the bot is shutting down") }, "\(world.chat)")
        XCTAssertEqual(world.summaries.count, 1, "the graph drained and stopped")
        let left = await SimulatedWorld.waitFor(seconds: 5) { world.botVoiceChannel == nil }
        XCTAssertTrue(left, "the bot left voice")
    }
}

/// The voice connection's harder ends: a voice server move, and a connection lost for good.
final class BridgeVoiceEndTests: XCTestCase {
    func testAVoiceServerMoveReconnectsAndTheCallGoesOn() async throws {
        let (world, _) = try await makeWorld()
        defer { Task { await world.shutdown() } }
        let alice = try await world.humanJoins("alice")
        let botID = world.simulator.botUserID
        async let speaking = alice.run(seconds: 9, speak: Repo.speech, listenTo: botID, record: nil)
        try await Task.sleep(for: .seconds(1))
        try await world.voice.moveServer(
            world.simulator, guildID: world.guildID, channelID: alice.channelID, bots: [botID],
            humans: [(alice.userID, alice.connection)])
        let regrouped = await SimulatedWorld.waitFor(seconds: 10) {
            guard let snapshot = await world.voice.server(alice.channelID)?.snapshot() else { return false }
            return Set(snapshot.groupMembers).isSuperset(of: [botID, alice.userID])
        }
        XCTAssertTrue(regrouped, "both are in the new server's DAVE group")
        let heard = try await speaking
        XCTAssertGreaterThan(heard.framesHeard, 100)
        XCTAssertTrue(world.summaries.isEmpty, "the session survived the move")
        await world.humanLeaves(alice)
        _ = await SimulatedWorld.waitFor(seconds: 10) { !world.summaries.isEmpty }
        let speaker = try XCTUnwrap(world.summaries.first?.speakers.first)
        XCTAssertGreaterThan(speaker.decoded, 150, "her speech reached the bot on both servers: \(speaker.summary)")
    }

    func testAVoiceConnectionLostForGoodEndsTheSessionWithAMessage() async throws {
        let (world, _) = try await makeWorld()
        defer { Task { await world.shutdown() } }
        let alice = try await world.humanJoins("alice")
        let server = try XCTUnwrap(world.voice.server(alice.channelID))
        let running = await world.waitForChat("Voice session started")
        XCTAssertNotNil(running, "the session is running (not still starting) when its connection dies")
        await server.close(userID: world.simulator.botUserID, code: 4004)  // authentication failed: never retried
        let told = await world.waitForChat("the voice connection was lost", seconds: 10)
        XCTAssertNotNil(told, "\(world.chat)")
        // The bot is told before the summary is logged (it must hear why before the bot leaves voice).
        let summarised = await SimulatedWorld.waitFor(seconds: 10) { world.summaries.count == 1 }
        XCTAssertTrue(summarised)
    }
}
