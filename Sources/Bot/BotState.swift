import Discord
import Realtime

/// The bot's decisions, with no I/O: who is where, which backend serves which guild, who waits, and what to say.
/// The runner (`BotRunner`) feeds it inputs one at a time and carries out the effects it returns, so every rule
/// here is testable without a network, a clock or a database.
///
/// Rules (seeds 000/001, issue 9): a human entering a voice channel while the bot is free in that guild brings the
/// bot (auto-join), if a backend is free; each backend serves one session; someone who arrives while all are busy
/// is told where the bot is busy and queued; when a backend frees, the first queued person still in voice (in a
/// guild where the bot is free) gets it and the bot says so; the bot leaves when no humans remain.
public struct BotState: Sendable {
    /// A session the manager has started (or is starting) in a guild. The bot is in at most one voice channel
    /// per guild, so guilds key sessions.
    struct ActiveSession: Sendable {
        var id: VoiceSessionID
        var guildID: Snowflake
        var channelID: Snowflake
        var textChannelID: Snowflake
        var starter: BotUser
        var backendIndex: Int
        var live = false
        var startedAt: UInt64
    }

    struct Waiting: Sendable {
        var user: BotUser
        var guildID: Snowflake
    }

    struct Member: Sendable {
        var user: BotUser
        var channelID: Snowflake
    }

    public let prefix: String
    public let statusChannelID: Snowflake?
    public let backendCount: Int
    private let clock: any MonotonicClock

    private(set) var botUserID: Snowflake?
    private var guildNames: [Snowflake: String] = [:]
    private var channelNames: [Snowflake: [Snowflake: String]] = [:]
    /// guild → user → where they are in voice.
    private var presence: [Snowflake: [Snowflake: Member]] = [:]
    private(set) var sessions: [Snowflake: ActiveSession] = [:]
    /// backend index → the session holding it.
    private(set) var holders: [VoiceSessionID?]
    private(set) var queue: [Waiting] = []
    private var nextSessionID: UInt64 = 1

    public init(prefix: String, statusChannelID: Snowflake?, backendCount: Int, clock: any MonotonicClock) {
        self.prefix = prefix
        self.statusChannelID = statusChannelID
        self.backendCount = max(1, backendCount)
        self.clock = clock
        holders = Array(repeating: nil, count: max(1, backendCount))
    }

    // MARK: - Inputs

    public mutating func apply(_ input: BotInput) -> [BotEffect] {
        switch input {
        case let .event(event): return apply(event)
        case let .sessionStarted(id, settings, fallback):
            return sessionStarted(id, settings: settings, fallback: fallback)
        case let .sessionFailed(id, problem): return sessionFailed(id, problem)
        case let .sessionEnded(end): return sessionEndedByItself(end)
        }
    }

    mutating func apply(_ event: BotEvent) -> [BotEffect] {
        switch event {
        case let .ready(botUserID):
            self.botUserID = botUserID
            return []
        case let .guildAvailable(snapshot):
            return guildAvailable(snapshot)
        case let .guildUnavailable(guildID):
            return guildGone(guildID)
        case let .voiceStateChanged(change):
            return voiceStateChanged(change)
        case let .messageCreated(message):
            return messageCreated(message)
        case let .interactionCreated(interaction):
            return interactionCreated(interaction)
        }
    }

    // MARK: - Guilds and voice states

    private mutating func guildAvailable(_ snapshot: GuildSnapshot) -> [BotEffect] {
        guildNames[snapshot.id] = snapshot.name
        channelNames[snapshot.id] = snapshot.channelNames
        var members: [Snowflake: Member] = [:]
        var staleChannel = false
        for state in snapshot.voiceStates {
            guard let channel = state.channelID else { continue }
            if state.user.id == botUserID {
                staleChannel = sessions[snapshot.id] == nil
                continue
            }
            members[state.user.id] = Member(user: state.user, channelID: channel)
        }
        presence[snapshot.id] = members
        // Humans already in voice count as arrivals, but quietly: join the first such channel if we can (the join
        // moves the bot out of a channel left over from before a restart).
        if sessions[snapshot.id] == nil,
            let first = snapshot.voiceStates.first(where: {
                !$0.user.isBot && $0.channelID != nil && $0.user.id != botUserID
            }),
            let channel = first.channelID, let backend = freeBackend()
        {
            return startSession(
                for: first.user, guildID: snapshot.id, channelID: channel, backend: backend,
                announcement: nil)
        }
        // Still in voice from before a restart, with no session behind it: leave cleanly.
        return staleChannel ? [.leaveVoice(guildID: snapshot.id)] : []
    }

