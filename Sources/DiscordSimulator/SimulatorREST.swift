import Foundation
import NIOCore
import NIOHTTP1

extension DiscordSimulator {
    struct RESTResponse {
        var status: Int
        var body: String
        var headers: [(String, String)] = []
    }

    /// Serves HTTP/1.1 requests (keep-alive) on one connection.
    func serveHTTP(_ channel: NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>) async throws {
        try await channel.executeThenClose { inbound, outbound in
            var head: HTTPRequestHead?
            var body = ByteBuffer()
            for try await part in inbound {
                switch part {
                case let .head(requestHead):
                    head = requestHead
                    body.clear()
                case var .body(chunk):
                    guard body.readableBytes + chunk.readableBytes <= 1 << 20 else {
                        throw CancellationError()
                    }
                    body.writeBuffer(&chunk)
                case .end:
                    guard let request = head else { continue }
                    let response = handleREST(request, body: Data(body.readableBytesView))
                    var headers = HTTPHeaders()
                    headers.add(name: "Content-Type", value: "application/json")
                    headers.add(name: "Content-Length", value: "\(response.body.utf8.count)")
                    for (name, value) in response.headers { headers.add(name: name, value: value) }
                    if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
                    let status = HTTPResponseStatus(statusCode: response.status)
                    try await outbound.write(
                        .head(
                            HTTPResponseHead(
                                version: request.version, status: status,
                                headers: headers)))
                    try await outbound.write(.body(.byteBuffer(ByteBuffer(string: response.body))))
                    try await outbound.write(.end(nil))
                    if !request.isKeepAlive { return }
                    head = nil
                }
            }
        }
    }

