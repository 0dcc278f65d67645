import Bridge
import Foundation
import Logging

/// What `router run pipelines/personaplex.yaml` does without a `DISCORD_TOKEN`: the real bot and the real pipeline
/// against the built-in Discord simulator and the built-in PersonaPlex stand-in (`SimulatedWorld`). A simulated
/// user joins the voice channel, the bot joins and greets, the user speaks and hears the echo, the captions appear
/// in the simulated text chat, the user leaves, and the session's summary closes the run.
public enum BridgeDemo {
    /// What the scripted user does.
    public struct Script: Sendable {
        /// The 48 kHz WAV the user says.
        public var speech = "samples/speech-like.wav"
        /// Seconds the user speaks (the WAV's length or less) and listens before (the greeting plays while the
        /// model warms up) and after (the echo).
        public var speechSeconds = 4.0
        public var listenBefore = 2.0
        public var listenAfter = 4.0
        /// Where the recordings and the bot's settings database go.
        public var outputDirectory = "out/demo"

        public init() {}
    }

    /// What the demo observed, for the closing lines and for tests.
    public struct Report: Sendable {
        /// What the user heard while the model warmed up, and afterwards.
        public var greetingWAV: String
        public var replyWAV: String
        public var framesSent = 0
        public var framesHeard = 0
        public var chat: [String] = []
        public var summaries: [SessionSummary] = []
        public var exitCode: Int32 = 0
    }

    /// Runs the demo; `say` receives the narration lines (standard output in the CLI).
    public static func run(
        pipeline: BridgePipeline, script: Script = Script(), environment: [String: String] = [:],
        logHandler: @escaping @Sendable (String) -> any LogHandler = { StreamLogHandler.standardError(label: $0) },
        say: @escaping @Sendable (String) -> Void
    ) async throws -> Report {
        let started = ContinuousClock.now
        let narrate: @Sendable (String) -> Void = { line in
            let elapsed = started.duration(to: .now)
            let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
            say(String(format: "[%5.1f s] ", seconds) + line)
        }
        try FileManager.default.createDirectory(atPath: script.outputDirectory, withIntermediateDirectories: true)
        let world = try await SimulatedWorld()
        do {
            let report = try await play(script, pipeline, world, environment, logHandler, narrate, say)
            await world.shutdown()
            return report
        } catch {
            await world.shutdown()
            throw error
        }
    }

    private static func play(
        _ script: Script, _ pipeline: BridgePipeline, _ world: SimulatedWorld, _ environment: [String: String],
        _ logHandler: @escaping @Sendable (String) -> any LogHandler, _ narrate: @escaping @Sendable (String) -> Void,
        _ say: @escaping @Sendable (String) -> Void
    ) async throws -> Report {
        narrate(
            "simulated Discord on 127.0.0.1:\(world.simulator.port) (gateway :\(world.simulator.gatewayPort)); "
                + "PersonaPlex stand-in at \(world.personaPlexURL)")
        try await world.startBot(
            pipeline: pipeline, environment: environment, dataDirectory: script.outputDirectory + "/data",
            logHandler: logHandler, report: { say("bot: " + $0) })
        narrate("the bot is connected to the simulated gateway and registered its commands")
        let chat = Task { await relayChat(world, narrate) }
        defer { chat.cancel() }

        narrate("alice joins the voice channel")
        let alice = try await world.humanJoins("alice")
        narrate(
            "the bot joined her (DAVE end-to-end encryption on); alice listens \(script.listenBefore) s, says "
                + "\(script.speech), listens \(script.listenAfter) s")
        var report = Report(
            greetingWAV: script.outputDirectory + "/alice-heard-greeting.wav",
            replyWAV: script.outputDirectory + "/alice-heard-reply.wav")
        let botID = world.simulator.botUserID
        let greeting = try await alice.run(
            seconds: script.listenBefore, speak: nil, listenTo: botID, record: report.greetingWAV)
        let reply = try await alice.run(
            seconds: script.speechSeconds + script.listenAfter, speak: script.speech, listenTo: botID,
            record: report.replyWAV)
        report.framesSent = reply.framesSent
        report.framesHeard = greeting.framesHeard + reply.framesHeard
        narrate("alice sent \(reply.framesSent) frames and heard \(report.framesHeard) from the bot; she leaves")
        await world.humanLeaves(alice)

        _ = await SimulatedWorld.waitFor(seconds: 10) { !world.summaries.isEmpty }
        _ = await SimulatedWorld.waitFor(seconds: 5) { world.botVoiceChannel == nil }
        narrate(world.botVoiceChannel == nil ? "the bot left the voice channel" : "the bot is still in voice")
        report.exitCode = await world.stopBot()
        try? await Task.sleep(for: .milliseconds(200))  // the last chat lines
        report.summaries = world.summaries
        report.chat = world.chat
        for summary in report.summaries { say("\n" + summary.description) }
        say("\nrecorded: \(report.greetingWAV) (while the model warmed up), \(report.replyWAV) (the reply)")
        return report
    }

    /// Prints the simulated text chat as messages arrive.
    private static func relayChat(_ world: SimulatedWorld, _ narrate: @Sendable (String) -> Void) async {
        var shown = 0
        while !Task.isCancelled {
            let messages = world.chat
            for message in messages.dropFirst(shown) { narrate("chat: \(message)") }
            shown = messages.count
            try? await Task.sleep(for: .milliseconds(50))
        }
    }
}

/// Why the demo (or a simulated world) could not go on.
public struct DemoError: Error, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}
