import Foundation

/// Scripted users, faults and observations.
extension DiscordSimulator {
    /// A guild as the tests see it.
    public struct GuildInfo: Sendable {
        public var id: UInt64
        public var textChannelID: UInt64
        public var voiceChannelIDs: [UInt64]
        public var humanIDs: [UInt64]
    }

    public var guilds: [GuildInfo] {
        state.withLock { state in
            state.guildOrder.compactMap { id in
                guard let guild = state.guilds[id] else { return nil }
                return GuildInfo(
                    id: id, textChannelID: guild.channels.first { $0.type == 0 }?.id ?? 0,
                    voiceChannelIDs: guild.channels.filter { $0.type == 2 }.map(\.id),
                    humanIDs: guild.memberIDs.filter { state.users[$0]?.bot == false })
            }
        }
    }

    /// Adds a member (a human unless `bot`) to a guild; returns the user id. Sends GUILD_MEMBER_ADD.
    @discardableResult
    public func addMember(guildID: UInt64, name: String, bot: Bool = false) -> UInt64 {
        state.withLock { state in
            let id = state.ids.next()
            state.users[id] = .init(id: id, username: name, bot: bot)
            state.guilds[guildID]?.memberIDs.append(id)
            var member = state.memberJSON(id)
            member["guild_id"] = String(guildID)
            broadcast(&state, guildID: guildID, event: "GUILD_MEMBER_ADD", data: SimJSON.encode(member))
            return id
        }
    }

    /// A user joins (or moves to) a voice channel: VOICE_STATE_UPDATE to the guild's shards.
    public func userJoinsVoice(userID: UInt64, guildID: UInt64, channelID: UInt64) {
        state.withLock { state in
            let session = UUID().uuidString.prefix(32).lowercased()
            state.guilds[guildID]?.voice[userID] = (channelID, session)
            broadcast(
                &state, guildID: guildID, event: "VOICE_STATE_UPDATE",
                data: SimJSON.encode(
                    state.voiceStateJSON(guildID: guildID, userID: userID, channelID: channelID, session: session)))
        }
    }

    /// A user leaves voice in a guild.
    public func userLeavesVoice(userID: UInt64, guildID: UInt64) {
        state.withLock { state in
            let session = state.guilds[guildID]?.voice[userID]?.session ?? "gone"
            state.guilds[guildID]?.voice[userID] = nil
            broadcast(
                &state, guildID: guildID, event: "VOICE_STATE_UPDATE",
                data: SimJSON.encode(
                    state.voiceStateJSON(guildID: guildID, userID: userID, channelID: nil, session: session)))
        }
    }

    /// A user types a message: MESSAGE_CREATE. Returns the message id.
    @discardableResult
    public func userSendsMessage(userID: UInt64, channelID: UInt64, content: String) -> UInt64 {
        state.withLock { state in
            let id = state.ids.next()
            let message = state.messageJSON(
                id: id, channelID: channelID, authorID: userID, content: content,
                nonce: nil)
            if let guildID = state.channelGuild[channelID] {
                broadcastMessage(&state, guildID: guildID, message: message, authorID: userID)
            }
            return id
        }
    }

    /// A user invokes a slash command: INTERACTION_CREATE (type 2). Returns the interaction id, or 0 when
    /// Discord's client would not send it: an unknown channel, or (for a registered command) a missing required
    /// option or a value longer than the option's `max_length` / shorter than its `min_length`.
    @discardableResult
    public func userInvokesCommand(
        userID: UInt64, channelID: UInt64, name: String,
        options: [String: String] = [:]
    ) -> UInt64 {
        state.withLock { state in
            guard let guildID = state.channelGuild[channelID] else { return 0 }
            let definition = (state.commandDefinitions[String(guildID)] ?? state.commandDefinitions["global"] ?? [])
                .first { $0.name == name }
            for option in definition?.options ?? [] {
                guard let value = options[option.name] else {
                    if option.required { return 0 }
                    continue
                }
                if let limit = option.maxLength, value.count > limit { return 0 }
                if let minimum = option.minLength, value.count < minimum { return 0 }
            }
            let id = state.ids.next()
            let token = "aW50ZXJhY3Rpb246" + UUID().uuidString.replacingOccurrences(of: "-", with: "")
            state.interactions[id] = .init(
                id: id, token: token, applicationID: state.applicationID,
                createdAt: Date(), channelID: channelID)
            let commandID =
                (state.commands[String(guildID)] ?? state.commands["global"] ?? [])
                .first { $0["name"] as? String == name }?["id"] as? String ?? "0"
            var member = state.memberJSON(userID)
            member["permissions"] = "104324673"
            let interaction: [String: Any] = [
                "id": String(id), "application_id": String(state.applicationID), "type": 2, "token": token,
                "version": 1, "guild_id": String(guildID), "channel_id": String(channelID), "member": member,
                "locale": "en-US", "guild_locale": "en-US", "app_permissions": "104324673", "entitlements": [Any](),
                "authorizing_integration_owners": ["0": String(guildID)], "context": 0,
                "channel": ["id": String(channelID), "type": 0] as [String: Any],
                "data": [
                    "id": commandID, "name": name, "type": 1,
                    "options": options.sorted { $0.key < $1.key }.map {
                        ["name": $0.key, "type": 3, "value": $0.value] as [String: Any]
                    },
                ] as [String: Any],
            ]
            broadcast(&state, guildID: guildID, event: "INTERACTION_CREATE", data: SimJSON.encode(interaction))
            return id
        }
    }

