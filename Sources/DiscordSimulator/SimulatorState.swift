import Foundation

/// What the simulated Discord knows. Mutated only under `DiscordSimulator.state`'s lock, never across an await.
struct SimState {
    struct User {
        var id: UInt64
        var username: String
        var bot: Bool
        var token: String?
    }

    struct Channel {
        var id: UInt64
        var guildID: UInt64
        var type: Int
        var name: String
    }

    struct Guild {
        var id: UInt64
        var name: String
        var channels: [Channel]
        var memberIDs: [UInt64]
        /// user id → (channel id, voice session id)
        var voice: [UInt64: (channel: UInt64, session: String)] = [:]
    }

    struct Session {
        var id: String
        var userID: UInt64
        var shardID: Int
        var shardCount: Int
        /// The intents of the Identify that started the session: which dispatches it receives.
        var intents: Int
        var seq = 0
        /// Dispatches kept for Resume (seq, payload), bounded.
        var log: [(seq: Int, payload: String)] = []
        var connectionID: Int?
        var valid = true
    }

    struct Connection {
        var id: Int
        var outbox: AsyncStream<SimOutgoing>.Continuation
        var sessionID: String?
        var sendTimes: [Date] = []
        var remoteClosed = false
        /// The server has sent its close frame; nothing more is sent or closed again.
        var serverClosed = false
        /// The last heartbeat from the client (Hello's time until the first one), for the 4009 timeout.
        var lastHeartbeat = Date()
    }

    struct Interaction {
        var id: UInt64
        var token: String
        var applicationID: UInt64
        var createdAt: Date
        var acknowledged = false
        var channelID: UInt64
    }

    struct Bucket {
        var remaining: Int
        var resetAt: Date
    }

    var ids = SnowflakeGenerator()
    var users: [UInt64: User] = [:]
    var guilds: [UInt64: Guild] = [:]
    var guildOrder: [UInt64] = []
    var channelGuild: [UInt64: UInt64] = [:]
    var sessions: [String: Session] = [:]
    var connections: [Int: Connection] = [:]
    var nextConnectionID = 1
    var interactions: [UInt64: Interaction] = [:]
    var buckets: [UInt64: Bucket] = [:]
    var nonces: [String: String] = [:]
    var commands: [String: [[String: Any]]] = [:]
    /// The same commands, parsed (scope → commands).
    var commandDefinitions: [String: [SimulatedCommand]] = [:]
    var withholdHeartbeatAcks = false
    var pending429: (count: Int, global: Bool, retryAfter: Double) = (0, false, 0)
    var sessionStartsRemaining: Int
    var applicationID: UInt64 = 0

    // Observations.
    var requests: [RecordedRequest] = []
    var messages: [PostedMessage] = []
    var interactionResponses: [InteractionResponse] = []
    var received: [ReceivedGatewayPayload] = []
    var clientCloseCodes: [Int?] = []
    var serverCloseCodes: [Int] = []
    var tooManyRequests = 0

    init(sessionStartsRemaining: Int) {
        self.sessionStartsRemaining = sessionStartsRemaining
    }

    func userJSON(_ id: UInt64) -> [String: Any] {
        let user = users[id]
        return [
            "id": String(id), "username": user?.username ?? "user\(id % 10_000)", "discriminator": "0",
            "global_name": NSNull(), "avatar": NSNull(), "bot": user?.bot ?? false, "public_flags": 0,
        ]
    }

    func memberJSON(_ id: UInt64) -> [String: Any] {
        [
            "user": userJSON(id), "roles": [String](), "joined_at": "2024-01-01T00:00:00.000000+00:00",
            "deaf": false, "mute": false, "flags": 0,
        ]
    }

    func channelJSON(_ channel: Channel) -> [String: Any] {
        var json: [String: Any] = [
            "id": String(channel.id), "type": channel.type, "name": channel.name, "guild_id": String(channel.guildID),
            "position": 0, "permission_overwrites": [Any](), "nsfw": false, "parent_id": NSNull(),
        ]
        if channel.type == 2 || channel.type == 13 {
            json["bitrate"] = 64_000
            json["user_limit"] = 0
            json["rtc_region"] = NSNull()
        } else {
            json["topic"] = NSNull()
            json["last_message_id"] = NSNull()
            json["rate_limit_per_user"] = 0
        }
        return json
    }

    func voiceStateJSON(guildID: UInt64, userID: UInt64, channelID: UInt64?, session: String) -> [String: Any] {
        [
            "guild_id": String(guildID), "channel_id": channelID.map { String($0) } ?? NSNull(),
            "user_id": String(userID), "session_id": session, "member": memberJSON(userID), "deaf": false,
            "mute": false, "self_deaf": false, "self_mute": false, "self_video": false, "suppress": false,
            "request_to_speak_timestamp": NSNull(),
        ]
    }

