import Foundation

/// Where the PersonaPlex server listens: `ws[s]://host:port/path`.
public struct PersonaPlexEndpoint: Sendable, Equatable {
    /// `true` for `wss://` (TLS).
    public var secure: Bool
    /// Host name or IP literal (IPv6 without brackets).
    public var host: String
    /// TCP port; PersonaPlex's default is 8998.
    public var port: Int
    /// Request path; PersonaPlex serves the chat socket on `/api/chat`.
    public var path: String

    /// The PersonaPlex default port.
    public static let defaultPort = 8998
    /// The PersonaPlex chat path.
    public static let defaultPath = "/api/chat"

    public init(secure: Bool, host: String, port: Int = defaultPort, path: String = defaultPath) {
        self.secure = secure
        self.host = host
        self.port = port
        self.path = path
    }

    /// Parses `ws://HOST[:PORT][/PATH]` or `wss://…`. A missing port means 8998, a missing path `/api/chat`.
    /// Query parameters are refused: the client builds them from the configuration.
    public init(url: String) throws {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased() else {
            throw PersonaPlexError.invalidURL(url, reason: "not a URL")
        }
        switch scheme {
        case "ws": secure = false
        case "wss": secure = true
        default: throw PersonaPlexError.invalidURL(url, reason: "the scheme must be ws or wss")
        }
        guard var host = components.host, !host.isEmpty else {
            throw PersonaPlexError.invalidURL(url, reason: "no host")
        }
        if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
        guard components.query == nil else {
            throw PersonaPlexError.invalidURL(
                url, reason: "leave out the query: text_prompt and voice_prompt are added")
        }
        self.host = host
        port = components.port ?? Self.defaultPort
        guard (1...65535).contains(port) else { throw PersonaPlexError.invalidURL(url, reason: "bad port") }
        path = components.path.isEmpty || components.path == "/" ? Self.defaultPath : components.percentEncodedPath
    }

    /// `host:port` with IPv6 literals bracketed, as used in the Host header and in messages.
    public var authority: String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }
}

/// TLS trust settings for `wss://` endpoints. Verification is on by default.
public struct PersonaPlexTLSOptions: Sendable, Equatable {
    /// PEM file with the CA (or self-signed certificate) to trust in addition to the system roots (`ca_file`).
    public var caFile: String?
    /// Accept any certificate (`insecure_skip_verify: true`). The client reports `insecureWarning` once.
    public var insecureSkipVerify: Bool

    public init(caFile: String? = nil, insecureSkipVerify: Bool = false) {
        self.caFile = caFile
        self.insecureSkipVerify = insecureSkipVerify
    }

    /// The warning the caller should log once when verification is disabled; `nil` when it is on.
    public var insecureWarning: String? {
        insecureSkipVerify
            ? "TLS certificate verification is disabled for PersonaPlex (insecure_skip_verify: true); "
                + "anyone on the path can read and inject audio"
            : nil
    }
}

/// Everything needed to open one PersonaPlex session.
public struct PersonaPlexConfiguration: Sendable {
    /// Server address.
    public var endpoint: PersonaPlexEndpoint
    /// The persona prompt (`text_prompt`): required, non-empty, at most `textPromptLimit` characters.
    public var textPrompt: String
    /// The voice (`voice_prompt`), e.g. `NATF0.pt`; `NATF0` is accepted and normalised.
    public var voicePrompt: String
    /// Directory holding the server's voice files; when set, voices are checked against its files
    /// instead of the 18 stock voices.
    public var voiceDirectory: String?
    /// TLS trust for `wss://`.
    public var tls: PersonaPlexTLSOptions
    /// Longest time from `connect()` to the server's `0x00` handshake, in seconds.
    public var handshakeTimeout: Double
    /// After the upgrade (with no session of this process holding the server), silence longer than this (seconds)
    /// is reported as `.waitingForServer(.serverBusyOrWarmingUp)`: another client may hold the single-session lock.
    public var waitingNotice: Double
    /// TCP connect timeout in seconds.
    public var connectTimeout: Double
    /// How long `close()` waits for the server's close frame before dropping the socket, in seconds.
    public var closeGracePeriod: Double
    /// A live session fails with `.serverSilent` when audio was written this long (seconds) after the last
    /// server message (the server answers every 80 ms of input; the web UI gives up after 10 s). 0 disables.
    public var silenceTimeout: Double
    /// Received messages kept until drained; newer messages are dropped (and counted) beyond this.
    public var inboxCapacity: Int
    /// Bytes handed to `send(audio:)` but not yet written; further sends are dropped (and counted) beyond this.
    public var maxPendingSendBytes: Int
    /// Send timings kept until drained; the oldest are overwritten (and counted) beyond this.
    public var sendTimingCapacity: Int
    /// The caller's send period in seconds (the router's 20 ms tick), or 0 for irregular sends. With a period the
    /// event loop drains on the caller's schedule (`sendDrainDelay` after each batch's stamp) instead of being woken
    /// by `send(audio:)`, which then costs the caller no system call.
    public var sendPeriod: Double = 0
    /// With a `sendPeriod`: how long after a batch's stamp (its audio's origin) the event loop drains it; it bounds
    /// the added send latency, and should cover the caller's work between the stamp and the send.
    public var sendDrainDelay: Double = 0.0005

