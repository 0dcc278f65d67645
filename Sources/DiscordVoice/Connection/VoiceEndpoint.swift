#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Where the voice gateway lives: VOICE_SERVER_UPDATE's `endpoint` (`host:port`, no scheme) and the scheme.
public struct VoiceEndpoint: Equatable, Sendable {
    public var host: String
    public var port: Int
    /// `true` for `wss` (always, except loopback tests with `DISCORD_VOICE_SCHEME=ws`).
    public var secure: Bool

    /// The request target: voice gateway version 8.
    public static let requestTarget = "/?v=8"

    /// Parses `host:port` (or a bare host: port 443 / 80). `nil` for an empty host or a bad port.
    public init?(endpoint: String, secure: Bool) {
        var text = Substring(endpoint)
        for prefix in ["wss://", "ws://"] where text.hasPrefix(prefix) { text = text.dropFirst(prefix.count) }
        if let slash = text.firstIndex(of: "/") { text = text[..<slash] }
        var host = text
        var port = secure ? 443 : 80
        if let colon = text.lastIndex(of: ":"), !text.hasSuffix("]") {
            guard let parsed = Int(text[text.index(after: colon)...]), (1...65535).contains(parsed) else { return nil }
            port = parsed
            host = text[..<colon]
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = host.dropFirst().dropLast() }
        guard !host.isEmpty else { return nil }
        self.host = String(host)
        self.port = port
        self.secure = secure
    }

    /// `wss` unless the environment's `DISCORD_VOICE_SCHEME` is `ws` (loopback simulator only).
    public static func secureFromEnvironment(_ environment: [String: String]) -> Bool {
        environment["DISCORD_VOICE_SCHEME"]?.lowercased() != "ws"
    }

    /// `secureFromEnvironment` applied to this process's environment.
    public static var secureFromProcessEnvironment: Bool {
        var environment: [String: String] = [:]
        if let value = getenv("DISCORD_VOICE_SCHEME") { environment["DISCORD_VOICE_SCHEME"] = String(cString: value) }
        return secureFromEnvironment(environment)
    }
}
