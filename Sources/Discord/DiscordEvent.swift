/// What the gateway tells the bot, typed. The cache is already updated when an event is delivered.
public enum DiscordEvent: Sendable {
    /// A shard identified (a new session).
    case ready(ReadyEvent, shard: Int)
    /// A shard resumed its session; missed events were replayed before this.
    case resumed(shard: Int)
    case guildCreate(Guild)
    case guildDelete(UnavailableGuild)
    case channelUpdate(DiscordChannel)
    case channelDelete(DiscordChannel)
    case voiceStateUpdate(VoiceState)
    case messageCreate(DiscordMessage)
    case interactionCreate(Interaction)
    /// A shard stopped for good (4004, 4014, …): the error says what to do. No reconnect follows.
    case shardStopped(shard: Int, error: DiscordError)
}
