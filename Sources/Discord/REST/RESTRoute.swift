/// One REST endpoint: the method and path template (the rate-limit route), the concrete path, and the top-level
/// resource id (channel, guild, webhook) that splits one bucket into per-resource buckets.
/// `name` (method + template) is what logs and errors show: concrete paths can hold interaction tokens.
struct RESTRoute: Sendable, Hashable {
    var method: String
    var template: String
    var path: String
    var major: String
    /// Safe to send twice: GET/PUT/PATCH/DELETE, and message creates with `enforce_nonce`.
    var idempotent: Bool

    var name: String { "\(method) \(template)" }

    static func currentUser() -> RESTRoute {
        RESTRoute(method: "GET", template: "/users/@me", path: "/users/@me", major: "", idempotent: true)
    }

    static func currentApplication() -> RESTRoute {
        RESTRoute(
            method: "GET", template: "/oauth2/applications/@me", path: "/oauth2/applications/@me", major: "",
            idempotent: true)
    }

    static func gatewayBot() -> RESTRoute {
        RESTRoute(method: "GET", template: "/gateway/bot", path: "/gateway/bot", major: "", idempotent: true)
    }

    static func createMessage(channel: Snowflake) -> RESTRoute {
        RESTRoute(
            method: "POST", template: "/channels/{channel.id}/messages", path: "/channels/\(channel)/messages",
            major: "channel:\(channel)", idempotent: true)
    }

    static func bulkOverwriteCommands(application: Snowflake, guild: Snowflake?) -> RESTRoute {
        if let guild {
            return RESTRoute(
                method: "PUT", template: "/applications/{application.id}/guilds/{guild.id}/commands",
                path: "/applications/\(application)/guilds/\(guild)/commands",
                major: "guild:\(guild)", idempotent: true)
        }
        return RESTRoute(
            method: "PUT", template: "/applications/{application.id}/commands",
            path: "/applications/\(application)/commands", major: "", idempotent: true)
    }

    static func interactionCallback(id: Snowflake, token: InteractionToken) -> RESTRoute {
        RESTRoute(
            method: "POST", template: "/interactions/{interaction.id}/{interaction.token}/callback",
            path: "/interactions/\(id)/\(token.secret)/callback", major: "interaction:\(id)",
            idempotent: false)
    }

    static func editOriginalResponse(application: Snowflake, token: InteractionToken) -> RESTRoute {
        RESTRoute(
            method: "PATCH", template: "/webhooks/{application.id}/{interaction.token}/messages/@original",
            path: "/webhooks/\(application)/\(token.secret)/messages/@original",
            major: "webhook:\(application):\(token.secret.hashValue)", idempotent: true)
    }

    static func followup(application: Snowflake, token: InteractionToken) -> RESTRoute {
        RESTRoute(
            method: "POST", template: "/webhooks/{application.id}/{interaction.token}",
            path: "/webhooks/\(application)/\(token.secret)",
            major: "webhook:\(application):\(token.secret.hashValue)", idempotent: false)
    }
}
