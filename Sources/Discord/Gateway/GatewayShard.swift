import Foundation
import Logging
import NIOCore
import NIOSSL
import NIOWebSocket
import Realtime
import Synchronization

/// What a shard shares with the client that runs it.
struct ShardEnvironment: Sendable {
    var configuration: DiscordConfiguration
    var group: any EventLoopGroup
    var tls: NIOSSLContext?
    var scheduler: any GatewayScheduler
    var logger: Logger
    var identifyGate: IdentifyGate
    var cache: DiscordCache
    var voice: VoiceStateCollector
    var emit: @Sendable (DiscordEvent) -> Void
    /// Reports `Identify` sends (for the start-up measurement and tests).
    var identifySent: @Sendable (Int) -> Void = { _ in }
}

/// One gateway shard: connects, identifies or resumes, heartbeats, dispatches events, and reconnects by the
/// close-code rules until a fatal close or cancellation.
final class GatewayShard: Sendable {
    private struct Session {
        var sessionID: String?
        var resumeURL: DiscordURL?
        var seq: Int?
        var userID: Snowflake?
        var sender: GatewaySender?
    }

    private struct ConnectionEnd {
        var action: GatewayCloseAction
        var code: Int?
        var established: Bool
    }

    private enum Input: Sendable {
        case message(ByteBuffer)
        case closed(Int?)
        case zombie
    }

    let id: Int
    let count: Int
    private let environment: ShardEnvironment
    private let session = Mutex(Session())
    private var logger: Logger { environment.logger }

    init(id: Int, count: Int, environment: ShardEnvironment) {
        self.id = id
        self.count = count
        var env = environment
        env.logger[metadataKey: "shard"] = "\(id)"
        self.environment = env
    }

    /// Connection attempts before a shard that never had a session gives up: a gateway that cannot be reached at
    /// start is a wrong setting or a dead network, reported in about a second. Once a session existed, outages
    /// are Discord's and the shard keeps reconnecting with backoff.
    static let startupConnectAttempts = 3

    /// Runs until cancelled (returns `nil`), a close after which reconnecting cannot help, or a gateway that cannot
    /// be reached before the first session (returns the error).
    func run(gatewayURL: DiscordURL) async -> DiscordError? {
        var failures = 0
        var everEstablished = false
        var startupFailures = 0
        while !Task.isCancelled {
            let resumeTarget = session.withLock { $0.sessionID != nil ? $0.resumeURL : nil }
            let url = (resumeTarget ?? gatewayURL).withGatewayQuery()
            do {
                // Identify pacing happens before connecting: a connection waiting for its turn would not read
                // heartbeat ACKs in the meantime, and Discord expects Identify soon after Hello.
                if resumeTarget == nil { try await environment.identifyGate.waitTurn(shardID: id) }
                let end = try await runConnection(url: url, resuming: resumeTarget != nil)
                failures = end.established ? 0 : failures + 1
                everEstablished = everEstablished || end.established
                switch end.action {
                case .resume:
                    logger.info(
                        "gateway connection ended; resuming",
                        metadata: ["code": "\(end.code.map(String.init) ?? "none")"])
                case .reidentify:
                    logger.info(
                        "gateway session invalidated; identifying anew",
                        metadata: ["code": "\(end.code.map(String.init) ?? "none")"])
                    session.withLock { $0 = Session(userID: $0.userID) }
                case let .fatal(message):
                    let error = DiscordError.gatewayFatal(code: end.code ?? 0, message: message)
                    logger.error("gateway closed for good; not reconnecting", metadata: ["error": "\(error)"])
                    return error
                }
            } catch is CancellationError {
                return nil
            } catch {
                failures += 1
                let reason = ConnectFailure.reason(error)
                // No connection, so no Identify went out with the turn just taken.
                if reason != nil && resumeTarget == nil { await environment.identifyGate.release(shardID: id) }
                if !everEstablished, let reason {
                    startupFailures += 1
                    if startupFailures >= Self.startupConnectAttempts {
                        let error = DiscordError.unreachable(
                            url: url.description, reason: reason, attempts: startupFailures,
                            setting: "DISCORD_GATEWAY_URL (or the url GET /gateway/bot returns)")
                        logger.error("cannot reach the gateway; giving up", metadata: ["error": "\(error)"])
                        return error
                    }
                }
                logger.warning("gateway connection failed", metadata: ["error": "\(error)", "attempt": "\(failures)"])
            }
            let delay =
                everEstablished || startupFailures == 0
                ? backoffNanos(failures: failures) : UInt64(startupFailures) * 250_000_000
            do {
                try await environment.scheduler.sleep(nanoseconds: delay)
            } catch {
                return nil
            }
        }
        return nil
    }

