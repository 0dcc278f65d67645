/// Errors of the voice connection's transport (never carrying the token).
public enum VoiceConnectionError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The HTTP upgrade to WebSocket was answered with a non-101 status.
    case upgradeRefused(status: Int)
    /// IP discovery got no answer.
    case ipDiscoveryTimedOut
    /// The endpoint could not be parsed.
    case badEndpoint(String)

    public var description: String {
        switch self {
        case .upgradeRefused(let status): return "voice gateway refused the WebSocket upgrade (HTTP \(status))"
        case .ipDiscoveryTimedOut: return "voice UDP IP discovery got no answer"
        case .badEndpoint(let endpoint): return "voice endpoint `\(endpoint.prefix(100))` is not host:port"
        }
    }
}
