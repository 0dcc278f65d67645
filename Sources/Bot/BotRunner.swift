import Discord
import Foundation
import Logging
import PersonaPlex
import Realtime
import Synchronization

/// Runs the bot: applies inputs to `BotState` one at a time and carries out its effects concurrently — status posts
/// in order through one outbox, command answers and session starts as child tasks, whose outcomes come back as
/// inputs. Nothing here decides anything; `BotState` does.
public final class BotRunner: Sendable {
    public let transport: any BotTransport
    public let sessions: any VoiceSessionService
    public let handler: CommandHandler
    public let backends: [PersonaPlexEndpoint]
    public let commandGuildID: Snowflake?
    private let logger: Logger
    private let initialState: BotState
    private let tracker = WorkTracker()
    private let inputs: AsyncStream<BotInput>
    private let inputContinuation: AsyncStream<BotInput>.Continuation
    private let outbox: AsyncStream<(Snowflake, String)>
    private let outboxContinuation: AsyncStream<(Snowflake, String)>.Continuation
    /// How long a slash command may take before it is answered with "thinking…" (Discord's limit is 3 s).
    let deferAfter: Duration

    public init(
        transport: any BotTransport, sessions: any VoiceSessionService, handler: CommandHandler,
        backends: [PersonaPlexEndpoint], statusChannelID: Snowflake?, commandGuildID: Snowflake?,
        logger: Logger, clock: any MonotonicClock = SystemClock.shared, deferAfter: Duration = .seconds(2)
    ) {
        self.transport = transport
        self.sessions = sessions
        self.handler = handler
        self.backends = backends
        self.commandGuildID = commandGuildID
        self.logger = logger
        self.deferAfter = deferAfter
        initialState = BotState(
            prefix: handler.prefix, statusChannelID: statusChannelID, backendCount: backends.count,
            clock: clock)
        (inputs, inputContinuation) = AsyncStream.makeStream(of: BotInput.self)
        (outbox, outboxContinuation) = AsyncStream.makeStream(of: (Snowflake, String).self)
    }

    /// Hands the bot one event (the transport adapter calls this for each gateway event it maps).
    public func inject(_ event: BotEvent) { submit(.event(event)) }

    /// Returns once every injected event has been handled and every resulting message has been sent.
    public func idle() async { await tracker.waitUntilIdle() }

    /// Stops the run: no more inputs are taken; running sessions are stopped before `run` returns.
    public func finish() { inputContinuation.finish() }

    private func submit(_ input: BotInput) {
        tracker.begin()
        if case .terminated = inputContinuation.yield(input) { tracker.end() }
    }

    /// Registers the slash commands, then handles inputs (given with `inject`) until `finish()`.
    public func run() async { await run(feeding: nil) }

    /// Registers the slash commands, then handles `events` until they end (or until `finish()`).
    public func run<Events: AsyncSequence & Sendable>(events: Events) async where Events.Element == BotEvent {
        await run(feeding: {
            do {
                for try await event in events { self.inject(event) }
            } catch {
                self.logger.error("the event stream failed", metadata: ["error": "\(error)"])
            }
            self.finish()
        })
    }

    private func run(feeding: (@Sendable () async -> Void)?) async {
        var state = initialState
        await withDiscardingTaskGroup { group in
            group.addTask { await self.registerCommands() }
            group.addTask { await self.drainOutbox() }
            if let feeding { group.addTask { await feeding() } }
            for await input in inputs {
                for effect in state.apply(input) { execute(effect, in: &group) }
                tracker.end()
            }
            for id in state.sessions.values.map(\.id) {
                group.addTask { await self.sessions.stop(id) }
            }
            outboxContinuation.finish()
        }
    }

    private func registerCommands() async {
        let commands = BotCommand.slashCommands()
        do {
            try await transport.registerCommands(commands, guildID: commandGuildID)
            logger.info(
                "slash commands registered",
                metadata: [
                    "count": "\(commands.count)", "scope": "\(commandGuildID.map { "guild \($0)" } ?? "global")",
                ])
        } catch {
            logger.error(
                "registering slash commands failed (prefix commands still work)",
                metadata: ["error": "\(error)"])
        }
    }

    private func drainOutbox() async {
        for await (channel, text) in outbox {
            do {
                try await transport.send(text, to: channel)
            } catch {
                logger.warning("posting a message failed", metadata: ["channel": "\(channel)", "error": "\(error)"])
            }
            tracker.end()
        }
    }

    private func post(_ text: String, to channel: Snowflake) {
        tracker.begin()
        if case .terminated = outboxContinuation.yield((channel, text)) { tracker.end() }
    }

    /// Runs `work` as a tracked child task.
    private func spawn(in group: inout DiscardingTaskGroup, _ work: @escaping @Sendable () async -> Void) {
        tracker.begin()
        group.addTask {
            await work()
            self.tracker.end()
        }
    }

