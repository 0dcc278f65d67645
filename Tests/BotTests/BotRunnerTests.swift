import Discord
import Logging
import Realtime
import Synchronization
import XCTest

@testable import Bot

/// The runner with in-process doubles of the transport and the voice sessions (the end-to-end tests against the
/// Discord simulator are in BotSimulatorTests).
final class BotRunnerTests: XCTestCase {
    typealias F = Fixture

    struct Harness {
        let runner: BotRunner
        let transport: RecordingTransport
        let sessions: RecordingSessions
        let store: SettingsStore
        let task: Task<Void, Never>

        func send(_ events: BotEvent...) async {
            for event in events { runner.inject(event) }
            await runner.idle()
        }

        func stop() async {
            runner.finish()
            await task.value
        }
    }

    func makeHarness(
        directory: String = Fixture.temporaryDirectory(), backends: Int = 1,
        deferAfter: Duration = .seconds(2), logger: Logger = Logger(label: "test")
    )
        async throws -> Harness
    {
        let transport = RecordingTransport()
        let sessions = RecordingSessions()
        let store = try SettingsStore(directory: directory)
        let handler = CommandHandler(
            store: store, catalog: VoiceCatalog(), prefix: "!", sessions: sessions,
            logger: logger)
        let runner = BotRunner(
            transport: transport, sessions: sessions, handler: handler,
            backends: F.backends(backends), statusChannelID: nil, commandGuildID: F.guildA,
            logger: logger, deferAfter: deferAfter)
        let task = Task { await runner.run() }
        let harness = Harness(runner: runner, transport: transport, sessions: sessions, store: store, task: task)
        await harness.send(
            .ready(botUserID: F.botID), .guildAvailable(F.guild(F.guildA, "Server A")),
            .guildAvailable(F.guild(F.guildB, "Server B")),
            .guildAvailable(F.guild(F.guildC, "Server C")))
        return harness
    }

    func testCommandsRegisteredInTheConfiguredGuild() async throws {
        let harness = try await makeHarness()
        await harness.runner.idle()
        XCTAssertTrue(harness.transport.calls.contains(.register(count: BotCommand.names.count, guild: F.guildA)))
        await harness.stop()
    }

    func testCommandsAndSettingsAcrossARestart() async throws {
        let directory = Fixture.temporaryDirectory()
        do {
            let first = try await makeHarness(directory: directory)
            await first.send(
                F.message(F.alice, "!voice natm2"),
                F.slash(F.alice, "persona", ["preset": "teacher"]))
            XCTAssertEqual(first.transport.sent(to: F.textA), ["Saved. Your voice is now **NATM2**."])
            let slash = first.transport.interactionReplies
            XCTAssertEqual(slash.count, 1)
            XCTAssertTrue(slash.first?.ephemeral == true, "replies about one's own settings are ephemeral")
            XCTAssertTrue(slash.first?.content.contains("persona is now **teacher**") == true)
            await first.stop()
        }
        // A new process: new store, new runner, same data directory.
        let second = try await makeHarness(directory: directory)
        await second.send(F.slash(F.alice, "settings"))
        let shown = second.transport.interactionReplies.first?.content ?? ""
        XCTAssertTrue(shown.contains("voice **NATM2**, persona **teacher**"), shown)
        // The session Alice starts uses her settings; Bob, who joins her, does not change them.
        await second.send(F.voice(F.alice, F.guildA, F.voiceA1), F.voice(F.bob, F.guildA, F.voiceA1))
        let request = try XCTUnwrap(second.sessions.started.first)
        XCTAssertEqual(second.sessions.started.count, 1)
        XCTAssertEqual(request.settings.voice, "NATM2.pt")
        XCTAssertEqual(request.settings.persona, "teacher")
        XCTAssertEqual(request.starter, F.alice)
        XCTAssertEqual(request.backend.port, 18_000)
        let started = second.transport.sent(to: F.voiceA1).first ?? ""
        XCTAssertTrue(started.contains("Voice session started in **General** for Alice"), started)
        XCTAssertTrue(started.contains("voice **NATM2**, persona **teacher**"), started)
        await second.stop()
    }