    private mutating func guildGone(_ guildID: Snowflake) -> [BotEffect] {
        var effects: [BotEffect] = []
        if let session = sessions.removeValue(forKey: guildID) {
            release(session)
            effects.append(.stopSession(session.id))
        }
        presence[guildID] = nil
        queue.removeAll { $0.guildID == guildID }
        return effects + serveQueue()
    }

    private mutating func voiceStateChanged(_ change: VoiceStateChange) -> [BotEffect] {
        if change.user.id == botUserID { return ownVoiceStateChanged(change) }
        let guild = change.guildID
        let previous = presence[guild]?[change.user.id]?.channelID
        if let channel = change.channelID {
            presence[guild, default: [:]][change.user.id] = Member(user: change.user, channelID: channel)
        } else {
            presence[guild]?[change.user.id] = nil
            queue.removeAll { $0.user.id == change.user.id && $0.guildID == guild }
        }
        guard previous != change.channelID else { return [] }  // mute, deafen, stream: not a move

        var effects: [BotEffect] = []
        if let previous, let session = sessions[guild], session.channelID == previous,
            humans(in: previous, guild) == 0
        {
            effects += endSession(guild, reason: .everyoneLeft)
        }
        if let channel = change.channelID, !change.user.isBot {
            effects += arrived(change.user, guildID: guild, channelID: channel, viaCommand: nil)
        }
        return effects
    }

    /// The bot's own voice state: a moderator moved or disconnected it.
    private mutating func ownVoiceStateChanged(_ change: VoiceStateChange) -> [BotEffect] {
        guard var session = sessions[change.guildID], session.live else { return [] }
        guard let channel = change.channelID else {
            return endSession(change.guildID, reason: .disconnected)
        }
        guard channel != session.channelID else { return [] }
        session.channelID = channel
        if statusChannelID == nil { session.textChannelID = channel }
        sessions[change.guildID] = session
        if humans(in: channel, change.guildID) == 0 { return endSession(change.guildID, reason: .everyoneLeft) }
        return []
    }

    /// A human entered `channelID` (by joining voice, by moving, or by asking with `join`).
    private mutating func arrived(
        _ user: BotUser, guildID: Snowflake, channelID: Snowflake,
        viaCommand context: CommandContext?
    ) -> [BotEffect] {
        if let session = sessions[guildID] {
            if session.channelID == channelID {
                queue.removeAll { $0.user.id == user.id && $0.guildID == guildID }
                let text = BotMessages.alreadyHere(channel: channelName(channelID, guildID))
                return context.map { [reply($0, text)] } ?? []
            }
            return busy(user, guildID: guildID, channelID: channelID, context: context)
        }
        guard let backend = freeBackend() else {
            return busy(user, guildID: guildID, channelID: channelID, context: context)
        }
        queue.removeAll { $0.user.id == user.id && $0.guildID == guildID }
        var effects: [BotEffect] = []
        if let context { effects.append(reply(context, BotMessages.onMyWay(channel: channelName(channelID, guildID)))) }
        return effects
            + startSession(
                for: user, guildID: guildID, channelID: channelID, backend: backend,
                announcement: nil)
    }

    /// Everyone's busy: say where, and queue (once).
    private mutating func busy(
        _ user: BotUser, guildID: Snowflake, channelID: Snowflake,
        context: CommandContext?
    ) -> [BotEffect] {
        if !queue.contains(where: { $0.user.id == user.id && $0.guildID == guildID }) {
            queue.append(Waiting(user: user, guildID: guildID))
        }
        let position = (queue.firstIndex { $0.user.id == user.id && $0.guildID == guildID } ?? 0) + 1
        let hereChannel = sessions[guildID].map { channelName($0.channelID, guildID) }
        let elsewhere = sessions.values.filter { $0.guildID != guildID }.count
        let text = BotMessages.busy(
            user: user.name, hereChannel: hereChannel, otherServers: elsewhere,
            backends: backendCount, position: position)
        if let context { return [reply(context, text, ephemeral: false)] }
        return [.post(channelID: statusChannelID ?? channelID, text: text)]
    }