    private static let unauthorized = RESTResponse(status: 401, body: #"{"message": "401: Unauthorized", "code": 0}"#)

    static func notFound(_ code: Int = 0, _ message: String = "404: Not Found") -> RESTResponse {
        RESTResponse(status: 404, body: SimJSON.encode(["message": message, "code": code] as [String: Any]))
    }

    func handleREST(_ head: HTTPRequestHead, body: Data) -> RESTResponse {
        let path = head.uri.split(separator: "?", maxSplits: 1).first.map(String.init) ?? head.uri
        let method = head.method.rawValue
        var headers: [String: String] = [:]
        for (name, value) in head.headers { headers[name.lowercased()] = value }
        return state.withLock { state in
            let response = route(&state, method: method, path: path, headers: headers, body: body)
            state.requests.append(
                .init(
                    method: method, path: path, headers: headers,
                    body: String(decoding: body, as: UTF8.self), status: response.status))
            if response.status == 429 { state.tooManyRequests += 1 }
            return response
        }
    }

    private func route(
        _ state: inout SimState, method: String, path: String, headers: [String: String],
        body: Data
    ) -> RESTResponse {
        guard path.hasPrefix("/api/v10/") else { return Self.notFound() }
        let parts = path.dropFirst("/api/v10/".count).split(separator: "/").map(String.init)
        // Interaction callbacks and webhooks are authorised by their token, not the bot token.
        let tokenRoutes = parts.first == "interactions" || parts.first == "webhooks"
        var caller: SimState.User?
        if !tokenRoutes {
            guard let authorization = headers["authorization"], authorization.hasPrefix("Bot "),
                let user = state.users.values.first(where: { $0.bot && $0.token == String(authorization.dropFirst(4)) })
            else { return Self.unauthorized }
            caller = user
        }
        if state.pending429.count > 0 {
            state.pending429.count -= 1
            let retry = state.pending429.retryAfter
            let global = state.pending429.global
            return RESTResponse(
                status: 429,
                body: SimJSON.encode(
                    [
                        "message": "You are being rate limited.", "retry_after": retry, "global": global,
                    ] as [String: Any]),
                headers: [
                    ("Retry-After", "\(Int(retry.rounded(.up)))"), ("X-RateLimit-Scope", global ? "global" : "shared"),
                ] + (global ? [("X-RateLimit-Global", "true")] : []))
        }
        switch (method, parts.count) {
        case ("GET", 2) where parts == ["users", "@me"]:
            guard let caller else { return Self.unauthorized }
            return RESTResponse(status: 200, body: SimJSON.encode(state.userJSON(caller.id)))
        case ("GET", 3) where parts == ["oauth2", "applications", "@me"]:
            guard let caller else { return Self.unauthorized }
            return RESTResponse(status: 200, body: SimJSON.encode(applicationJSON(state, botID: caller.id)))
        case ("GET", 2) where parts == ["gateway", "bot"]:
            return RESTResponse(
                status: 200,
                body: SimJSON.encode(
                    [
                        "url": gatewayURL, "shards": configuration.recommendedShards,
                        "session_start_limit": [
                            "total": configuration.sessionStartTotal, "remaining": state.sessionStartsRemaining,
                            "reset_after": 86_400_000, "max_concurrency": configuration.maxConcurrency,
                        ],
                    ] as [String: Any]))
        case ("GET", 1) where parts == ["gateway"]:
            return RESTResponse(status: 200, body: SimJSON.encode(["url": gatewayURL]))
        case ("POST", 3) where parts[0] == "channels" && parts[2] == "messages":
            guard let caller, let channelID = UInt64(parts[1]) else { return Self.notFound(10003, "Unknown Channel") }
            return createMessage(&state, channelID: channelID, authorID: caller.id, body: body)
        case ("PUT", 3) where parts[0] == "applications" && parts[2] == "commands",
            ("PUT", 5) where parts[0] == "applications" && parts[2] == "guilds" && parts[4] == "commands":
            return overwriteCommands(&state, scope: parts.count == 5 ? parts[3] : "global", body: body)
        case ("GET", 3) where parts[0] == "applications" && parts[2] == "commands",
            ("GET", 5) where parts[0] == "applications" && parts[2] == "guilds" && parts[4] == "commands":
            return RESTResponse(
                status: 200,
                body: SimJSON.encode(
                    state.commands[parts.count == 5 ? parts[3] : "global"]
                        ?? []))
        case ("POST", 4) where parts[0] == "interactions" && parts[3] == "callback":
            return interactionCallback(&state, id: parts[1], token: parts[2], body: body)
        case ("PATCH", 5) where parts[0] == "webhooks" && parts[3] == "messages" && parts[4] == "@original",
            ("POST", 3) where parts[0] == "webhooks":
            return webhook(&state, token: parts[2], edit: method == "PATCH", body: body)
        default:
            return Self.notFound()
        }
    }

    private func applicationJSON(_ state: SimState, botID: UInt64) -> [String: Any] {
        [
            "id": String(state.applicationID), "name": configuration.botName, "icon": NSNull(), "description": "",
            "rpc_origins": [String](), "bot_public": true, "bot_require_code_grant": false, "verify_key": "0",
            "flags": applicationFlags, "owner": state.userJSON(botID),
            "team": NSNull(), "bot": state.userJSON(botID), "summary": "",
        ]
    }

    /// The "LIMITED" gateway flags (bots in under 100 servers) for the enabled privileged intents
    /// (`resources/application.mdx`, Application Flags).
    private var applicationFlags: Int {
        let enabled = configuration.enabledPrivilegedIntents
        return (enabled & GatewayIntent.guildPresences != 0 ? 1 << 13 : 0)
            | (enabled & GatewayIntent.guildMembers != 0 ? 1 << 15 : 0)
            | (enabled & GatewayIntent.messageContent != 0 ? 1 << 19 : 0)
    }

    private func createMessage(
        _ state: inout SimState, channelID: UInt64, authorID: UInt64,
        body: Data
    ) -> RESTResponse {
        guard let guildID = state.channelGuild[channelID] else { return Self.notFound(10003, "Unknown Channel") }
        // Per-channel bucket, as Discord's headers describe it.
        let now = Date()
        var bucket =
            state.buckets[channelID]
            ?? .init(
                remaining: configuration.messageLimit,
                resetAt: now.addingTimeInterval(configuration.messageWindowSeconds))
        if now >= bucket.resetAt {
            bucket = .init(
                remaining: configuration.messageLimit,
                resetAt: now.addingTimeInterval(configuration.messageWindowSeconds))
        }
        let resetAfter = max(0, bucket.resetAt.timeIntervalSince(now))
        func limitHeaders(_ remaining: Int) -> [(String, String)] {
            [
                ("X-RateLimit-Limit", "\(configuration.messageLimit)"), ("X-RateLimit-Remaining", "\(remaining)"),
                ("X-RateLimit-Reset", String(format: "%.3f", bucket.resetAt.timeIntervalSince1970)),
                ("X-RateLimit-Reset-After", String(format: "%.3f", resetAfter)),
                ("X-RateLimit-Bucket", "b7c1e2f0message"),
            ]
        }
        guard bucket.remaining > 0 else {
            state.buckets[channelID] = bucket
            return RESTResponse(
                status: 429,
                body: SimJSON.encode(
                    [
                        "message": "You are being rate limited.", "retry_after": resetAfter, "global": false,
                    ] as [String: Any]),
                headers: limitHeaders(0) + [
                    ("Retry-After", "\(Int(resetAfter.rounded(.up)))"),
                    ("X-RateLimit-Scope", "user"),
                ])
        }
        guard let json = SimJSON.decodeObject(body) else {
            return RESTResponse(status: 400, body: #"{"message": "400: Bad Request", "code": 50109}"#)
        }
        let content = json["content"] as? String ?? ""
        guard !content.isEmpty, content.unicodeScalars.count <= 2000 else {
            return RESTResponse(
                status: 400,
                body: SimJSON.encode(
                    [
                        "message": "Invalid Form Body", "code": 50035,
                        "errors": [
                            "content": [
                                "_errors": [
                                    [
                                        "code": "BASE_TYPE_MAX_LENGTH",
                                        "message": "Must be 2000 or fewer in length.",
                                    ]
                                ]
                            ]
                        ],
                    ] as [String: Any]))
        }
        bucket.remaining -= 1
        state.buckets[channelID] = bucket
        let nonce = (json["nonce"] as? String) ?? (json["nonce"] as? NSNumber).map { $0.stringValue }
        let enforce = json["enforce_nonce"] as? Bool ?? false
        let parse = (json["allowed_mentions"] as? [String: Any])?["parse"] as? [String]
        if enforce, let nonce, let existing = state.nonces["\(authorID):\(nonce)"] {
            return RESTResponse(status: 200, body: existing, headers: limitHeaders(bucket.remaining))
        }
        let id = state.ids.next()
        let message = state.messageJSON(
            id: id, channelID: channelID, authorID: authorID, content: content,
            nonce: json["nonce"])
        let encoded = SimJSON.encode(message)
        if enforce, let nonce { state.nonces["\(authorID):\(nonce)"] = encoded }
        state.messages.append(
            .init(
                id: id, channelID: channelID, authorID: authorID, content: content,
                allowedMentionsParse: parse, nonce: nonce, enforceNonce: enforce))
        broadcastMessage(&state, guildID: guildID, message: message, authorID: authorID)
        return RESTResponse(status: 200, body: encoded, headers: limitHeaders(bucket.remaining))
    }

    private func interactionCallback(_ state: inout SimState, id: String, token: String, body: Data) -> RESTResponse {
        guard let interactionID = UInt64(id), var interaction = state.interactions[interactionID],
            interaction.token == token
        else { return Self.notFound(10062, "Unknown interaction") }
        let age = Date().timeIntervalSince(interaction.createdAt)
        guard age <= configuration.interactionDeadlineSeconds else {
            return Self.notFound(10062, "Unknown interaction")
        }
        guard !interaction.acknowledged else {
            return RESTResponse(
                status: 400,
                body:
                    #"{"message": "Interaction has already been acknowledged.", "code": 40060}"#)
        }
        guard let json = SimJSON.decodeObject(body), let type = json["type"] as? Int, [4, 5].contains(type) else {
            return RESTResponse(status: 400, body: #"{"message": "Invalid Form Body", "code": 50035}"#)
        }
        interaction.acknowledged = true
        state.interactions[interactionID] = interaction
        let data = json["data"] as? [String: Any]
        state.interactionResponses.append(
            .init(
                interactionID: interactionID, type: type, content: data?["content"] as? String,
                flags: data?["flags"] as? Int ?? 0,
                allowedMentionsParse: (data?["allowed_mentions"] as? [String: Any])?["parse"] as? [String],
                secondsAfterCreate: age))
        return RESTResponse(status: 204, body: "")
    }

    private func webhook(_ state: inout SimState, token: String, edit: Bool, body: Data) -> RESTResponse {
        guard let interaction = state.interactions.values.first(where: { $0.token == token }), interaction.acknowledged
        else { return Self.notFound(10015, "Unknown Webhook") }
        let json = SimJSON.decodeObject(body) ?? [:]
        let content = json["content"] as? String
        state.interactionResponses.append(
            .init(
                interactionID: interaction.id, type: edit ? 0 : -1, content: content, flags: json["flags"] as? Int ?? 0,
                allowedMentionsParse: (json["allowed_mentions"] as? [String: Any])?["parse"] as? [String],
                secondsAfterCreate: Date().timeIntervalSince(interaction.createdAt)))
        let messageID = state.ids.next()
        let message = state.messageJSON(
            id: messageID, channelID: interaction.channelID,
            authorID: interaction.applicationID, content: content ?? "", nonce: nil)
        return RESTResponse(status: 200, body: SimJSON.encode(message))
    }
}