    /// The web UI's cap on the text prompt.
    public static let textPromptLimit = 1000

    public init(
        endpoint: PersonaPlexEndpoint,
        textPrompt: String,
        voicePrompt: String = "NATF0.pt",
        voiceDirectory: String? = nil,
        tls: PersonaPlexTLSOptions = PersonaPlexTLSOptions(),
        handshakeTimeout: Double = 60,
        waitingNotice: Double = 12,
        connectTimeout: Double = 10,
        closeGracePeriod: Double = 1,
        silenceTimeout: Double = 10,
        inboxCapacity: Int = 256,
        maxPendingSendBytes: Int = 256 * 1024,
        sendTimingCapacity: Int = 4096
    ) {
        self.endpoint = endpoint
        self.textPrompt = textPrompt
        self.voicePrompt = voicePrompt
        self.voiceDirectory = voiceDirectory
        self.tls = tls
        self.handshakeTimeout = handshakeTimeout
        self.waitingNotice = waitingNotice
        self.connectTimeout = connectTimeout
        self.closeGracePeriod = closeGracePeriod
        self.silenceTimeout = silenceTimeout
        self.inboxCapacity = inboxCapacity
        self.maxPendingSendBytes = maxPendingSendBytes
        self.sendTimingCapacity = sendTimingCapacity
    }

    /// Convenience: parses `url` (see `PersonaPlexEndpoint(url:)`).
    public init(url: String, textPrompt: String, voicePrompt: String = "NATF0.pt") throws {
        self.init(endpoint: try PersonaPlexEndpoint(url: url), textPrompt: textPrompt, voicePrompt: voicePrompt)
    }

    /// Checks the prompt and voice without touching the network and returns the request target
    /// (`/api/chat?text_prompt=…&voice_prompt=…`). Throws the specific `PersonaPlexError`.
    public func validatedRequestTarget() throws -> String {
        let prompt = try PersonaPlexChatQuery.validatedTextPrompt(textPrompt)
        let voice = try PersonaPlexVoices.validated(voicePrompt, voiceDirectory: voiceDirectory)
        return PersonaPlexChatQuery.requestTarget(path: endpoint.path, textPrompt: prompt, voicePrompt: voice)
    }
}

/// Builds the chat query. `seed` is never sent: the server reads it from the wrong place and crashes.
public enum PersonaPlexChatQuery {
    /// Refuses an empty/whitespace prompt or one over `PersonaPlexConfiguration.textPromptLimit` characters.
    public static func validatedTextPrompt(_ prompt: String) throws -> String {
        if prompt.allSatisfy({ $0.isWhitespace }) { throw PersonaPlexError.emptyTextPrompt }
        let limit = PersonaPlexConfiguration.textPromptLimit
        if prompt.count > limit { throw PersonaPlexError.textPromptTooLong(length: prompt.count, limit: limit) }
        return prompt
    }

    /// `path?text_prompt=…&voice_prompt=…` with the path and both values percent-encoded.
    public static func requestTarget(path: String, textPrompt: String, voicePrompt: String) -> String {
        "\(percentEncodePath(path))?text_prompt=\(percentEncode(textPrompt))&voice_prompt=\(percentEncode(voicePrompt))"
    }

    /// Percent-encodes a request path: keeps `/`, RFC 3986 unreserved and sub-delimiter characters, `:`, `@` and
    /// existing `%XX` escapes; encodes every other UTF-8 byte (spaces, non-ASCII, `?`, `#`).
    public static func percentEncodePath(_ path: String) -> String {
        let bytes = Array(path.utf8)
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        let kept = Set("/:@!$&'()*+,;=-._~".utf8)
        func isHex(_ b: UInt8) -> Bool { (48...57).contains(b) || (65...70).contains(b) || (97...102).contains(b) }
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count * 3)
        for (i, byte) in bytes.enumerated() {
            let alphanumeric = (65...90).contains(byte) || (97...122).contains(byte) || (48...57).contains(byte)
            let escape = byte == UInt8(ascii: "%") && i + 2 < bytes.count && isHex(bytes[i + 1]) && isHex(bytes[i + 2])
            if alphanumeric || kept.contains(byte) || escape {
                out.append(byte)
            } else {
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Percent-encodes every UTF-8 byte outside RFC 3986 unreserved characters (`A-Z a-z 0-9 - . _ ~`).
    public static func percentEncode(_ value: String) -> String {
        let hex: [UInt8] = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(value.utf8.count * 3)
        for byte in value.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"),
                UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"), UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}