    // MARK: - Sessions

    private func freeBackend() -> Int? { holders.firstIndex { $0 == nil } }

    private mutating func startSession(
        for user: BotUser, guildID: Snowflake, channelID: Snowflake, backend: Int,
        announcement: String?
    ) -> [BotEffect] {
        let id = VoiceSessionID(rawValue: nextSessionID)
        nextSessionID += 1
        let textChannel = statusChannelID ?? channelID
        holders[backend] = id
        sessions[guildID] = ActiveSession(
            id: id, guildID: guildID, channelID: channelID, textChannelID: textChannel,
            starter: user, backendIndex: backend, startedAt: clock.nowNanoseconds())
        var effects: [BotEffect] = []
        if let announcement { effects.append(.post(channelID: textChannel, text: announcement)) }
        effects.append(
            .startSession(
                SessionPlan(
                    id: id, guildID: guildID, voiceChannelID: channelID,
                    textChannelID: textChannel, starter: user, backendIndex: backend)))
        return effects
    }

    private mutating func sessionStarted(_ id: VoiceSessionID, settings: UserSettings, fallback: String?)
        -> [BotEffect]
    {
        guard let guild = guild(of: id), var session = sessions[guild] else {
            // Ended (everyone left, `leave`) while it was starting: undo the start.
            return [.stopSession(id)]
        }
        session.live = true
        session.startedAt = clock.nowNanoseconds()
        sessions[guild] = session
        var effects: [BotEffect] = [
            .post(
                channelID: session.textChannelID,
                text: BotMessages.started(
                    user: session.starter.name, channel: channelName(session.channelID, guild), voice: settings.voice,
                    persona: settings.persona, fallbackFrom: fallback))
        ]
        if humans(in: session.channelID, guild) == 0 { effects += endSession(guild, reason: .everyoneLeft) }
        return effects
    }

    private mutating func sessionFailed(_ id: VoiceSessionID, _ problem: VoiceSessionProblem) -> [BotEffect] {
        guard let guild = guild(of: id), let session = sessions.removeValue(forKey: guild) else {
            holders = holders.map { $0 == id ? nil : $0 }
            return []
        }
        release(session)
        queue.removeAll { $0.user.id == session.starter.id && $0.guildID == guild }
        return [
            .post(
                channelID: session.textChannelID,
                text: BotMessages.couldNotStart(
                    user: session.starter.name, problem: problem,
                    backend: session.backendIndex, of: backendCount))
        ]
            + serveQueue()
    }

    private mutating func sessionEndedByItself(_ end: VoiceSessionEnd) -> [BotEffect] {
        guard let guild = guild(of: end.id) else { return [] }
        return endSession(guild, reason: .problem(end.problem), serviceAlreadyStopped: true)
    }

    enum EndReason {
        case everyoneLeft
        case leaveCommand(String)
        case disconnected
        case problem(VoiceSessionProblem)
    }

    private mutating func endSession(_ guildID: Snowflake, reason: EndReason, serviceAlreadyStopped: Bool = false)
        -> [BotEffect]
    {
        guard let session = sessions.removeValue(forKey: guildID) else { return [] }
        release(session)
        var effects: [BotEffect] = serviceAlreadyStopped ? [] : [.stopSession(session.id)]
        if session.live {
            let seconds = Double(clock.nowNanoseconds() &- session.startedAt) / 1e9
            effects.append(
                .post(
                    channelID: session.textChannelID,
                    text: BotMessages.ended(
                        channel: channelName(session.channelID, guildID), seconds: seconds, reason: reason,
                        backend: session.backendIndex, of: backendCount)))
        }
        return effects + serveQueue()
    }

