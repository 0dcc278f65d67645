import Foundation

/// Decodes one dispatch (`op 0`) into a typed event. Unknown event names are skipped; a known event whose `d` is
/// malformed is an error (reported by the shard, never a crash).
struct GatewayEventParser {
    enum Parsed {
        case event(DiscordEvent)
        case ready(ReadyEvent)
        case resumed
        case voiceServer(VoiceServerUpdate)
        case ignored
    }

    private let decoder = GatewayJSON.decoder()

    func parse(name: String, message: Data) throws -> Parsed {
        switch name {
        case "MESSAGE_CREATE":
            return .event(.messageCreate(try decode(DiscordMessage.self, message)))
        case "VOICE_STATE_UPDATE":
            return .event(.voiceStateUpdate(try decode(VoiceState.self, message)))
        case "VOICE_SERVER_UPDATE":
            return .voiceServer(try decode(VoiceServerUpdate.self, message))
        case "INTERACTION_CREATE":
            return .event(.interactionCreate(try decode(Interaction.self, message)))
        case "GUILD_CREATE":
            return .event(.guildCreate(try decode(Guild.self, message)))
        case "GUILD_DELETE":
            return .event(.guildDelete(try decode(UnavailableGuild.self, message)))
        case "CHANNEL_CREATE", "CHANNEL_UPDATE":
            return .event(.channelUpdate(try decode(DiscordChannel.self, message)))
        case "CHANNEL_DELETE":
            return .event(.channelDelete(try decode(DiscordChannel.self, message)))
        case "READY":
            return .ready(try decode(ReadyEvent.self, message))
        case "RESUMED":
            return .resumed
        default:
            return .ignored
        }
    }

    func header(_ message: Data) throws -> GatewayHeader {
        try decoder.decode(GatewayHeader.self, from: message)
    }

    func decode<T: Decodable>(_ type: T.Type, _ message: Data) throws -> T {
        try decoder.decode(GatewayData<T>.self, from: message).d
    }
}

/// The gateway's dispatch path without a socket, for measuring it: decode, update the cache, deliver.
public struct GatewayDispatchBench: Sendable {
    private let cache = DiscordCache()

    public init() {}

    /// Handles one whole gateway message (`{"op":0,"t":…,"s":…,"d":…}`) as a shard does; returns whether it
    /// produced an event for the bot.
    public func handle(_ message: Data) throws -> Bool {
        let parser = GatewayEventParser()
        let header = try parser.header(message)
        guard header.op == 0, let name = header.t else { return false }
        if case let .event(event) = try parser.parse(name: name, message: message) {
            cache.apply(event)
            return true
        }
        return false
    }
}
