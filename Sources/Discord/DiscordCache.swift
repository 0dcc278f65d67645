import Synchronization

/// What the bot needs to know about its guilds: channels, who is in which voice channel (and whether they are
/// bots), and its own voice channel per guild. Updated by the shards before each event is delivered.
public final class DiscordCache: Sendable {
    /// One guild's view.
    public struct GuildState: Sendable, Equatable {
        public var id: Snowflake
        public var name: String
        public var channels: [Snowflake: DiscordChannel] = [:]
        /// User id → voice state, only for users in a voice channel.
        public var voiceStates: [Snowflake: VoiceState] = [:]
        /// User id → is a bot account (from members and voice states).
        public var botFlags: [Snowflake: Bool] = [:]
    }

    private struct State {
        var guilds: [Snowflake: GuildState] = [:]
        var channelGuild: [Snowflake: Snowflake] = [:]
        var ownUserID: Snowflake?
    }

    private let state = Mutex(State())

    public init() {}

    /// The bot's own user id (from READY).
    public var ownUserID: Snowflake? { state.withLock { $0.ownUserID } }

    public func guild(_ id: Snowflake) -> GuildState? { state.withLock { $0.guilds[id] } }
    public var guildIDs: [Snowflake] { state.withLock { Array($0.guilds.keys) } }

    public func channel(_ id: Snowflake) -> DiscordChannel? {
        state.withLock { state in
            state.channelGuild[id].flatMap { state.guilds[$0]?.channels[id] }
        }
    }

    /// The voice channel `userID` is in within `guildID`, if any.
    public func voiceChannel(of userID: Snowflake, in guildID: Snowflake) -> Snowflake? {
        state.withLock { $0.guilds[guildID]?.voiceStates[userID]?.channelId }
    }

    /// The bot's own voice channel in `guildID`.
    public func ownVoiceChannel(in guildID: Snowflake) -> Snowflake? {
        state.withLock { state in
            state.ownUserID.flatMap { state.guilds[guildID]?.voiceStates[$0]?.channelId }
        }
    }

    /// Users (id, isBot) currently in `channelID`.
    public func usersInVoiceChannel(_ channelID: Snowflake, guildID: Snowflake) -> [(id: Snowflake, isBot: Bool)] {
        state.withLock { state in
            guard let guild = state.guilds[guildID] else { return [] }
            return guild.voiceStates.values.filter { $0.channelId == channelID }.map {
                ($0.userId, guild.botFlags[$0.userId] ?? ($0.member?.user?.isBot ?? false))
            }
        }
    }

    func setOwnUser(_ id: Snowflake) { state.withLock { $0.ownUserID = id } }

    /// Applies one event.
    func apply(_ event: DiscordEvent) {
        state.withLock { state in
            switch event {
            case let .guildCreate(guild):
                var cached = GuildState(id: guild.id, name: guild.name ?? "")
                for channel in guild.channels ?? [] {
                    cached.channels[channel.id] = channel
                    state.channelGuild[channel.id] = guild.id
                }
                for member in guild.members ?? [] {
                    if let user = member.user { cached.botFlags[user.id] = user.isBot }
                }
                for voice in guild.voiceStates ?? [] where voice.channelId != nil {
                    cached.voiceStates[voice.userId] = voice
                }
                state.guilds[guild.id] = cached
            case let .guildDelete(guild):
                if let removed = state.guilds.removeValue(forKey: guild.id) {
                    for id in removed.channels.keys { state.channelGuild[id] = nil }
                }
            case let .channelUpdate(channel):
                guard let guildID = channel.guildId else { return }
                state.guilds[guildID]?.channels[channel.id] = channel
                state.channelGuild[channel.id] = guildID
            case let .channelDelete(channel):
                guard let guildID = channel.guildId else { return }
                state.guilds[guildID]?.channels[channel.id] = nil
                state.channelGuild[channel.id] = nil
            case let .voiceStateUpdate(voice):
                guard let guildID = voice.guildId else { return }
                if let user = voice.member?.user { state.guilds[guildID]?.botFlags[user.id] = user.isBot }
                if voice.channelId == nil {
                    state.guilds[guildID]?.voiceStates[voice.userId] = nil
                } else {
                    state.guilds[guildID]?.voiceStates[voice.userId] = voice
                }
            case let .messageCreate(message):
                if let guildID = message.guildId, state.guilds[guildID]?.botFlags[message.author.id] == nil {
                    state.guilds[guildID]?.botFlags[message.author.id] = message.author.isBot
                }
            case .ready, .resumed, .interactionCreate, .shardStopped:
                break
            }
        }
    }
}