    private func backoffNanos(failures: Int) -> UInt64 {
        let base =
            UInt64(environment.configuration.reconnectDelay.components.seconds) * Nanoseconds.perSecond
            + UInt64(environment.configuration.reconnectDelay.components.attoseconds / 1_000_000_000)
        let cap = UInt64(environment.configuration.maxReconnectDelay.components.seconds) * Nanoseconds.perSecond
        let exponent = min(failures, 16)
        let grown = min(cap, base << UInt64(exponent))
        return UInt64(Double(max(grown, 1)) * Double.random(in: 0.5...1.0))
    }

    /// op 4 on this shard's connection.
    func sendVoiceState(guildID: Snowflake, channelID: Snowflake?, selfMute: Bool, selfDeaf: Bool) async throws {
        guard let sender = session.withLock({ $0.sender }) else { throw DiscordError.notConnected(shard: id) }
        let command = GatewayCommand(
            op: .voiceStateUpdate,
            d: VoiceStateCommand(
                guildId: guildID, channelId: channelID, selfMute: selfMute, selfDeaf: selfDeaf))
        try await sender.send(Array(try GatewayJSON.encoder().encode(command)))
    }

    var ownUserID: Snowflake? { session.withLock { $0.userID } }
    var isConnected: Bool { session.withLock { $0.sender != nil && $0.sessionID != nil } }

    // MARK: - One connection

    private func runConnection(url: DiscordURL, resuming: Bool) async throws -> ConnectionEnd {
        logger.debug("connecting to the gateway", metadata: ["url": "\(url)", "resume": "\(resuming)"])
        let connection = try await GatewayWebSocket.connect(
            to: url, tls: url.isTLS ? environment.tls : nil, group: environment.group,
            userAgent: "DiscordBot (\(environment.configuration.userAgentURL), "
                + "\(environment.configuration.userAgentVersion))")
        let channel = connection.channel
        return try await connection.executeThenClose { inbound, outbound in
            let (inputs, continuation) = AsyncStream<Input>.makeStream()
            let sender = GatewaySender(outbound: outbound, scheduler: environment.scheduler)
            session.withLock { $0.sender = sender }
            defer { session.withLock { if $0.sender === sender { $0.sender = nil } } }
            return await withTaskGroup(of: Void.self) { group in
                group.addTask {
                    do {
                        for try await frame in inbound {
                            switch frame.opcode {
                            case .text, .binary:
                                continuation.yield(.message(frame.unmaskedData))
                            case .connectionClose:
                                var data = frame.unmaskedData
                                continuation.yield(.closed(data.readInteger(as: UInt16.self).map(Int.init)))
                                continuation.finish()
                                return
                            case .ping:
                                let pong = WebSocketFrame(
                                    fin: true, opcode: .pong, maskKey: .random(),
                                    data: frame.unmaskedData)
                                try await outbound.write(pong)
                            default:
                                break
                            }
                        }
                    } catch {
                        // A reset connection ends like a drop: resumable.
                    }
                    continuation.yield(.closed(nil))
                    continuation.finish()
                }
                let end = await messageLoop(
                    inputs: inputs, continuation: continuation, sender: sender,
                    group: &group, resuming: resuming)
                await sender.close(code: end.action == .reidentify ? 1000 : 4000)
                channel.close(promise: nil)
                group.cancelAll()
                return end
            }
        }
    }

    private func messageLoop(
        inputs: AsyncStream<Input>, continuation: AsyncStream<Input>.Continuation, sender: GatewaySender,
        group: inout TaskGroup<Void>, resuming: Bool
    ) async -> ConnectionEnd {
        let parser = GatewayEventParser()
        var heartbeat: SharedHeartbeat?
        var established = false
        for await input in inputs {
            switch input {
            case let .closed(code):
                return ConnectionEnd(action: GatewayCloseCode.action(for: code), code: code, established: established)
            case .zombie:
                logger.warning("no heartbeat ACK since the last beat; reconnecting (zombie connection)")
                return ConnectionEnd(action: .resume, code: nil, established: established)
            case let .message(buffer):
                let message = Data(buffer.readableBytesView)
                let header: GatewayHeader
                do {
                    header = try parser.header(message)
                } catch {
                    logger.warning("unreadable gateway message ignored", metadata: ["bytes": "\(message.count)"])
                    continue
                }
                switch GatewayOpcode(rawValue: header.op) {
                case .hello:
                    guard heartbeat == nil else { continue }
                    let interval = (try? parser.decode(HelloData.self, message).heartbeatInterval) ?? 41_250
                    let schedule = SharedHeartbeat(
                        HeartbeatSchedule(
                            helloAt: environment.scheduler.clock.nowNanoseconds(), intervalMillis: interval,
                            jitter: Double.random(in: 0..<1)))
                    heartbeat = schedule
                    group.addTask { [self] in
                        await HeartbeatTimer.run(schedule: schedule, scheduler: environment.scheduler) { action in
                            if action == .zombie {
                                continuation.yield(.zombie)
                                return false
                            }
                            await self.sendHeartbeat(sender)
                            return true
                        }
                    }
                    do {
                        try await (resuming ? sendResume(sender) : sendIdentify(sender))
                    } catch {
                        logger.warning("could not send the handshake", metadata: ["error": "\(error)"])
                        return ConnectionEnd(action: .resume, code: nil, established: false)
                    }
                case .heartbeatAck:
                    heartbeat?.acknowledged(now: environment.scheduler.clock.nowNanoseconds())
                case .heartbeat:
                    heartbeat?.serverRequested(now: environment.scheduler.clock.nowNanoseconds())
                    await sendHeartbeat(sender)
                case .reconnect:
                    logger.info("Discord asked to reconnect (op 7)")
                    return ConnectionEnd(action: .resume, code: nil, established: established)
                case .invalidSession:
                    let resumable = (try? parser.decode(Bool.self, message)) ?? false
                    logger.info("invalid session (op 9)", metadata: ["resumable": "\(resumable)"])
                    return ConnectionEnd(action: resumable ? .resume : .reidentify, code: nil, established: established)
                case .dispatch:
                    if let seq = header.s { session.withLock { $0.seq = seq } }
                    if let name = header.t, await dispatch(name: name, message: message, parser: parser) {
                        established = true
                    }
                default:
                    logger.debug("unhandled gateway opcode", metadata: ["op": "\(header.op)"])
                }
            }
        }
        return ConnectionEnd(action: .resume, code: nil, established: established)
    }

