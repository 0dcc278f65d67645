import NIOCore
import NIOHTTP1
import NIOPosix
import NIOWebSocket

/// A **stand-in** for a PersonaPlex server, built into the router so the demo and the tests run on a machine with no
/// GPU and no Python. It speaks the real protocol (`/api/chat?text_prompt=…&voice_prompt=…` WebSocket, `0x00` after a
/// prompt phase, `0x01` + one Ogg page of 24 kHz mono Opus each way, `0x02` + UTF-8 text pieces) and keeps the real
/// server's observable habits: parameter errors close the socket with no message after the upgrade, one session at a
/// time with later clients waiting silently (their sockets unread), client messages during the prompt phase
/// discarded, never ending a session by itself. No model runs: it echoes the caller's voice and describes what it
/// heard in text ("I heard you speak for 1.4 seconds."). It is named a stand-in wherever it shows up.
public final class PersonaPlexStandIn: Sendable {
    /// Behaviour knobs.
    public struct Options: Sendable {
        /// How long the prompt phase lasts before `0x00` (the real server takes one to several seconds).
        public var promptPhaseSeconds: Double = 1.0
        /// Voice files accepted (`voice_prompt` must name one of them).
        public var voices: Set<String> = PersonaPlexStandIn.stockVoices
        /// Text pieces sent right after `0x00`.
        public var greeting = " Hello, I am the PersonaPlex stand-in. I repeat what you say."

        public init() {}
    }

    /// The 18 voices PersonaPlex ships.
    public static let stockVoices: Set<String> = Set(
        (0..<4).map { "NATF\($0).pt" } + (0..<4).map { "NATM\($0).pt" }
            + (0..<5).map { "VARF\($0).pt" } + (0..<5).map { "VARM\($0).pt" })

    /// The port it listens on (loopback).
    public let port: Int
    /// `ws://127.0.0.1:PORT/api/chat`.
    public var url: String { "ws://127.0.0.1:\(port)/api/chat" }

    private let channel: any Channel
    private let group: MultiThreadedEventLoopGroup
    private let hub: StandInHub

    private init(channel: any Channel, group: MultiThreadedEventLoopGroup, hub: StandInHub) {
        self.channel = channel
        self.group = group
        self.hub = hub
        port = channel.localAddress?.port ?? 0
    }

    /// Starts listening on `127.0.0.1:port` (0 = any free port).
    public static func start(port: Int = 0, options: Options = Options()) async throws -> PersonaPlexStandIn {
        // One event loop: the single-session lock and its queue live on it, like the real server's asyncio loop.
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        let loop = group.next()
        let hub = StandInHub(eventLoop: loop, options: options)
        let upgrader = NIOWebSocketServerUpgrader(
            maxFrameSize: 1 << 20,
            shouldUpgrade: { channel, head in
                channel.eventLoop.makeSucceededFuture(head.uri.hasPrefix("/api/chat") ? HTTPHeaders() : nil)
            },
            upgradePipelineHandler: { channel, head in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOWebSocketFrameAggregator(
                            minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 64, maxAccumulatedFrameSize: 1 << 20))
                    try channel.pipeline.syncOperations.addHandler(StandInSessionHandler(hub: hub, uri: head.uri))
                }
            })
        do {
            let channel = try await ServerBootstrap(group: loop)
                .serverChannelOption(.backlog, value: 64)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    channel.eventLoop.makeCompletedFuture {
                        let notFound = StandInNotFoundHandler()
                        try channel.pipeline.syncOperations.configureHTTPServerPipeline(
                            withServerUpgrade: (
                                upgraders: [upgrader],
                                completionHandler: { context in
                                    context.pipeline.syncOperations.removeHandler(notFound, promise: nil)
                                }
                            ))
                        try channel.pipeline.syncOperations.addHandler(notFound)
                    }
                }
                .bind(host: "127.0.0.1", port: port).get()
            return PersonaPlexStandIn(channel: channel, group: group, hub: hub)
        } catch {
            try? await group.shutdownGracefully()
            throw error
        }
    }

    /// Totals over every session so far.
    public func statistics() async -> StandInStatistics {
        (try? await hub.eventLoop.submit { self.hub.totals }.get()) ?? StandInStatistics()
    }

    /// Closes every session and stops listening.
    public func stop() async {
        try? await hub.eventLoop.submit { self.hub.closeAll() }.get()
        try? await channel.close()
        try? await group.shutdownGracefully()
    }
}

/// What the stand-in has seen (totals over all sessions).
public struct StandInStatistics: Sendable, Equatable {
    /// Connections upgraded at `/api/chat`.
    public var connections = 0
    /// Sessions that reached `0x00`.
    public var sessionsLive = 0
    /// Connections closed for a bad `text_prompt` / `voice_prompt`.
    public var rejected = 0
    /// Client messages that arrived before `0x00` (discarded, as the real server does).
    public var earlyMessages = 0
    /// `0x01` pages received and `0x01` pages sent.
    public var pagesReceived = 0
    public var pagesSent = 0
    /// `0x02` pieces sent.
    public var textsSent = 0
    /// 20 ms frames decoded from the clients' audio.
    public var framesDecoded = 0
    /// Client Ogg pages or Opus packets that failed to decode.
    public var decodeErrors = 0

    public init() {}
}

/// Answers plain HTTP requests (anything but the WebSocket upgrade) with 404.
final class StandInNotFoundHandler: ChannelInboundHandler, RemovableChannelHandler, Sendable {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .end = unwrapInboundIn(data) else { return }
        let body = context.channel.allocator.buffer(string: "PersonaPlex stand-in: WebSocket endpoint is /api/chat\n")
        var headers = HTTPHeaders()
        headers.add(name: "Content-Length", value: String(body.readableBytes))
        headers.add(name: "Connection", value: "close")
        context.write(
            wrapOutboundOut(.head(HTTPResponseHead(version: .http1_1, status: .notFound, headers: headers))),
            promise: nil)
        context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        context.close(promise: nil)
    }
}