    /// GUILD_CREATE. Without GUILD_PRESENCES, Discord lists only the bot and the members in voice channels
    /// (`gateway-events.mdx`, Guild Create), so `allMembers` is false then.
    func guildJSON(_ guild: Guild, botID: UInt64, allMembers: Bool = true) -> [String: Any] {
        var memberIDs = guild.memberIDs
        if !memberIDs.contains(botID) { memberIDs.append(botID) }
        let listed = allMembers ? memberIDs : memberIDs.filter { $0 == botID || guild.voice[$0] != nil }
        return [
            "id": String(guild.id), "name": guild.name, "unavailable": false, "member_count": memberIDs.count,
            "large": false, "owner_id": String(guild.memberIDs.first ?? botID), "icon": NSNull(),
            "features": [String](),
            "roles": [
                [
                    "id": String(guild.id), "name": "@everyone", "permissions": "104324673", "position": 0,
                    "color": 0, "hoist": false, "managed": false, "mentionable": false, "flags": 0,
                ] as [String: Any]
            ],
            "emojis": [Any](), "stickers": [Any](), "threads": [Any](), "stage_instances": [Any](),
            "guild_scheduled_events": [Any](), "soundboard_sounds": [Any](),
            "channels": guild.channels.map(channelJSON),
            "members": listed.map(memberJSON),
            "voice_states": guild.voice.map { userID, entry in
                var json = voiceStateJSON(
                    guildID: guild.id, userID: userID, channelID: entry.channel,
                    session: entry.session)
                json["guild_id"] = nil
                return json
            },
            "presences": [Any](), "joined_at": "2024-01-01T00:00:00.000000+00:00", "system_channel_id": NSNull(),
            "afk_channel_id": NSNull(), "afk_timeout": 300, "verification_level": 0,
            "default_message_notifications": 0, "explicit_content_filter": 0, "mfa_level": 0, "nsfw_level": 0,
            "premium_tier": 0, "preferred_locale": "en-US", "application_id": NSNull(),
        ]
    }

    func messageJSON(id: UInt64, channelID: UInt64, authorID: UInt64, content: String, nonce: Any?) -> [String: Any] {
        var json: [String: Any] = [
            "id": String(id), "type": 0, "channel_id": String(channelID), "author": userJSON(authorID),
            "content": content, "timestamp": Date().iso8601, "edited_timestamp": NSNull(), "tts": false,
            "mention_everyone": false, "mentions": mentionedUserIDs(in: content).map(userJSON),
            "mention_roles": [Any](), "attachments": [Any](),
            "embeds": [Any](), "pinned": false, "flags": 0, "components": [Any](),
        ]
        if let guildID = channelGuild[channelID] {
            json["guild_id"] = String(guildID)
            var member = memberJSON(authorID)
            member["user"] = nil
            json["member"] = member
        }
        if let nonce { json["nonce"] = nonce }
        return json
    }

    /// Known users mentioned as `<@id>` or `<@!id>` in `content`, in order, without repeats.
    func mentionedUserIDs(in content: String) -> [UInt64] {
        var found: [UInt64] = []
        var rest = Substring(content)
        while let open = rest.range(of: "<@") {
            rest = rest[open.upperBound...]
            if rest.first == "!" { rest = rest.dropFirst() }
            let digits = rest.prefix { $0.isASCII && $0.isNumber }
            if rest.dropFirst(digits.count).first == ">", let id = UInt64(digits), users[id] != nil,
                !found.contains(id)
            {
                found.append(id)
            }
        }
        return found
    }

    /// A message as a session without MESSAGE_CONTENT receives it: empty `content`, `embeds`, `attachments`
    /// and `components` (`events/gateway.mdx`, Message Content Intent).
    static func withoutContent(_ message: [String: Any]) -> [String: Any] {
        var copy = message
        copy["content"] = ""
        copy["embeds"] = [Any]()
        copy["attachments"] = [Any]()
        copy["components"] = [Any]()
        copy["poll"] = nil
        return copy
    }

    /// The shard (of `count`) that receives `guildID`'s events.
    static func shard(of guildID: UInt64, count: Int) -> Int { Int((guildID >> 22) % UInt64(max(1, count))) }
}

/// A frame queued to one gateway connection.
enum SimOutgoing: Sendable {
    case text(String)
    /// A close frame with this code, then the TCP close.
    case close(UInt16)
    /// TCP close without a close frame (a dropped connection).
    case drop
}

/// One REST call as the simulator received it.
public struct RecordedRequest: Sendable {
    public var method: String
    public var path: String
    public var headers: [String: String]
    public var body: String
    public var status: Int
}

/// A message created through REST (`POST /channels/{id}/messages`).
public struct PostedMessage: Sendable {
    public var id: UInt64
    public var channelID: UInt64
    public var authorID: UInt64
    public var content: String
    /// `allowed_mentions.parse` as sent; `nil` when `allowed_mentions` was absent.
    public var allowedMentionsParse: [String]?
    public var nonce: String?
    public var enforceNonce: Bool
}

/// An interaction callback, edit or follow-up.
public struct InteractionResponse: Sendable {
    public var interactionID: UInt64
    /// 4 message, 5 deferred; 0 for an edit of the original, -1 for a follow-up.
    public var type: Int
    public var content: String?
    public var flags: Int
    public var allowedMentionsParse: [String]?
    public var secondsAfterCreate: Double
}

/// A payload a client sent on the gateway.
public struct ReceivedGatewayPayload: Sendable {
    public var connectionID: Int
    public var op: Int
    public var at: Date
    /// For op 2/6/4: the fields tests look at (token excluded).
    public var summary: [String: String]
}