    // MARK: - Faults

    /// Closes every gateway connection with `code` (any code, as Discord would).
    public func closeGateway(code: UInt16) {
        state.withLock { state in
            for connection in state.connections.values where !connection.remoteClosed && !connection.serverClosed {
                state.connections[connection.id]?.serverClosed = true
                state.serverCloseCodes.append(Int(code))
                connection.outbox.yield(.close(code))
                if code == 4007 || code == 4009 || code >= 4010, let sessionID = connection.sessionID {
                    state.sessions[sessionID]?.valid = false
                }
            }
        }
    }

    /// Drops every gateway TCP connection without a close frame; sessions stay resumable.
    public func dropGatewayConnections() {
        state.withLock { state in
            for connection in state.connections.values { connection.outbox.yield(.drop) }
        }
    }

    /// op 7 Reconnect to every connection.
    public func sendReconnect() {
        broadcastRaw(#"{"op":7,"d":null,"s":null,"t":null}"#)
    }

    /// op 9 Invalid Session; `resumable: false` also forgets the sessions.
    public func sendInvalidSession(resumable: Bool) {
        state.withLock { state in
            for connection in state.connections.values {
                connection.outbox.yield(.text(#"{"op":9,"d":\#(resumable),"s":null,"t":null}"#))
                if !resumable, let sessionID = connection.sessionID { state.sessions[sessionID]?.valid = false }
            }
        }
    }

    /// op 1 from the server: clients must heartbeat at once.
    public func requestHeartbeat() {
        broadcastRaw(#"{"op":1,"d":null,"s":null,"t":null}"#)
    }

    /// While `true`, heartbeats get no op 11 ACK.
    public func withholdHeartbeatAcks(_ withhold: Bool) {
        state.withLock { $0.withholdHeartbeatAcks = withhold }
    }

    /// The next `count` REST requests are answered 429 (`global` or `shared` scope).
    public func inject429s(count: Int, global: Bool, retryAfter: Double = 0.2) {
        state.withLock { $0.pending429 = (count, global, retryAfter) }
    }

    private func broadcastRaw(_ text: String) {
        state.withLock { state in
            for connection in state.connections.values { connection.outbox.yield(.text(text)) }
        }
    }

    // MARK: - Observations

    public var recordedRequests: [RecordedRequest] { state.withLock { $0.requests } }
    public var postedMessages: [PostedMessage] { state.withLock { $0.messages } }
    public var interactionResponses: [InteractionResponse] { state.withLock { $0.interactionResponses } }
    public var receivedPayloads: [ReceivedGatewayPayload] { state.withLock { $0.received } }
    /// Close codes the clients sent (`nil` = the TCP connection ended without a close frame).
    public var clientCloseCodes: [Int?] { state.withLock { $0.clientCloseCodes } }
    public var serverCloseCodes: [Int] { state.withLock { $0.serverCloseCodes } }
    public var tooManyRequestsCount: Int { state.withLock { $0.tooManyRequests } }
    public var connectionCount: Int { state.withLock { $0.connections.count } }
    /// The user id of the bot that logs in with `token` (the main bot or one of `extraBotTokens`).
    public func botUserID(forToken token: String) -> UInt64? {
        state.withLock { state in state.users.values.first { $0.bot && $0.token == token }?.id }
    }
    /// Commands registered for `scope` (a guild id, or "global").
    public func registeredCommandNames(scope: String) -> [String] {
        state.withLock { $0.commands[scope]?.compactMap { $0["name"] as? String } ?? [] }
    }
    /// Commands registered for `scope` (a guild id, or "global"), with their options and contexts as stored.
    public func registeredCommands(scope: String) -> [SimulatedCommand] {
        state.withLock { $0.commandDefinitions[scope] ?? [] }
    }
    /// The voice channel of `userID` in `guildID` as the simulator sees it.
    public func voiceChannel(of userID: UInt64, guildID: UInt64) -> UInt64? {
        state.withLock { $0.guilds[guildID]?.voice[userID]?.channel }
    }

    /// Polls `condition` every 10 ms until it holds or `timeout` passes; returns whether it held.
    public func waitUntil(timeout: Duration = .seconds(10), _ condition: () -> Bool) async -> Bool {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while clock.now < deadline {
            if condition() { return true }
            try? await Task.sleep(for: .milliseconds(10))
        }
        return condition()
    }
}