    /// Returns `true` for READY and RESUMED (the connection is established).
    private func dispatch(name: String, message: Data, parser: GatewayEventParser) async -> Bool {
        let parsed: GatewayEventParser.Parsed
        do {
            parsed = try parser.parse(name: name, message: message)
        } catch {
            logger.warning("malformed gateway event ignored", metadata: ["event": "\(name)", "error": "\(error)"])
            return false
        }
        switch parsed {
        case let .ready(ready):
            let resumeURL: DiscordURL?
            do {
                resumeURL = try DiscordURL(
                    ready.resumeGatewayUrl, allowed: ["wss", "ws"], setting: "resume_gateway_url")
            } catch {
                logger.warning(
                    "READY has an unusable resume_gateway_url; resumes use the gateway URL",
                    metadata: ["error": "\(error)"])
                resumeURL = nil
            }
            session.withLock {
                $0.sessionID = ready.sessionId
                $0.resumeURL = resumeURL
                $0.userID = ready.user.id
            }
            environment.cache.setOwnUser(ready.user.id)
            logger.info("READY", metadata: ["user": "\(ready.user.id)", "guilds": "\(ready.guilds.count)"])
            environment.emit(.ready(ready, shard: id))
            return true
        case .resumed:
            logger.info("RESUMED")
            environment.emit(.resumed(shard: id))
            return true
        case let .voiceServer(update):
            if let userID = ownUserID { await environment.voice.voiceServer(update, userID: userID) }
        case let .event(event):
            environment.cache.apply(event)
            if case let .voiceStateUpdate(state) = event, let userID = ownUserID, state.userId == userID {
                await environment.voice.ownVoiceState(state, userID: userID)
            }
            environment.emit(event)
        case .ignored:
            break
        }
        return false
    }

    // MARK: - Sends

    private func sendHeartbeat(_ sender: GatewaySender) async {
        let seq = session.withLock { $0.seq }
        do {
            try await sender.send(
                Array(try GatewayJSON.encoder().encode(GatewayCommand(op: .heartbeat, d: seq))),
                heartbeat: true)
        } catch {
            logger.debug("heartbeat not sent", metadata: ["error": "\(error)"])
        }
    }

    /// Sends Identify; the caller has already waited for this shard's turn (`IdentifyGate`).
    private func sendIdentify(_ sender: GatewaySender) async throws {
        let config = environment.configuration
        let identify = IdentifyData(
            token: config.token.secret, intents: config.intents,
            properties: .init(os: "linux", browser: "voice-router", device: "voice-router"),
            shard: [id, count], largeThreshold: 250)
        try await sender.send(Array(try GatewayJSON.encoder().encode(GatewayCommand(op: .identify, d: identify))))
        environment.identifySent(id)
        logger.info("identify sent", metadata: ["intents": "\(config.intents)", "shards": "\(count)"])
    }

    private func sendResume(_ sender: GatewaySender) async throws {
        let (sessionID, seq) = session.withLock { ($0.sessionID, $0.seq) }
        guard let sessionID else {
            try await environment.identifyGate.waitTurn(shardID: id)
            return try await sendIdentify(sender)
        }
        let resume = ResumeData(token: environment.configuration.token.secret, sessionId: sessionID, seq: seq)
        try await sender.send(Array(try GatewayJSON.encoder().encode(GatewayCommand(op: .resume, d: resume))))
        logger.info("resume sent", metadata: ["seq": "\(seq.map(String.init) ?? "null")"])
    }
}
