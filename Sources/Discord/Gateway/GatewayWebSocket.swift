import NIOCore
import NIOHTTP1
import NIOPosix
import NIOSSL
import NIOWebSocket
import Synchronization

/// Opens a WebSocket (over TLS for `wss://`) with NIO's typed HTTP upgrade and hands back an async channel of
/// whole (reassembled) frames.
enum GatewayWebSocket {
    typealias Connection = NIOAsyncChannel<WebSocketFrame, WebSocketFrame>

    private enum Upgrade: Sendable {
        case websocket(Connection)
        case refused
    }

    /// Largest message accepted from Discord: READY and GUILD_CREATE for big guilds are large, but bounded.
    static let maxMessageBytes = 64 << 20

    static func connect(
        to url: DiscordURL, tls: NIOSSLContext?, group: any EventLoopGroup, userAgent: String,
        timeout: Duration = .seconds(15)
    ) async throws -> Connection {
        let host = url.host
        let authority = url.port == (url.isTLS ? 443 : 80) ? url.hostForURL : "\(url.hostForURL):\(url.port)"
        let target = url.requestTarget
        let sslHandlerHost: String? = SocketAddressCheck.isIPLiteral(host) ? nil : host

        let opened = OpenedChannel()
        let negotiation: EventLoopFuture<Upgrade>
        do {
            negotiation = try await ClientBootstrap(group: group)
                .connectTimeout(.seconds(10))
                .channelOption(.socketOption(.tcp_nodelay), value: 1)
                .connect(host: host, port: url.port) { channel in
                    opened.set(channel)
                    return channel.eventLoop.makeCompletedFuture {
                        if let tls {
                            let handler = try NIOSSLClientHandler(context: tls, serverHostname: sslHandlerHost)
                            try channel.pipeline.syncOperations.addHandler(handler)
                        }
                        let upgrader = NIOTypedWebSocketClientUpgrader<Upgrade>(
                            maxFrameSize: maxMessageBytes,
                            upgradePipelineHandler: { channel, _ in
                                channel.eventLoop.makeCompletedFuture {
                                    try channel.pipeline.syncOperations.addHandler(
                                        NIOWebSocketFrameAggregator(
                                            minNonFinalFragmentSize: 0, maxAccumulatedFrameCount: 4096,
                                            maxAccumulatedFrameSize: maxMessageBytes))
                                    return Upgrade.websocket(try Connection(wrappingChannelSynchronously: channel))
                                }
                            })
                        var headers = HTTPHeaders()
                        headers.add(name: "Host", value: authority)
                        headers.add(name: "User-Agent", value: userAgent)
                        headers.add(name: "Content-Length", value: "0")
                        let head = HTTPRequestHead(version: .http1_1, method: .GET, uri: target, headers: headers)
                        var configuration = NIOUpgradableHTTPClientPipelineConfiguration(
                            upgradeConfiguration: NIOTypedHTTPClientUpgradeConfiguration(
                                upgradeRequestHead: head, upgraders: [upgrader],
                                notUpgradingCompletionHandler: { channel in
                                    channel.eventLoop.makeSucceededFuture(Upgrade.refused)
                                }))
                        // Discord sends Hello right after the 101; it may share a TCP segment with it.
                        configuration.leftOverBytesStrategy = .forwardBytes
                        return try channel.pipeline.syncOperations.configureUpgradableHTTPClientPipeline(
                            configuration: configuration)
                    }
                }
        } catch {
            throw DiscordError.connectionFailed(
                url: url.description, reason: ConnectFailure.reason(error) ?? String(describing: error))
        }

        let upgrade: Upgrade?
        do {
            upgrade = try await negotiate(negotiation, opened: opened, timeout: timeout)
        } catch let error as CancellationError {
            throw error
        } catch {
            // TLS handshake failures surface here (the handshake runs before the upgrade request is answered).
            throw DiscordError.connectionFailed(
                url: url.description, reason: ConnectFailure.reason(error) ?? String(describing: error))
        }
        switch upgrade {
        case let .websocket(connection):
            return connection
        case .refused:
            throw DiscordError.connectionFailed(
                url: url.description, reason: "the server refused the WebSocket upgrade")
        case nil:
            throw DiscordError.connectionFailed(url: url.description, reason: "no WebSocket upgrade within \(timeout)")
        }
    }

    /// Waits for the upgrade, or closes the socket after `timeout` (`nil`).
    private static func negotiate(
        _ negotiation: EventLoopFuture<Upgrade>, opened: OpenedChannel, timeout: Duration
    ) async throws -> Upgrade? {
        try await withThrowingTaskGroup(of: Upgrade?.self) { group in
            group.addTask { try await negotiation.get() }
            group.addTask {
                try await Task.sleep(for: timeout)
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            // Closing the socket fails a negotiation still in progress, so the group can finish.
            if first == nil { opened.close() }
            return first
        }
    }
}

/// The channel being opened, so a stalled upgrade can be abandoned.
private final class OpenedChannel: Sendable {
    private let channel = Mutex<(any Channel)?>(nil)
    func set(_ value: any Channel) { channel.withLock { $0 = value } }
    func close() { channel.withLock { $0 }?.close(promise: nil) }
}

enum SocketAddressCheck {
    static func isIPLiteral(_ host: String) -> Bool {
        (try? SocketAddress(ipAddress: host, port: 0)) != nil
    }
}

/// TLS for every Discord connection: system roots plus `DISCORD_CA_FILE`.
enum DiscordTLS {
    static func makeConfiguration(caFile: String?) throws(DiscordError) -> TLSConfiguration {
        var configuration = TLSConfiguration.makeClientConfiguration()
        if let caFile {
            do {
                let certificates = try NIOSSLCertificate.fromPEMFile(caFile)
                guard !certificates.isEmpty else {
                    throw DiscordError.invalidConfiguration("DISCORD_CA_FILE: no PEM certificate in \(caFile)")
                }
                configuration.additionalTrustRoots = [.certificates(certificates)]
            } catch let error as DiscordError {
                throw error
            } catch {
                throw .invalidConfiguration("DISCORD_CA_FILE: cannot read \(caFile): \(error)")
            }
        }
        return configuration
    }

    static func makeContext(caFile: String?) throws(DiscordError) -> NIOSSLContext {
        let configuration = try makeConfiguration(caFile: caFile)
        do {
            return try NIOSSLContext(configuration: configuration)
        } catch {
            throw .invalidConfiguration("cannot create the TLS context: \(error)")
        }
    }
}