    func testAutoJoinAndLeaveAcrossTwoGuilds() async throws {
        let harness = try await makeHarness(backends: 2)
        await harness.send(F.voice(F.alice, F.guildA, F.voiceA1), F.voice(F.bob, F.guildB, F.voiceB1))
        XCTAssertEqual(Set(harness.sessions.running.map(\.guildID)), [F.guildA, F.guildB])
        XCTAssertEqual(Set(harness.sessions.running.map(\.backendIndex)), [0, 1])
        await harness.send(F.voice(F.alice, F.guildA, nil))
        XCTAssertEqual(harness.sessions.running.map(\.guildID), [F.guildB])
        XCTAssertTrue(harness.transport.sent(to: F.voiceA1).last?.contains("ended after") == true)
        await harness.send(F.voice(F.bob, F.guildB, nil))
        XCTAssertTrue(harness.sessions.running.isEmpty)
        XCTAssertEqual(harness.sessions.stopped.count, 2)
        await harness.stop()
    }

    func testQueueAndBusyMessageWithTwoBackendsAndThreeChannels() async throws {
        let harness = try await makeHarness(backends: 2)
        await harness.send(
            F.voice(F.alice, F.guildA, F.voiceA1), F.voice(F.bob, F.guildB, F.voiceB1),
            F.voice(F.carol, F.guildC, F.voiceC1))
        XCTAssertEqual(harness.sessions.running.count, 2)
        let busy = harness.transport.sent(to: F.voiceC1)
        XCTAssertEqual(busy.count, 1)
        XCTAssertTrue(busy.first?.contains("Sorry Carol, I'm busy") == true, busy.first ?? "")
        XCTAssertTrue(busy.first?.contains("number 1 in the queue") == true)

        await harness.send(F.voice(F.bob, F.guildB, nil))
        let running = harness.sessions.running
        XCTAssertEqual(Set(running.map(\.guildID)), [F.guildA, F.guildC])
        XCTAssertEqual(running.first { $0.guildID == F.guildC }?.backendIndex, 1, "Carol gets the backend Bob freed")
        let carol = harness.transport.sent(to: F.voiceC1)
        XCTAssertTrue(carol.contains { $0.contains("I'm coming to **Studio** for Carol") }, "\(carol)")
        XCTAssertTrue(carol.last?.contains("Voice session started in **Studio** for Carol") == true, "\(carol)")
        await harness.stop()
    }

    func testFinishingStopsRunningSessions() async throws {
        let harness = try await makeHarness(backends: 2)
        await harness.send(F.voice(F.alice, F.guildA, F.voiceA1), F.voice(F.bob, F.guildB, F.voiceB1))
        let ids = Set(harness.sessions.running.map(\.id))
        XCTAssertEqual(ids.count, 2)
        await harness.stop()
        XCTAssertEqual(Set(harness.sessions.stopped), ids)
    }

    func testAIServerUnreachableIsSaidInWords() async throws {
        let harness = try await makeHarness()
        harness.sessions.failures.withLock { $0[0] = .backendUnreachable(detail: "127.0.0.1:18000: refused") }
        await harness.send(F.voice(F.alice, F.guildA, F.voiceA1))
        let text = harness.transport.sent(to: F.voiceA1).first ?? ""
        XCTAssertTrue(text.contains("I couldn't start a voice session for Alice: the AI server is unreachable"), text)
        // The backend is free again: the next arrival tries anew.
        harness.sessions.failures.withLock { $0 = [:] }
        await harness.send(F.voice(F.bob, F.guildB, F.voiceB1))
        XCTAssertEqual(harness.sessions.running.map(\.guildID), [F.guildB])
        await harness.stop()
    }

    func testSessionEndingByItselfIsReported() async throws {
        let harness = try await makeHarness()
        await harness.send(F.voice(F.alice, F.guildA, F.voiceA1))
        await harness.sessions.endByItself(guild: F.guildA, problem: .backendBusy)
        await harness.runner.idle()
        let text = harness.transport.sent(to: F.voiceA1).last ?? ""
        XCTAssertTrue(text.contains("the AI server is busy with another client"), text)
        await harness.stop()
    }

    func answerCalls(_ transport: RecordingTransport) -> [RecordingTransport.Call] {
        transport.calls.filter {
            switch $0 {
            case .deferResponse, .followUp, .respond: return true
            default: return false
            }
        }
    }

