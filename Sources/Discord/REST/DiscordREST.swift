import AsyncHTTPClient
import Foundation
import Logging
import NIOCore
import NIOHTTP1
import Realtime

/// Discord's REST API on AsyncHTTPClient: `Authorization: Bot …`, the `DiscordBot (url, version)` User-Agent,
/// per-route buckets, global and shared 429s, and idempotent retries. Logs and errors name the route template,
/// never the concrete path (it can hold an interaction token) and never the bot token.
public final class DiscordREST: Sendable {
    let configuration: DiscordConfiguration
    private let client: HTTPClient
    let limiter: RESTRateLimiter
    let scheduler: any GatewayScheduler
    let logger: Logger
    private let userAgent: String
    static let maxResponseBytes = 8 << 20
    static let maxAttempts = 5
    /// Tries to open a connection before Discord counts as unreachable: a dead endpoint is reported in about a
    /// second rather than after minutes of retries (429s and 5xx keep their own, longer, handling).
    static let connectAttempts = 3

    public init(
        configuration: DiscordConfiguration, logger: Logger,
        scheduler: any GatewayScheduler = SystemScheduler(),
        eventLoopGroup: any EventLoopGroup = HTTPClient.defaultEventLoopGroup
    ) throws(DiscordError) {
        self.configuration = configuration
        var httpConfiguration = HTTPClient.Configuration(
            tlsConfiguration: try DiscordTLS.makeConfiguration(caFile: configuration.caFile),
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: .seconds(30)))
        httpConfiguration.httpVersion = .http1Only
        // AsyncHTTPClient would otherwise retry a refused connection with backoff until the connect timeout,
        // for every attempt; `perform` bounds connection retries itself.
        httpConfiguration.connectionPool.retryConnectionEstablishment = false
        client = HTTPClient(eventLoopGroup: eventLoopGroup, configuration: httpConfiguration)
        limiter = RESTRateLimiter(scheduler: scheduler)
        self.scheduler = scheduler
        var logger = logger
        logger[metadataKey: "component"] = "rest"
        self.logger = logger
        userAgent = "DiscordBot (\(configuration.userAgentURL), \(configuration.userAgentVersion))"
    }

    /// Closes the connection pool. Call once, when done.
    public func shutdown() async {
        try? await client.shutdown()
    }

    // MARK: - Endpoints

    public func currentUser() async throws -> DiscordUser {
        try await request(.currentUser(), as: DiscordUser.self)
    }

    public func currentApplication() async throws -> DiscordApplication {
        try await request(.currentApplication(), as: DiscordApplication.self)
    }

    public func gatewayBot() async throws -> GatewayBotInfo {
        try await request(.gatewayBot(), as: GatewayBotInfo.self)
    }

    /// Posts `text` to a channel: split into messages of at most 2000 characters at sentence or word boundaries,
    /// every one with mentions disabled (`allowed_mentions: {"parse": []}`) and a nonce that makes retries
    /// idempotent. Returns the created messages in order.
    @discardableResult
    public func sendMessage(channelID: Snowflake, text: String) async throws -> [DiscordMessage] {
        var sent: [DiscordMessage] = []
        for chunk in MessageSplitter.split(text) {
            let body = MessageCreateBody(content: chunk, nonce: Self.makeNonce())
            sent.append(try await request(.createMessage(channel: channelID), body: body, as: DiscordMessage.self))
        }
        return sent
    }

    /// Registers the bot's slash commands by bulk overwrite: guild-scoped (visible at once) when `guildID` is set,
    /// global otherwise. `contexts` and `integration_types` go with global commands only, the only ones Discord
    /// reads them for.
    @discardableResult
    public func overwriteCommands(
        applicationID: Snowflake, guildID: Snowflake?,
        commands: [ApplicationCommand]
    ) async throws -> [RegisteredCommand] {
        try await request(
            .bulkOverwriteCommands(application: applicationID, guild: guildID),
            body: guildID == nil ? commands : commands.map(\.guildScoped),
            as: [RegisteredCommand].self)
    }

    /// Answers an interaction with a message (type 4); `ephemeral` shows it only to the invoker (flag 64).
    public func reply(to interaction: Interaction, text: String, ephemeral: Bool) async throws {
        let chunks = MessageSplitter.split(text)
        let body = InteractionResponseBody(type: 4, data: .init(content: chunks.first ?? "…", ephemeral: ephemeral))
        try await requestNoContent(.interactionCallback(id: interaction.id, token: interaction.token), body: body)
        try await sendFollowups(chunks.dropFirst(), interaction: interaction, ephemeral: ephemeral)
    }

    /// Acknowledges an interaction now and answers later (type 5, "thinking…").
    public func deferReply(to interaction: Interaction, ephemeral: Bool) async throws {
        let body = InteractionResponseBody(type: 5, data: ephemeral ? .init(content: nil, ephemeral: true) : nil)
        try await requestNoContent(.interactionCallback(id: interaction.id, token: interaction.token), body: body)
    }

    /// Replaces the deferred response's content.
    public func editReply(to interaction: Interaction, text: String, ephemeral: Bool) async throws {
        let chunks = MessageSplitter.split(text)
        let body = WebhookEditBody(content: chunks.first ?? "…")
        try await requestNoContent(
            .editOriginalResponse(
                application: interaction.applicationId,
                token: interaction.token), body: body)
        try await sendFollowups(chunks.dropFirst(), interaction: interaction, ephemeral: ephemeral)
    }

    /// Answers within Discord's 3-second window whatever `produce` takes: the answer itself when it is ready
    /// within `deferAfter`, else a deferred response at once and the answer as an edit when it is ready.
    public func respond(
        to interaction: Interaction, ephemeral: Bool, deferAfter: Duration = .milliseconds(2000),
        produce: @escaping @Sendable () async -> String
    ) async throws {
        // A race that returns as soon as either side is done: a task group would also wait for the slow side.
        let (firstDone, done) = AsyncStream<String?>.makeStream(bufferingPolicy: .bufferingNewest(2))
        let answer = Task {
            let text = await produce()
            done.yield(text)
            return text
        }
        let timer = Task {
            try? await Task.sleep(for: deferAfter)
            done.yield(nil)
        }
        var iterator = firstDone.makeAsyncIterator()
        let early = await iterator.next() ?? nil
        timer.cancel()
        if let early {
            try await reply(to: interaction, text: early, ephemeral: ephemeral)
            return
        }
        try await deferReply(to: interaction, ephemeral: ephemeral)
        try await editReply(to: interaction, text: await answer.value, ephemeral: ephemeral)
    }

    private func sendFollowups(_ chunks: ArraySlice<String>, interaction: Interaction, ephemeral: Bool) async throws {
        for chunk in chunks {
            let body = InteractionResponseBody.Data(content: chunk, ephemeral: ephemeral)
            try await requestNoContent(
                .followup(application: interaction.applicationId, token: interaction.token),
                body: body)
        }
    }

    static func makeNonce() -> String {
        // Discord nonces are at most 25 characters.
        String(UInt64.random(in: 1...UInt64.max), radix: 36)
    }

    // MARK: - Transport

    func request<T: Decodable>(_ route: RESTRoute, as type: T.Type) async throws -> T {
        try decode(route, try await perform(route, body: nil), as: type)
    }

    func request<B: Encodable, T: Decodable>(_ route: RESTRoute, body: B, as type: T.Type) async throws -> T {
        try decode(route, try await perform(route, body: try GatewayJSON.encoder().encode(body)), as: type)
    }

    func requestNoContent<B: Encodable>(_ route: RESTRoute, body: B) async throws {
        _ = try await perform(route, body: try GatewayJSON.encoder().encode(body))
    }

    private func decode<T: Decodable>(_ route: RESTRoute, _ data: Data, as type: T.Type) throws -> T {
        do {
            return try GatewayJSON.decoder().decode(T.self, from: data)
        } catch {
            throw DiscordError.malformedResponse(
                route: route.name,
                reason: String(describing: error).prefix(200)
                    .description)
        }
    }

    /// Sends with rate limiting and retries; returns the body of a 2xx answer.
    private func perform(_ route: RESTRoute, body: Data?) async throws -> Data {
        var attempt = 0
        var connectFailures = 0
        while true {
            attempt += 1
            try await limiter.acquire(route)
            let response: HTTPClientResponse
            let payload: ByteBuffer
            do {
                var request = HTTPClientRequest(
                    url: configuration.apiBase.description
                        .trimmingSuffix("/") + route.path)
                request.method = HTTPMethod(rawValue: route.method)
                request.headers.add(name: "Authorization", value: configuration.token.authorizationHeader)
                request.headers.add(name: "User-Agent", value: userAgent)
                if let body {
                    request.headers.add(name: "Content-Type", value: "application/json")
                    request.body = .bytes(ByteBuffer(bytes: body))
                }
                response = try await client.execute(request, timeout: .seconds(30))
                payload = try await response.body.collect(upTo: Self.maxResponseBytes)
            } catch {
                await limiter.abandon(route)
                if !(error is CancellationError), let reason = ConnectFailure.reason(error) {
                    // Nothing reached Discord, so even a non-idempotent request may be tried again.
                    connectFailures += 1
                    guard connectFailures < Self.connectAttempts else {
                        throw DiscordError.unreachable(
                            url: configuration.apiBase.description, reason: reason, attempts: connectFailures,
                            setting: "DISCORD_API_BASE")
                    }
                    logger.warning(
                        "cannot connect to Discord; retrying",
                        metadata: ["route": "\(route.name)", "reason": "\(reason)"])
                    try await scheduler.sleep(nanoseconds: UInt64(connectFailures) * 250_000_000)
                    continue
                }
                guard route.idempotent, attempt < Self.maxAttempts, !(error is CancellationError) else {
                    throw DiscordError.connectionFailed(url: route.name, reason: String(describing: error))
                }
                logger.warning(
                    "REST request failed; retrying",
                    metadata: [
                        "route": "\(route.name)",
                        "error": "\(error)",
                    ])
                try await scheduler.sleep(nanoseconds: UInt64(attempt) * 500_000_000)
                continue
            }
            let status = Int(response.status.code)
            let data = Data(payload.readableBytesView)
            let headers = Self.rateLimitHeaders(response.headers)
            let retryAfter = status == 429 ? Self.retryAfter(data, headers: response.headers) : nil
            let wait = await limiter.update(route, status: status, headers: headers, retryAfter: retryAfter)
            switch status {
            case 200..<300:
                return data.isEmpty ? Data("{}".utf8) : data
            case 429:
                logger.warning(
                    "rate limited (429)",
                    metadata: [
                        "route": "\(route.name)", "scope": "\(headers.scope ?? (headers.isGlobal ? "global" : "user"))",
                        "retry_after": "\(retryAfter ?? 0)",
                    ])
                guard attempt < Self.maxAttempts else {
                    throw DiscordError.rateLimitRetriesExhausted(route: route.name)
                }
                try await scheduler.sleep(nanoseconds: wait ?? 1_000_000_000)
            case 401:
                throw DiscordError.unauthorized(route: route.name)
            case 500..<600 where route.idempotent && attempt < Self.maxAttempts:
                logger.warning(
                    "Discord server error; retrying",
                    metadata: [
                        "route": "\(route.name)",
                        "status": "\(status)",
                    ])
                try await scheduler.sleep(nanoseconds: UInt64(attempt) * 500_000_000)
            default:
                throw DiscordError.httpStatus(route: route.name, status: status, message: Self.errorMessage(data))
            }
        }
    }

    static func rateLimitHeaders(_ headers: HTTPHeaders) -> RESTRateLimiter.Headers {
        RESTRateLimiter.Headers(
            bucket: headers.first(name: "X-RateLimit-Bucket"),
            limit: headers.first(name: "X-RateLimit-Limit").flatMap { Int($0) },
            remaining: headers.first(name: "X-RateLimit-Remaining").flatMap { Int($0) },
            resetAfter: headers.first(name: "X-RateLimit-Reset-After").flatMap { Double($0) },
            isGlobal: headers.first(name: "X-RateLimit-Global")?.lowercased() == "true",
            scope: headers.first(name: "X-RateLimit-Scope"))
    }

    private struct RateLimitBody: Decodable {
        var retryAfter: Double?
        var global: Bool?
    }

    static func retryAfter(_ data: Data, headers: HTTPHeaders) -> Double? {
        if let body = try? GatewayJSON.decoder().decode(RateLimitBody.self, from: data), let value = body.retryAfter {
            return value
        }
        return headers.first(name: "Retry-After").flatMap { Double($0) }
    }

    private struct ErrorBody: Decodable {
        var message: String?
        var code: Int?
    }

    static func errorMessage(_ data: Data) -> String {
        if let body = try? GatewayJSON.decoder().decode(ErrorBody.self, from: data), let message = body.message {
            return "\(message.prefix(200)) (code \(body.code ?? 0))"
        }
        return "no error message"
    }
}

extension String {
    fileprivate func trimmingSuffix(_ suffix: String) -> String {
        hasSuffix(suffix) ? String(dropLast(suffix.count)) : self
    }
}
