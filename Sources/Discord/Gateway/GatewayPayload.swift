import Foundation

/// Gateway opcodes (API v10).
enum GatewayOpcode: Int {
    case dispatch = 0
    case heartbeat = 1
    case identify = 2
    case presenceUpdate = 3
    case voiceStateUpdate = 4
    case resume = 6
    case reconnect = 7
    case requestGuildMembers = 8
    case invalidSession = 9
    case hello = 10
    case heartbeatAck = 11
}

/// The envelope of every gateway message: `{op, d, s, t}`; `s` and `t` only on dispatches.
struct GatewayHeader: Decodable {
    var op: Int
    var s: Int?
    var t: String?
}

/// The `d` of a gateway message, decoded once the header said what it is.
struct GatewayData<D: Decodable>: Decodable {
    var d: D
}

struct HelloData: Decodable {
    var heartbeatInterval: Int
}

/// A message the client sends: `{op, d}` (`d` may be `null`).
struct GatewayCommand<D: Encodable>: Encodable {
    var op: GatewayOpcode
    var d: D

    enum CodingKeys: String, CodingKey { case op, d }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(op.rawValue, forKey: .op)
        // Encoded even when `nil` (`{"op":1,"d":null}` is the first heartbeat).
        try container.encode(d, forKey: .d)
    }
}

struct IdentifyData: Encodable {
    struct Properties: Encodable {
        var os: String
        var browser: String
        var device: String
    }
    var token: String
    var intents: Int
    var properties: Properties
    var shard: [Int]
    var largeThreshold: Int
}

struct ResumeData: Encodable {
    var token: String
    var sessionId: String
    var seq: Int?
}

struct VoiceStateCommand: Encodable {
    var guildId: Snowflake
    var channelId: Snowflake?
    var selfMute: Bool
    var selfDeaf: Bool

    enum CodingKeys: String, CodingKey {
        case guildId = "guild_id"
        case channelId = "channel_id"
        case
            selfMute = "self_mute"
        case selfDeaf = "self_deaf"
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(guildId, forKey: .guildId)
        try container.encode(channelId, forKey: .channelId)
        try container.encode(selfMute, forKey: .selfMute)
        try container.encode(selfDeaf, forKey: .selfDeaf)
    }
}

/// JSON coders configured for Discord's snake_case payloads.
enum GatewayJSON {
    static func decoder() -> JSONDecoder {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return decoder
    }

    static func encoder() -> JSONEncoder {
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        return encoder
    }
}
