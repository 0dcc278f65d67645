import Foundation
import Logging
import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Synchronization

/// A Discord stand-in on loopback: the gateway (WebSocket, API v10 JSON) and the REST API on one port, with
/// scriptable users and faults. Point a client at `apiBase` and `gatewayURL`.
public final class DiscordSimulator: Sendable {
    public let configuration: SimulatorConfiguration
    let state: Mutex<SimState>
    let logger: Logger
    private let ports = Mutex((rest: 0, gateway: 0))
    /// The bot user id for `configuration.botToken`.
    public let botUserID: UInt64
    public let applicationID: UInt64

    public init(configuration: SimulatorConfiguration, logger: Logger = Logger(label: "discord.simulator")) {
        self.configuration = configuration
        self.logger = logger
        var state = SimState(sessionStartsRemaining: configuration.sessionStartRemaining)
        let bot = state.ids.next()
        state.users[bot] = .init(id: bot, username: configuration.botName, bot: true, token: configuration.botToken)
        for (index, token) in configuration.extraBotTokens.enumerated() {
            let id = state.ids.next()
            state.users[id] = .init(id: id, username: "other-bot-\(index + 1)", bot: true, token: token)
        }
        let application = state.ids.next()
        state.applicationID = application
        for index in 0..<max(0, configuration.guildCount) {
            // Spread creation times so guilds fall on different shards.
            let guildID = state.ids.next(millisOffset: UInt64(index) * 1_000 + 1)
            var channels: [SimState.Channel] = []
            for (type, name) in [(0, "general"), (2, "Voice"), (2, "Lounge")] {
                let channel = SimState.Channel(id: state.ids.next(), guildID: guildID, type: type, name: name)
                channels.append(channel)
                state.channelGuild[channel.id] = guildID
            }
            var members: [UInt64] = []
            for human in 0..<configuration.humansPerGuild {
                let id = state.ids.next()
                state.users[id] = .init(id: id, username: "human\(index)-\(human)", bot: false)
                members.append(id)
            }
            state.guilds[guildID] = .init(
                id: guildID, name: "Guild \(index + 1)", channels: channels,
                memberIDs: members)
            state.guildOrder.append(guildID)
        }
        botUserID = bot
        applicationID = application
        self.state = Mutex(state)
    }

    // MARK: - Server

    private enum Accepted: Sendable {
        case websocket(NIOAsyncChannel<WebSocketFrame, WebSocketFrame>, String)
        case http(NIOAsyncChannel<HTTPServerRequestPart, HTTPServerResponsePart>)
    }

    /// Binds the REST port (`port`, 0 = any free port) and a gateway port (any free port) on 127.0.0.1 and serves
    /// until the task is cancelled. Two ports, as Discord has two hosts: HTTP clients keep REST connections alive
    /// and could otherwise send the WebSocket upgrade on a connection that already served plain requests.
    /// `ready` is called with the REST port once both are bound.
    public func run(port: Int = 0, ready: @Sendable (Int) -> Void = { _ in }) async throws {
        let tls = try configuration.tls.map(Self.serverContext)
        let rest = try await bind(port: port, tls: configuration.tls?.rest == true ? tls : nil)
        let gateway = try await bind(port: 0, tls: configuration.tls?.gateway == true ? tls : nil)
        let restPort = rest.channel.localAddress?.port ?? 0
        let gatewayPort = gateway.channel.localAddress?.port ?? 0
        ports.withLock { $0 = (restPort, gatewayPort) }
        logger.info(
            "Discord simulator listening",
            metadata: [
                "rest_port": "\(restPort)",
                "gateway_port": "\(gatewayPort)",
            ])
        ready(restPort)
        try await withThrowingDiscardingTaskGroup { group in
            for server in [rest, gateway] {
                group.addTask {
                    try await withTaskCancellationHandler {
                        try await self.serve(server)
                    } onCancel: {
                        server.channel.close(promise: nil)
                        self.closeAllConnections()
                    }
                }
            }
        }
    }