    private mutating func release(_ session: ActiveSession) {
        if holders.indices.contains(session.backendIndex), holders[session.backendIndex] == session.id {
            holders[session.backendIndex] = nil
        }
    }

    /// Gives free backends to the people waiting, first come first served.
    private mutating func serveQueue() -> [BotEffect] {
        var effects: [BotEffect] = []
        var index = 0
        while index < queue.count, let backend = freeBackend() {
            let waiting = queue[index]
            guard let member = presence[waiting.guildID]?[waiting.user.id] else {
                queue.remove(at: index)  // left voice meanwhile
                continue
            }
            guard sessions[waiting.guildID] == nil else {
                index += 1  // the bot is still busy in their server: keep their place
                continue
            }
            queue.remove(at: index)
            let announcement = BotMessages.comingFromQueue(
                user: member.user.name,
                channel: channelName(member.channelID, waiting.guildID))
            effects += startSession(
                for: member.user, guildID: waiting.guildID, channelID: member.channelID,
                backend: backend, announcement: announcement)
        }
        return effects
    }

    // MARK: - Commands

    private mutating func messageCreated(_ message: ChatMessage) -> [BotEffect] {
        guard !message.author.isBot, message.author.id != botUserID,
            let command = BotCommand.parse(message: message.content, prefix: prefix)
        else { return [] }
        let context = CommandContext(
            user: message.author, guildID: message.guildID, channelID: message.channelID,
            target: .channel(message.channelID))
        return handleCommand(command, context)
    }

    private mutating func interactionCreated(_ interaction: CommandInteraction) -> [BotEffect] {
        let command = BotCommand.parse(slash: interaction.name, options: interaction.options)
        let context = CommandContext(
            user: interaction.user, guildID: interaction.guildID,
            channelID: interaction.channelID, target: .interaction(interaction.handle))
        return handleCommand(command, context)
    }

    private mutating func handleCommand(_ command: BotCommand, _ context: CommandContext) -> [BotEffect] {
        switch command {
        case .join: return join(context)
        case .leave: return leave(context)
        default: return [.runCommand(command, context)]
        }
    }

    private mutating func join(_ context: CommandContext) -> [BotEffect] {
        guard let guild = context.guildID else { return [reply(context, BotMessages.guildOnly)] }
        guard let member = presence[guild]?[context.user.id] else {
            return [reply(context, BotMessages.joinVoiceFirst(prefix: prefix))]
        }
        return arrived(member.user, guildID: guild, channelID: member.channelID, viaCommand: context)
    }

    private mutating func leave(_ context: CommandContext) -> [BotEffect] {
        guard let guild = context.guildID else { return [reply(context, BotMessages.guildOnly)] }
        guard let session = sessions[guild] else { return [reply(context, BotMessages.notInVoice)] }
        queue.removeAll { $0.user.id == context.user.id && $0.guildID == guild }
        let channel = channelName(session.channelID, guild)
        return [reply(context, BotMessages.leaving(channel: channel))]
            + endSession(guild, reason: .leaveCommand(context.user.name))
    }

    // MARK: - Helpers

    private func reply(_ context: CommandContext, _ text: String, ephemeral: Bool = false) -> BotEffect {
        .reply(context.target, text: text, ephemeral: ephemeral)
    }

    private func humans(in channelID: Snowflake, _ guildID: Snowflake) -> Int {
        presence[guildID]?.values.filter { $0.channelID == channelID && !$0.user.isBot }.count ?? 0
    }

    private func guild(of id: VoiceSessionID) -> Snowflake? {
        sessions.first { $0.value.id == id }?.key
    }

    func channelName(_ channelID: Snowflake, _ guildID: Snowflake) -> String {
        channelNames[guildID]?[channelID] ?? "your voice channel"
    }

    /// The user's place in the queue (1-based), if waiting.
    public func queuePosition(of userID: Snowflake, in guildID: Snowflake) -> Int? {
        queue.firstIndex { $0.user.id == userID && $0.guildID == guildID }.map { $0 + 1 }
    }

    /// The channel the bot is in (or joining) in a guild.
    public func sessionChannel(in guildID: Snowflake) -> Snowflake? { sessions[guildID]?.channelID }
}
