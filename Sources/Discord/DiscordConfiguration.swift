import Foundation

/// Where Discord is and how to reach it. Every endpoint is configuration so a simulator (or any test harness)
/// can stand in for Discord; plain `http://` / `ws://` is accepted only for loopback hosts.
public struct DiscordConfiguration: Sendable {
    public var token: DiscordToken
    /// REST base including the version, e.g. `https://discord.com/api/v10`.
    public var apiBase: DiscordURL
    /// Overrides the gateway URL that `GET /gateway/bot` returns.
    public var gatewayURL: DiscordURL?
    /// An extra trusted CA (PEM) for every Discord TLS connection (REST, gateway, voice).
    public var caFile: String?
    /// `wss` (default) or `ws` for the voice gateway; `ws` only for loopback endpoints.
    public var voiceScheme: String
    /// GUILDS | GUILD_VOICE_STATES | GUILD_MESSAGES | MESSAGE_CONTENT.
    public var intents: Int
    /// From `SHARD_COUNT` / `SHARD_IDS`; `nil` = Discord's recommendation from `GET /gateway/bot`.
    public var shardCount: Int?
    public var shardIDs: [Int]?
    /// `DISCORD_GUILD_ID`: register slash commands in this guild only (they show at once); global when `nil`.
    public var commandGuildID: Snowflake?
    /// Where `DiscordBot (url, version)` points.
    public var userAgentURL: String
    public var userAgentVersion: String
    /// First reconnect delay; doubles per failed attempt up to `maxReconnectDelay`.
    public var reconnectDelay: Duration
    public var maxReconnectDelay: Duration

    public static let defaultIntents = 1 << 0 | 1 << 7 | 1 << 9 | 1 << 15

    public init(token: DiscordToken, apiBase: DiscordURL? = nil, gatewayURL: DiscordURL? = nil) {
        self.token = token
        // The literal is a valid https URL, so parsing cannot fail.
        self.apiBase = apiBase ?? (try? DiscordURL("https://discord.com/api/v10", allowed: ["https"]))!
        self.gatewayURL = gatewayURL
        caFile = nil
        voiceScheme = "wss"
        intents = Self.defaultIntents
        shardCount = nil
        shardIDs = nil
        commandGuildID = nil
        userAgentURL = "https://github.com/voice-router/voice-router"
        userAgentVersion = "0.1"
        reconnectDelay = .seconds(1)
        maxReconnectDelay = .seconds(60)
    }

    /// Reads `DISCORD_TOKEN`, `DISCORD_API_BASE`, `DISCORD_GATEWAY_URL`, `DISCORD_CA_FILE`, `DISCORD_VOICE_SCHEME`,
    /// `SHARD_COUNT` and `SHARD_IDS`. Each malformed value is one specific error.
    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment)
        throws(DiscordError) -> DiscordConfiguration
    {
        guard let raw = env["DISCORD_TOKEN"] else {
            throw .invalidToken(reason: "DISCORD_TOKEN is not set (copy it from the Developer Portal, Bot tab)")
        }
        var config = DiscordConfiguration(token: try DiscordToken(raw))
        if let base = env["DISCORD_API_BASE"], !base.isEmpty {
            config.apiBase = try DiscordURL(base, allowed: ["https", "http"], setting: "DISCORD_API_BASE")
        }
        if let gateway = env["DISCORD_GATEWAY_URL"], !gateway.isEmpty {
            config.gatewayURL = try DiscordURL(gateway, allowed: ["wss", "ws"], setting: "DISCORD_GATEWAY_URL")
        }
        if let ca = env["DISCORD_CA_FILE"], !ca.isEmpty {
            guard FileManager.default.isReadableFile(atPath: ca) else {
                throw .invalidConfiguration("DISCORD_CA_FILE: cannot read \(ca)")
            }
            config.caFile = ca
        }
        if let scheme = env["DISCORD_VOICE_SCHEME"], !scheme.isEmpty {
            guard scheme == "wss" || scheme == "ws" else {
                throw .invalidConfiguration("DISCORD_VOICE_SCHEME must be wss or ws, not \(scheme.prefix(16))")
            }
            config.voiceScheme = scheme
        }
        if let guild = env["DISCORD_GUILD_ID"], !guild.isEmpty {
            guard let id = Snowflake(guild) else {
                throw .invalidConfiguration("DISCORD_GUILD_ID must be a numeric guild id, not \(guild.prefix(24))")
            }
            config.commandGuildID = id
        }
        if let count = env["SHARD_COUNT"], !count.isEmpty {
            guard let value = Int(count), (1...1024).contains(value) else {
                throw .invalidConfiguration("SHARD_COUNT must be a number from 1 to 1024, not \(count.prefix(16))")
            }
            config.shardCount = value
        }
        if let ids = env["SHARD_IDS"], !ids.isEmpty {
            guard let count = config.shardCount else {
                throw .invalidConfiguration("SHARD_IDS needs SHARD_COUNT")
            }
            var parsed: [Int] = []
            for part in ids.split(separator: ",") {
                let text = part.trimmingCharacters(in: .whitespaces)
                guard let id = Int(text), (0..<count).contains(id) else {
                    throw .invalidConfiguration("SHARD_IDS: \(text.prefix(16)) is not a shard id below SHARD_COUNT")
                }
                parsed.append(id)
            }
            config.shardIDs = parsed
        }
        return config
    }

    /// The voice gateway URL for a VOICE_SERVER_UPDATE endpoint (`host:port`, no scheme): `wss://host:port/?v=8`,
    /// or `ws://` when `DISCORD_VOICE_SCHEME=ws` and the host is a loopback address.
    public func voiceGatewayURL(endpoint: String) throws(DiscordError) -> DiscordURL {
        let url = try DiscordURL(
            "\(voiceScheme)://\(endpoint)/?v=8", allowed: ["wss", "ws"],
            setting: "voice endpoint")
        return url
    }
}