    func testSlowCommandIsDeferredThenFollowedUp() async throws {
        let harness = try await makeHarness(deferAfter: .milliseconds(20))
        harness.sessions.privacyDelay.withLock { $0 = .seconds(1) }
        await harness.send(F.slash(F.alice, "privacy", id: 7100))
        let calls = answerCalls(harness.transport)
        XCTAssertEqual(calls.count, 2, "\(calls)")
        XCTAssertEqual(calls.first, .deferResponse(interaction: Snowflake(7100), ephemeral: true))
        guard case let .followUp(id, content, ephemeral) = calls.last else { return XCTFail("\(calls)") }
        XCTAssertEqual(id, Snowflake(7100))
        XCTAssertTrue(content.contains("no privacy code") && ephemeral, content)
        await harness.stop()
    }

    func testQuickCommandIsAnsweredDirectly() async throws {
        let harness = try await makeHarness(deferAfter: .seconds(30))
        await harness.send(F.slash(F.alice, "voice", ["name": "VARF2"], id: 7200))
        let calls = answerCalls(harness.transport)
        XCTAssertEqual(calls.count, 1, "\(calls)")
        guard case let .respond(id, content, ephemeral) = calls.first else { return XCTFail("\(calls)") }
        XCTAssertEqual(id, Snowflake(7200))
        XCTAssertTrue(content.contains("VARF2") && ephemeral, content)
        await harness.stop()
    }

    func testAISentenceWithMentionsIsPostedDefused() async throws {
        let transport = RecordingTransport()
        let clock = ManualClock()
        let sink = AIChatSink(
            transport: transport, channelID: F.voiceA1,
            batcher: SentenceBatcher(minimumInterval: 0), clock: clock, logger: Logger(label: "t"))
        await sink.post("Hello @everyone, and <@101> too!")
        let posted = transport.sent(to: F.voiceA1)
        XCTAssertEqual(posted.count, 1)
        XCTAssertFalse(posted[0].contains("@everyone"), posted[0])
        XCTAssertFalse(posted[0].contains("<@101>"), posted[0])
        XCTAssertTrue(posted[0].contains("everyone"))
    }

    func testCanaryTokenAbsentFromEveryLogLineAcrossSessionsAndFaults() async throws {
        let captured = CapturedLog()
        let configuration = try BotConfiguration.parse(["DISCORD_TOKEN": F.canaryToken, "LOG_LEVEL": "trace"])
        let logger = BotService.logger(configuration: configuration) { label in captured.handler(label: label) }
        let harness = try await makeHarness(backends: 1, logger: logger)
        // A library error that quotes the token (the worst case) must still come out redacted.
        harness.transport.sendFailure.withLock {
            $0 = RecordingTransport.Failure(description: "HTTP 401 for Authorization: Bot \(F.canaryToken)")
        }
        harness.sessions.failures.withLock { $0[0] = .backendUnreachable(detail: "refused") }
        await harness.send(F.voice(F.alice, F.guildA, F.voiceA1), F.message(F.alice, "!help"))
        harness.sessions.failures.withLock { $0 = [:] }
        harness.transport.sendFailure.withLock { $0 = nil }
        await harness.send(
            F.voice(F.bob, F.guildB, F.voiceB1), F.voice(F.carol, F.guildC, F.voiceC1),
            F.slash(F.bob, "prompt", ["text": F.canaryToken]), F.voice(F.bob, F.guildB, nil))
        await harness.stop()
        let text = captured.text
        XCTAssertFalse(text.isEmpty)
        XCTAssertTrue(text.contains("[redacted]"), "the quoted token was replaced")
        XCTAssertFalse(text.contains(F.canaryToken), "the token leaked into the log")
        XCTAssertFalse(text.contains("CANARY"), "part of the token leaked into the log")
        XCTAssertTrue(text.contains("guild="), "structured metadata present: \(text.prefix(300))")
    }
}

/// Collects every log line the bot writes, in text form.
final class CapturedLog: Sendable {
    private let lines = Mutex<[String]>([])
    var text: String { lines.withLock { $0.joined(separator: "\n") } }

    func handler(label: String) -> any LogHandler { Handler(log: self, label: label) }

    struct Handler: LogHandler {
        let log: CapturedLog
        let label: String
        var logLevel: Logger.Level = .trace
        var metadata: Logger.Metadata = [:]
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) {
            let all = self.metadata.merging(event.metadata ?? [:]) { $1 }
            let rendered = all.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
            let error = event.error.map { " error=\($0)" } ?? ""
            let entry = "\(event.level) \(label): \(event.message) \(rendered)\(error)"
            self.log.lines.withLock { $0.append(entry) }
        }
    }
}