    private static func serverContext(_ tls: SimulatorTLS) throws -> NIOSSLContext {
        let chain = try NIOSSLCertificate.fromPEMFile(tls.certificateChainFile).map {
            NIOSSLCertificateSource.certificate($0)
        }
        let key = try NIOSSLPrivateKey(file: tls.privateKeyFile, format: .pem)
        return try NIOSSLContext(
            configuration: .makeServerConfiguration(certificateChain: chain, privateKey: .privateKey(key)))
    }

    private func bind(port: Int, tls: NIOSSLContext?) async throws -> NIOAsyncChannel<EventLoopFuture<Accepted>, Never>
    {
        let maxFrame = max(configuration.maxPayloadBytes * 4, 1 << 16)
        return try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: port) { channel in
                channel.eventLoop.makeCompletedFuture {
                    if let tls { try channel.pipeline.syncOperations.addHandler(NIOSSLServerHandler(context: tls)) }
                    let upgrader = NIOTypedWebSocketServerUpgrader<Accepted>(
                        maxFrameSize: maxFrame,
                        shouldUpgrade: { channel, _ in channel.eventLoop.makeSucceededFuture(HTTPHeaders()) },
                        upgradePipelineHandler: { channel, head in
                            channel.eventLoop.makeCompletedFuture {
                                try channel.pipeline.syncOperations.addHandler(
                                    NIOWebSocketFrameAggregator(
                                        minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 64,
                                        maxAccumulatedFrameSize: maxFrame))
                                return Accepted.websocket(
                                    try NIOAsyncChannel(wrappingChannelSynchronously: channel),
                                    head.uri)
                            }
                        })
                    let configuration = NIOTypedHTTPServerUpgradeConfiguration<Accepted>(
                        upgraders: [upgrader],
                        notUpgradingCompletionHandler: { channel in
                            channel.eventLoop.makeCompletedFuture {
                                Accepted.http(try NIOAsyncChannel(wrappingChannelSynchronously: channel))
                            }
                        })
                    return try channel.pipeline.syncOperations.configureUpgradableHTTPServerPipeline(
                        configuration: .init(upgradeConfiguration: configuration))
                }
            }
    }

    private func serve(_ server: NIOAsyncChannel<EventLoopFuture<Accepted>, Never>) async throws {
        try await withThrowingDiscardingTaskGroup { group in
            try await server.executeThenClose { inbound in
                for try await accepted in inbound {
                    group.addTask {
                        do {
                            switch try await accepted.get() {
                            case let .websocket(channel, uri):
                                await self.serveGateway(channel, uri: uri)
                            case let .http(channel):
                                try await self.serveHTTP(channel)
                            }
                        } catch {
                            self.logger.debug("simulator connection ended", metadata: ["error": "\(error)"])
                        }
                    }
                }
            }
        }
    }

    private func closeAllConnections() {
        state.withLock { state in
            for connection in state.connections.values { connection.outbox.yield(.drop) }
        }
    }

    /// The REST port.
    public var port: Int { ports.withLock { $0.rest } }
    public var gatewayPort: Int { ports.withLock { $0.gateway } }
    /// `http://127.0.0.1:PORT/api/v10` (`https://` with TLS).
    public var apiBase: String { "\(configuration.tls?.rest == true ? "https" : "http")://127.0.0.1:\(port)/api/v10" }
    /// `ws://127.0.0.1:GATEWAY_PORT/` (`wss://` with TLS; also what GET /gateway/bot and READY's
    /// resume_gateway_url say).
    public var gatewayURL: String {
        "\(configuration.tls?.gateway == true ? "wss" : "ws")://127.0.0.1:\(gatewayPort)/"
    }

    /// Starts `run` in a task and returns once the port is bound.
    public func start(port: Int = 0) async throws -> Task<Void, any Error> {
        let (stream, continuation) = AsyncStream<Int>.makeStream()
        let task = Task {
            defer { continuation.finish() }
            try await self.run(port: port) { continuation.yield($0) }
        }
        for await _ in stream { return task }
        // `run` ended before binding: surface its error.
        try await task.value
        return task
    }
}
