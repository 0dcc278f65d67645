import NIOCore
import NIOPosix

/// How a client opens its connection: a TCP socket on the client's event loop, or (in tests that play the server
/// in virtual time) an `EmbeddedChannel` on an `EmbeddedEventLoop`. Either way `initializer` builds the pipeline.
struct PersonaPlexConnector: Sendable {
    typealias Initializer = @Sendable (Channel) -> EventLoopFuture<Void>

    /// Connects to `host:port` on `eventLoop` within `timeout`, running `initializer` on the new channel.
    let connect:
        @Sendable (
            _ eventLoop: EventLoop, _ host: String, _ port: Int, _ timeout: TimeAmount,
            _ initializer: @escaping Initializer
        ) -> EventLoopFuture<Channel>

    /// A real TCP connection (NIO's `ClientBootstrap`).
    static let socket = PersonaPlexConnector { eventLoop, host, port, timeout, initializer in
        ClientBootstrap(group: eventLoop)
            .connectTimeout(timeout)
            .channelInitializer(initializer)
            .connect(host: host, port: port)
    }
}