    private func execute(_ effect: BotEffect, in group: inout DiscardingTaskGroup) {
        switch effect {
        case let .post(channel, text):
            post(text, to: channel)
        case let .reply(.channel(channel), text, _):
            post(text, to: channel)
        case let .reply(.interaction(handle), text, ephemeral):
            spawn(in: &group) { await self.answer(handle, ephemeral: ephemeral) { text } }
        case let .runCommand(command, context):
            spawn(in: &group) { await self.runCommand(command, context) }
        case let .startSession(plan):
            spawn(in: &group) { await self.start(plan) }
        case let .stopSession(id):
            logger.info("stopping session", metadata: ["session": "\(id)"])
            spawn(in: &group) { await self.sessions.stop(id) }
        case let .leaveVoice(guild):
            spawn(in: &group) {
                do {
                    try await self.transport.voiceControl.updateVoiceState(
                        guildID: guild, channelID: nil,
                        selfMute: false, selfDeaf: false)
                } catch {
                    self.logger.warning("leaving voice failed", metadata: ["guild": "\(guild)", "error": "\(error)"])
                }
            }
        }
    }

    private func runCommand(_ command: BotCommand, _ context: CommandContext) async {
        logger.debug(
            "command",
            metadata: [
                "command": "\(Self.name(of: command))", "guild": "\(context.guildID.map(\.description) ?? "none")",
                "channel": "\(context.channelID.map(\.description) ?? "none")", "user": "\(context.user.id)",
            ])
        switch context.target {
        case let .channel(channel):
            if let text = await handler.run(command, context) { post(text, to: channel) }
        case let .interaction(handle):
            await answer(handle, ephemeral: true) {
                await self.handler.run(command, context) ?? "I don't know that command; try /help."
            }
        }
    }

    /// A command's name for the log (never its argument: prompts are the users' own words).
    static func name(of command: BotCommand) -> String {
        switch command {
        case .prompt: return "prompt"
        case .voice: return "voice"
        case .voiceList: return "voice-list"
        case .persona: return "persona"
        case .settings: return "settings"
        case .reset: return "reset"
        case .help: return "help"
        case .join: return "join"
        case .leave: return "leave"
        case .privacy: return "privacy"
        case .unknown: return "unknown"
        }
    }

    /// Answers an interaction with what `work` returns; if that takes longer than `deferAfter`, the interaction
    /// is first answered with "thinking…" (within Discord's 3 s) and the text follows as a follow-up.
    private func answer(
        _ handle: InteractionHandle, ephemeral: Bool,
        _ work: @escaping @Sendable () async -> String
    ) async {
        let deferral = Deferral()
        let (text, deferred) = await withTaskGroup(of: Bool.self, returning: (String, Bool).self) { group in
            group.addTask {
                try? await Task.sleep(for: self.deferAfter)
                guard deferral.begin() else { return false }
                do {
                    try await self.transport.deferResponse(to: handle, ephemeral: ephemeral)
                } catch {
                    self.logger.warning(
                        "deferring an interaction failed",
                        metadata: ["interaction": "\(handle.id)", "error": "\(error)"])
                }
                return true
            }
            let text = await work()
            if !deferral.finish() { group.cancelAll() }
            return (text, await group.next() ?? false)
        }
        do {
            if deferred {
                try await transport.followUp(to: handle, with: text, ephemeral: ephemeral)
            } else {
                try await transport.respond(to: handle, with: text, ephemeral: ephemeral)
            }
        } catch {
            logger.warning(
                "answering an interaction failed",
                metadata: [
                    "interaction": "\(handle.id)",
                    "error": "\(error)",
                ])
        }
    }

    private func start(_ plan: SessionPlan) async {
        let log: Logger.Metadata = [
            "guild": "\(plan.guildID)", "channel": "\(plan.voiceChannelID)",
            "session": "\(plan.id)", "user": "\(plan.starter.id)",
            "backend": "\(plan.backendIndex + 1)",
        ]
        logger.info("starting session", metadata: log)
        var settings: UserSettings
        do {
            settings = try await handler.store.settings(for: plan.starter.id)
        } catch {
            logger.error(
                "reading settings failed; using the defaults",
                metadata: log.merging(["error": "\(error)"]) { $1 })
            settings = handler.store.defaults.settings(for: plan.starter.id)
        }
        // A voice chosen earlier may have been removed from VOICE_PROMPT_DIR since.
        var fallback: String?
        if case .failure = handler.catalog.resolve(settings.voice) {
            fallback = settings.voice
            settings.voice = handler.store.defaults.voice
        }
        let request = VoiceSessionRequest(
            id: plan.id, guildID: plan.guildID, voiceChannelID: plan.voiceChannelID, textChannelID: plan.textChannelID,
            starter: plan.starter, settings: settings, backend: backends[plan.backendIndex],
            backendIndex: plan.backendIndex)
        do {
            try await sessions.start(request) { end in self.submit(.sessionEnded(end)) }
            logger.info("session live", metadata: log)
            submit(.sessionStarted(plan.id, settings: settings, voiceFallback: fallback))
        } catch {
            logger.warning("session could not start", metadata: log.merging(["problem": "\(error)"]) { $1 })
            submit(.sessionFailed(plan.id, error))
        }
    }
}

/// Who won the race between an interaction's answer and its "thinking…" deferral.
private final class Deferral: Sendable {
    private enum Phase { case working, deferring, done }
    private let phase = Mutex(Phase.working)

    /// The deadline passed: start deferring unless the answer is already there.
    func begin() -> Bool {
        phase.withLock { p in
            guard p == .working else { return false }
            p = .deferring
            return true
        }
    }

    /// The answer is ready; returns whether a deferral was started (then the answer is a follow-up).
    func finish() -> Bool {
        phase.withLock { p in
            let deferring = p == .deferring
            p = .done
            return deferring
        }
    }
}
