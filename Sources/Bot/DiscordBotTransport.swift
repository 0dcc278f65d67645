import Discord
import Foundation
import Realtime
import Synchronization

/// The thin adapter from the Discord library to the bot: REST calls for `BotTransport`, op 4 through the client,
/// and the gateway's events mapped to `BotEvent`s. Interactions are kept here by id (with their token) for
/// 15 minutes, the life of an interaction token, so the bot itself never holds a token.
public final class DiscordBotTransport: BotTransport {
    public let client: DiscordClient
    private let clock: any MonotonicClock
    private let interactions = Mutex<[Snowflake: (interaction: Interaction, received: UInt64)]>([:])
    private let applicationID = Mutex<Snowflake?>(nil)
    static let interactionLifetime: UInt64 = 15 * 60 * 1_000_000_000

    public init(client: DiscordClient, clock: any MonotonicClock = SystemClock.shared) {
        self.client = client
        self.clock = clock
    }

    public var voiceControl: any VoiceChannelControl { client }

    public func send(_ content: String, to channelID: Snowflake) async throws {
        try await client.rest.sendMessage(channelID: channelID, text: content)
    }

    public func respond(to interaction: InteractionHandle, with content: String, ephemeral: Bool) async throws {
        try await client.rest.reply(to: try stored(interaction), text: content, ephemeral: ephemeral)
    }

    public func deferResponse(to interaction: InteractionHandle, ephemeral: Bool) async throws {
        try await client.rest.deferReply(to: try stored(interaction), ephemeral: ephemeral)
    }

    public func followUp(to interaction: InteractionHandle, with content: String, ephemeral: Bool) async throws {
        try await client.rest.editReply(to: try stored(interaction), text: content, ephemeral: ephemeral)
    }

    public func registerCommands(_ commands: [SlashCommand], guildID: Snowflake?) async throws {
        let application = try await currentApplicationID()
        let mapped = commands.map { command in
            ApplicationCommand(
                name: command.name, description: command.description,
                options: command.options.map {
                    ApplicationCommand.Option(
                        name: $0.name, description: $0.description, required: $0.required,
                        choices: $0.choices?.map { .init(name: $0.name, value: $0.value) }, maxLength: $0.maxLength)
                }, contexts: command.contexts, integrationTypes: command.integrationTypes)
        }
        try await client.rest.overwriteCommands(applicationID: application, guildID: guildID, commands: mapped)
    }

    private func currentApplicationID() async throws -> Snowflake {
        if let known = applicationID.withLock({ $0 }) { return known }
        let id = try await client.rest.currentApplication().id
        applicationID.withLock { $0 = id }
        return id
    }

    private func stored(_ handle: InteractionHandle) throws -> Interaction {
        guard let entry = interactions.withLock({ $0[handle.id] }) else {
            throw DiscordBotTransportError.unknownInteraction(handle.id)
        }
        return entry.interaction
    }

    private func remember(_ interaction: Interaction) {
        let now = clock.nowNanoseconds()
        interactions.withLock { map in
            map = map.filter { now &- $0.value.received < Self.interactionLifetime }
            map[interaction.id] = (interaction, now)
        }
    }

    /// The gateway's events as the bot's events (the ones it does not use are dropped); ends when the client's
    /// event stream ends.
    public func events() -> AsyncCompactMapSequence<AsyncStream<DiscordEvent>, BotEvent> {
        client.events.compactMap { [self] event in self.map(event) }
    }

    func map(_ event: DiscordEvent) -> BotEvent? {
        switch event {
        case let .ready(ready, _):
            if let application = ready.application?.id { applicationID.withLock { $0 = application } }
            return .ready(botUserID: ready.user.id)
        case let .guildCreate(guild):
            return .guildAvailable(snapshot(guild))
        case let .guildDelete(gone):
            return .guildUnavailable(gone.id)
        case let .voiceStateUpdate(state):
            guard let guild = state.guildId else { return nil }
            return .voiceStateChanged(
                VoiceStateChange(
                    guildID: guild,
                    user: user(
                        state.userId, member: state.member,
                        guild: guild),
                    channelID: state.channelId))
        case let .messageCreate(message):
            let author = BotUser(
                id: message.author.id, name: message.member?.nick ?? message.author.displayName,
                isBot: message.author.isBot)
            return .messageCreated(
                ChatMessage(
                    id: message.id, guildID: message.guildId, channelID: message.channelId,
                    author: author, content: message.content))
        case let .interactionCreate(interaction):
            guard interaction.type == 2, let data = interaction.data, let invoker = interaction.invoker else {
                return nil
            }
            remember(interaction)
            var options: [String: String] = [:]
            for option in data.options ?? [] { options[option.name] = option.value?.text }
            let user = BotUser(
                id: invoker.id, name: interaction.member?.nick ?? invoker.displayName,
                isBot: invoker.isBot)
            return .interactionCreated(
                CommandInteraction(
                    handle: InteractionHandle(id: interaction.id, applicationID: interaction.applicationId),
                    guildID: interaction.guildId, channelID: interaction.channelId, user: user, name: data.name,
                    options: options))
        case .shardStopped, .resumed, .channelUpdate, .channelDelete:
            // A stopped shard is logged by the gateway and ends `DiscordClient.run` with its error.
            return nil
        }
    }

    private func snapshot(_ guild: Guild) -> GuildSnapshot {
        var names: [Snowflake: String] = [:]
        for channel in guild.channels ?? [] { if let name = channel.name { names[channel.id] = name } }
        let members = Dictionary((guild.members ?? []).compactMap { m in m.user.map { ($0.id, m) } }) { a, _ in a }
        let states = (guild.voiceStates ?? []).map { state in
            VoiceStateChange(
                guildID: guild.id,
                user: user(
                    state.userId, member: state.member ?? members[state.userId],
                    guild: guild.id),
                channelID: state.channelId)
        }
        return GuildSnapshot(id: guild.id, name: guild.name ?? "a server", channelNames: names, voiceStates: states)
    }

    private func user(_ id: Snowflake, member: GuildMember?, guild: Snowflake) -> BotUser {
        if let member, let user = member.user {
            return BotUser(id: id, name: member.nick ?? user.displayName, isBot: user.isBot)
        }
        return BotUser(id: id, name: "someone", isBot: false)
    }
}

public enum DiscordBotTransportError: Error, CustomStringConvertible {
    case unknownInteraction(Snowflake)

    public var description: String {
        switch self {
        case let .unknownInteraction(id): return "interaction \(id) is unknown or older than 15 minutes"
        }
    }
}