/// A parsed http(s)/ws(s) URL whose plain-text schemes are allowed only for loopback hosts.
public struct DiscordURL: Sendable, Equatable, CustomStringConvertible {
    public let scheme: String
    public let host: String
    public let port: Int
    /// Path and query, starting with `/`.
    public let path: String
    public let query: String?

    public var isTLS: Bool { scheme == "https" || scheme == "wss" }

    public init(_ text: String, allowed: Set<String>, setting: String = "URL") throws(DiscordError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            throw .invalidConfiguration("\(setting): \(text.prefix(80)) is not a URL")
        }
        guard allowed.contains(scheme) else {
            throw .invalidConfiguration(
                "\(setting): scheme \(scheme) not allowed (use \(allowed.sorted().joined(separator: " or ")))")
        }
        let unbracketed = host.hasPrefix("[") ? String(host.dropFirst().dropLast()) : host
        if scheme == "http" || scheme == "ws", !Self.isLoopback(unbracketed) {
            throw .invalidConfiguration(
                "\(setting): plain \(scheme):// is only allowed for loopback hosts; use \(scheme)s:// for \(host)")
        }
        self.scheme = scheme
        self.host = unbracketed
        port = components.port ?? ((scheme == "https" || scheme == "wss") ? 443 : 80)
        var path = components.percentEncodedPath
        if path.isEmpty { path = "/" }
        self.path = path
        query = components.percentEncodedQuery
    }

    /// `127.0.0.0/8`, `::1` and `localhost`.
    public static func isLoopback(_ host: String) -> Bool {
        let lower = host.lowercased()
        if lower == "localhost" || lower == "::1" { return true }
        let parts = lower.split(separator: ".", omittingEmptySubsequences: false)
        return parts.count == 4 && parts[0] == "127" && parts.allSatisfy { UInt8($0) != nil }
    }

    /// The same URL with the gateway query Discord expects (`v=10&encoding=json`).
    func withGatewayQuery() -> DiscordURL {
        var copy = self
        copy.setQuery("v=10&encoding=json")
        return copy
    }

    private mutating func setQuery(_ value: String) {
        self = DiscordURL(scheme: scheme, host: host, port: port, path: path, query: value)
    }

    private init(scheme: String, host: String, port: Int, path: String, query: String?) {
        self.scheme = scheme
        self.host = host
        self.port = port
        self.path = path
        self.query = query
    }

    /// Path plus query, as sent in an HTTP request line.
    var requestTarget: String { query.map { "\(path)?\($0)" } ?? path }

    var hostForURL: String { host.contains(":") ? "[\(host)]" : host }

    public var description: String {
        let defaultPort = isTLS ? 443 : 80
        let portPart = port == defaultPort ? "" : ":\(port)"
        return "\(scheme)://\(hostForURL)\(portPart)\(requestTarget)"
    }
}
