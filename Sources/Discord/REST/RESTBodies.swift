/// `{"parse": []}`: nothing in the text pings anyone (model text must never reach @everyone, roles or users).
struct AllowedMentions: Encodable, Sendable {
    var parse: [String] = []
}

struct MessageCreateBody: Encodable, Sendable {
    var content: String
    var allowedMentions = AllowedMentions()
    var nonce: String
    /// With the nonce: a retry within a few minutes returns the message already created instead of a duplicate.
    var enforceNonce = true

    init(content: String, nonce: String) {
        self.content = content
        self.nonce = nonce
    }
}

struct InteractionResponseBody: Encodable, Sendable {
    struct Data: Encodable, Sendable {
        var content: String?
        var flags: Int?
        var allowedMentions = AllowedMentions()

        init(content: String?, ephemeral: Bool) {
            self.content = content
            flags = ephemeral ? 64 : nil
        }
    }
    /// 4 = message, 5 = deferred message.
    var type: Int
    var data: Data?
}

struct WebhookEditBody: Encodable, Sendable {
    var content: String
    var allowedMentions = AllowedMentions()
}

/// A command as Discord answers a bulk overwrite.
public struct RegisteredCommand: Codable, Sendable, Equatable {
    public var id: Snowflake
    public var name: String
}
