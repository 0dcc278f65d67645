import Foundation
import NIOCore
import NIOWebSocket

extension DiscordSimulator {
    /// One gateway connection: Hello, then the client's payloads, with Discord's limits enforced.
    func serveGateway(_ channel: NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, uri: String) async {
        let (outbox, continuation) = AsyncStream<SimOutgoing>.makeStream()
        let connectionID = state.withLock { state in
            let id = state.nextConnectionID
            state.nextConnectionID += 1
            state.connections[id] = .init(id: id, outbox: continuation)
            return id
        }
        defer {
            state.withLock { state in
                if let sessionID = state.connections[connectionID]?.sessionID,
                    state.sessions[sessionID]?.connectionID == connectionID
                {
                    state.sessions[sessionID]?.connectionID = nil
                }
                state.connections[connectionID] = nil
            }
            continuation.finish()
        }
        if !uri.contains("v=10") {
            logger.debug("gateway connection without v=10", metadata: ["uri": "\(uri)"])
        }
        continuation.yield(
            .text(
                SimJSON.encode(
                    [
                        "op": 10, "d": ["heartbeat_interval": configuration.heartbeatIntervalMillis], "s": NSNull(),
                        "t": NSNull(),
                    ] as [String: Any])))
        try? await channel.executeThenClose { inbound, outbound in
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    for await item in outbox {
                        switch item {
                        case let .text(text):
                            try await outbound.write(
                                WebSocketFrame(
                                    fin: true, opcode: .text,
                                    data: ByteBuffer(string: text)))
                        case let .close(code):
                            var data = ByteBuffer()
                            data.writeInteger(code)
                            try? await outbound.write(WebSocketFrame(fin: true, opcode: .connectionClose, data: data))
                            try? await channel.channel.close()
                            return
                        case .drop:
                            try? await channel.channel.close()
                            return
                        }
                    }
                }
                group.addTask {
                    do {
                        for try await frame in inbound {
                            switch frame.opcode {
                            case .text, .binary:
                                self.receive(frame.unmaskedData, connectionID: connectionID)
                            case .connectionClose:
                                var data = frame.unmaskedData
                                let code = data.readInteger(as: UInt16.self).map(Int.init)
                                self.clientClosed(connectionID: connectionID, code: code)
                                var echo = ByteBuffer()
                                echo.writeInteger(UInt16(code ?? 1000))
                                try? await outbound.write(
                                    WebSocketFrame(
                                        fin: true, opcode: .connectionClose,
                                        data: echo))
                                continuation.yield(.drop)
                                return
                            case .ping:
                                try await outbound.write(
                                    WebSocketFrame(
                                        fin: true, opcode: .pong,
                                        data: frame.unmaskedData))
                            default:
                                break
                            }
                        }
                    } catch {}
                    self.clientClosed(connectionID: connectionID, code: nil)
                    continuation.yield(.drop)
                }
                _ = try await group.next()
                _ = try await group.next()
            }
        }
    }

    private func clientClosed(connectionID: Int, code: Int?) {
        state.withLock { state in
            guard var connection = state.connections[connectionID], !connection.remoteClosed else { return }
            connection.remoteClosed = true
            state.connections[connectionID] = connection
            state.clientCloseCodes.append(code)
            // A 1000/1001 close from the client ends its session (it cannot resume).
            if let code, code == 1000 || code == 1001, let sessionID = connection.sessionID {
                state.sessions[sessionID]?.valid = false
            }
        }
    }

    /// Closes one connection with `code`, as Discord does.
    private func close(_ state: inout SimState, connectionID: Int, code: UInt16) {
        guard let connection = state.connections[connectionID] else { return }
        state.serverCloseCodes.append(Int(code))
        connection.outbox.yield(.close(code))
        if code == 4007 || code == 4009, let sessionID = connection.sessionID {
            state.sessions[sessionID]?.valid = false
        }
    }

    private func receive(_ buffer: ByteBuffer, connectionID: Int) {
        let data = Data(buffer.readableBytesView)
        state.withLock { state in
            guard var connection = state.connections[connectionID], !connection.remoteClosed else { return }
            let now = Date()
            connection.sendTimes = connection.sendTimes.filter { now.timeIntervalSince($0) < 60 }
            connection.sendTimes.append(now)
            state.connections[connectionID] = connection
            if data.count > configuration.maxPayloadBytes {
                return close(&state, connectionID: connectionID, code: 4002)
            }
            if connection.sendTimes.count > configuration.maxSendsPerMinute {
                return close(&state, connectionID: connectionID, code: 4008)
            }
            guard let payload = SimJSON.decodeObject(data), let op = payload["op"] as? Int else {
                return close(&state, connectionID: connectionID, code: 4002)
            }
            let d = payload["d"]
            var summary: [String: String] = [:]
            if let object = d as? [String: Any] {
                for key in ["session_id", "seq", "intents", "guild_id", "channel_id", "shard"] {
                    if let value = object[key] { summary[key] = "\(value)" }
                }
            }
            state.received.append(.init(connectionID: connectionID, op: op, at: now, summary: summary))
            switch op {
            case 1:
                if !state.withholdHeartbeatAcks {
                    connection.outbox.yield(.text(#"{"op":11,"d":null,"s":null,"t":null}"#))
                }
            case 2:
                identify(&state, connectionID: connectionID, data: d as? [String: Any])
            case 3:
                break
            case 4:
                guard connection.sessionID != nil else { return close(&state, connectionID: connectionID, code: 4003) }
                voiceStateUpdate(&state, connectionID: connectionID, data: d as? [String: Any])
            case 6:
                resume(&state, connectionID: connectionID, data: d as? [String: Any])
            case 8:
                guard connection.sessionID != nil else { return close(&state, connectionID: connectionID, code: 4003) }
            default:
                close(&state, connectionID: connectionID, code: 4001)
            }
        }
    }

    private func botUser(_ state: SimState, token: Any?) -> SimState.User? {
        guard let token = token as? String else { return nil }
        let bare = token.hasPrefix("Bot ") ? String(token.dropFirst(4)) : token
        return state.users.values.first { $0.bot && $0.token == bare }
    }

    private func identify(_ state: inout SimState, connectionID: Int, data: [String: Any]?) {
        guard let connection = state.connections[connectionID] else { return }
        if connection.sessionID != nil { return close(&state, connectionID: connectionID, code: 4005) }
        guard let data, let properties = data["properties"] as? [String: Any], properties["os"] is String else {
            return close(&state, connectionID: connectionID, code: 4002)
        }
        guard let user = botUser(state, token: data["token"]) else {
            return close(&state, connectionID: connectionID, code: 4004)
        }
        guard let intents = data["intents"] as? Int, intents >= 0, intents < 1 << 26 else {
            return close(&state, connectionID: connectionID, code: 4013)
        }
        if intents & (1 << 15) != 0 && !configuration.messageContentIntentEnabled {
            return close(&state, connectionID: connectionID, code: 4014)
        }
        var shardID = 0
        var shardCount = 1
        if let shard = data["shard"] as? [Int] {
            guard shard.count == 2, shard[1] >= 1, shard[0] >= 0, shard[0] < shard[1] else {
                return close(&state, connectionID: connectionID, code: 4010)
            }
            (shardID, shardCount) = (shard[0], shard[1])
        }
        let guildIDs = state.guildOrder.filter { SimState.shard(of: $0, count: shardCount) == shardID }
        if guildIDs.count > 2500 { return close(&state, connectionID: connectionID, code: 4011) }
        guard state.sessionStartsRemaining > 0 else {
            return close(&state, connectionID: connectionID, code: 4004)
        }
        state.sessionStartsRemaining -= 1
        let sessionID = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        state.sessions[sessionID] = .init(
            id: sessionID, userID: user.id, shardID: shardID, shardCount: shardCount,
            connectionID: connectionID)
        state.connections[connectionID]?.sessionID = sessionID
        let ready: [String: Any] = [
            "v": 10, "user": state.userJSON(user.id), "session_id": sessionID,
            "resume_gateway_url": gatewayURL, "session_type": "normal",
            "guilds": guildIDs.map { ["id": String($0), "unavailable": true] as [String: Any] },
            "application": ["id": String(state.applicationID), "flags": 0] as [String: Any],
            "shard": [shardID, shardCount], "private_channels": [Any](), "relationships": [Any](),
            "presences": [Any](), "guild_join_requests": [Any](), "geo_ordered_rtc_regions": ["local"],
        ]
        send(&state, sessionID: sessionID, event: "READY", data: SimJSON.encode(ready))
        for guildID in guildIDs {
            guard let guild = state.guilds[guildID] else { continue }
            send(
                &state, sessionID: sessionID, event: "GUILD_CREATE",
                data: SimJSON.encode(state.guildJSON(guild, botID: user.id)))
        }
    }

    private func resume(_ state: inout SimState, connectionID: Int, data: [String: Any]?) {
        guard let data, let sessionID = data["session_id"] as? String else {
            return close(&state, connectionID: connectionID, code: 4002)
        }
        guard let user = botUser(state, token: data["token"]) else {
            return close(&state, connectionID: connectionID, code: 4004)
        }
        guard var session = state.sessions[sessionID], session.valid, session.userID == user.id else {
            state.connections[connectionID]?.outbox.yield(.text(#"{"op":9,"d":false,"s":null,"t":null}"#))
            return
        }
        let seq = data["seq"] as? Int ?? 0
        // Replay needs every event after `seq`; if the buffer no longer holds them the session cannot resume.
        if seq > session.seq || (seq < session.seq && (session.log.first?.seq ?? Int.max) > seq + 1) {
            return close(&state, connectionID: connectionID, code: 4007)
        }
        if let old = session.connectionID, old != connectionID { state.connections[old]?.outbox.yield(.drop) }
        session.connectionID = connectionID
        state.sessions[sessionID] = session
        state.connections[connectionID]?.sessionID = sessionID
        guard let outbox = state.connections[connectionID]?.outbox else { return }
        for entry in session.log where entry.seq > seq { outbox.yield(.text(entry.payload)) }
        send(&state, sessionID: sessionID, event: "RESUMED", data: "null")
    }

    private func voiceStateUpdate(_ state: inout SimState, connectionID: Int, data: [String: Any]?) {
        guard let data, let guildID = SimJSON.snowflake(data["guild_id"]),
            let sessionID = state.connections[connectionID]?.sessionID,
            let session = state.sessions[sessionID], state.guilds[guildID] != nil
        else { return close(&state, connectionID: connectionID, code: 4002) }
        let channelID = SimJSON.snowflake(data["channel_id"])
        if let channelID, state.channelGuild[channelID] != guildID { return }
        let userID = session.userID
        let voiceSession = UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased()
        if let channelID {
            state.guilds[guildID]?.voice[userID] = (channelID, voiceSession)
        } else {
            state.guilds[guildID]?.voice[userID] = nil
        }
        let stateEvent = SimJSON.encode(
            state.voiceStateJSON(
                guildID: guildID, userID: userID,
                channelID: channelID, session: voiceSession))
        var serverEvent: String?
        if let channelID {
            let endpoint = configuration.voiceEndpoint(guildID, channelID, userID)
            let token = String(UUID().uuidString.prefix(16).lowercased())
            configuration.voiceSessionGranted(userID, voiceSession, token)
            serverEvent = SimJSON.encode(
                ["token": token, "guild_id": String(guildID), "endpoint": endpoint ?? NSNull()] as [String: Any])
        }
        if configuration.voiceServerFirst, let serverEvent {
            send(&state, sessionID: sessionID, event: "VOICE_SERVER_UPDATE", data: serverEvent)
        }
        broadcast(&state, guildID: guildID, event: "VOICE_STATE_UPDATE", data: stateEvent)
        if !configuration.voiceServerFirst, let serverEvent {
            send(&state, sessionID: sessionID, event: "VOICE_SERVER_UPDATE", data: serverEvent)
        }
    }

    /// Appends a dispatch to a session's log and sends it if the session is connected.
    func send(_ state: inout SimState, sessionID: String, event: String, data: String) {
        guard var session = state.sessions[sessionID], session.valid else { return }
        session.seq += 1
        let payload = #"{"op":0,"s":\#(session.seq),"t":"\#(event)","d":\#(data)}"#
        session.log.append((session.seq, payload))
        if session.log.count > 10_000 { session.log.removeFirst(session.log.count - 10_000) }
        if let connectionID = session.connectionID, let connection = state.connections[connectionID],
            !connection.remoteClosed
        {
            connection.outbox.yield(.text(payload))
        }
        state.sessions[sessionID] = session
    }

    /// Sends a guild's event to every session whose shard owns the guild.
    func broadcast(_ state: inout SimState, guildID: UInt64, event: String, data: String) {
        let targets = state.sessions.values.filter {
            $0.valid && SimState.shard(of: guildID, count: $0.shardCount) == $0.shardID
        }.map(\.id)
        for sessionID in targets { send(&state, sessionID: sessionID, event: event, data: data) }
    }
}
