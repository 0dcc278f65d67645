import NIOCore
import NIOPosix
import PersonaPlex

/// Checks that something accepts connections at a backend's address before the bot joins voice for it, so an
/// AI server that is down is reported at once ("the AI server is unreachable") instead of after a silent join.
public protocol BackendProbe: Sendable {
    func check(_ endpoint: PersonaPlexEndpoint) async throws(VoiceSessionProblem)
}

/// A TCP connect to the backend's host and port, closed again at once. It opens no WebSocket: PersonaPlex would
/// take its one-session lock for that.
public struct TCPBackendProbe: BackendProbe {
    public var timeout: TimeAmount
    private let group: any EventLoopGroup

    public init(timeout: TimeAmount = .seconds(3), group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) {
        self.timeout = timeout
        self.group = group
    }

    public func check(_ endpoint: PersonaPlexEndpoint) async throws(VoiceSessionProblem) {
        do {
            let channel = try await ClientBootstrap(group: group)
                .connectTimeout(timeout)
                .connect(host: endpoint.host, port: endpoint.port)
                .get()
            try? await channel.close()
        } catch {
            throw .backendUnreachable(detail: "\(endpoint.authority): \(error)")
        }
    }
}
