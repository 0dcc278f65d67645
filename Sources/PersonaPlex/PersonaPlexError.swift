/// Everything that can go wrong with a PersonaPlex session, worded for the operator who reads the log.
public enum PersonaPlexError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The text prompt is empty or whitespace: the server would crash in its prompt phase (bare 1006 close).
    case emptyTextPrompt
    /// The text prompt is longer than the web UI's cap.
    case textPromptTooLong(length: Int, limit: Int)
    /// The voice prompt is not one of the known voices (or not a file in the configured voice directory).
    case unknownVoice(String, suggestions: [String], voiceDirectory: String? = nil)
    /// The configured voice directory could not be listed.
    case voiceDirectoryUnreadable(path: String, reason: String)
    /// The endpoint URL could not be understood.
    case invalidURL(String, reason: String)
    /// Nothing listens at host:port.
    case connectionRefused(host: String, port: Int)
    /// TCP connect or DNS failed for another reason.
    case connectionFailed(host: String, port: Int, reason: String)
    /// The TLS handshake failed (usually certificate verification).
    case tlsFailure(reason: String, plaintextReply: Bool = false)
    /// The CA file given as `ca_file` could not be loaded.
    case caFileUnreadable(path: String, reason: String)
    /// The server answered the HTTP upgrade with something other than 101.
    case upgradeRejected(status: Int, reason: String)
    /// No `0x00` handshake within the configured time.
    case handshakeTimeout(seconds: Double)
    /// The server closed after the upgrade but before `0x00`.
    case closedDuringWarmUp(closeCode: Int?)
    /// The server closed a live session.
    case serverClosedSession(closeCode: Int?)
    /// Audio kept going out but nothing came back for this long: the server is stuck or the path is dead.
    case serverSilent(seconds: Double)
    /// The operation needs a live session.
    case notLive
    /// `connect()` was already called on this client (clients are single-use).
    case alreadyStarted
    /// The session was closed by the caller while connecting.
    case cancelled

    public var description: String {
        switch self {
        case .emptyTextPrompt:
            return "text_prompt is empty: PersonaPlex needs a non-empty text prompt (it closes the socket otherwise)"
        case let .textPromptTooLong(length, limit):
            return "text_prompt is \(length) characters long; the limit is \(limit)"
        case let .unknownVoice(voice, suggestions, directory):
            let hint = suggestions.isEmpty ? "" : "; did you mean \(suggestions.joined(separator: ", "))?"
            let checked =
                directory.map { "the files in voice_dir \($0)" }
                ?? "the 18 stock voices (NATF0-3, NATM0-3, VARF0-4, VARM0-4 .pt); set voice_dir to check a custom voice folder"
            return "unknown voice_prompt '\(voice)': not among \(checked)\(hint)"
        case let .voiceDirectoryUnreadable(path, reason):
            return "cannot list the voice directory \(path): \(reason)"
        case let .invalidURL(url, reason):
            return "invalid PersonaPlex URL '\(url)': \(reason)"
        case let .connectionRefused(host, port):
            return "connection refused at \(host):\(port) — is PersonaPlex running?"
        case let .connectionFailed(host, port, reason):
            return "cannot connect to \(host):\(port): \(reason)"
        case let .tlsFailure(reason, plaintextReply) where plaintextReply:
            return "TLS handshake failed (\(reason)): the server answered in plain text, so it serves ws:// "
                + "(PersonaPlex falls back to plain ws when it cannot set up TLS); use a ws:// URL"
        case let .tlsFailure(reason, _):
            return "TLS handshake failed (\(reason)); to trust a mkcert or self-signed certificate set ca_file "
                + "to its CA's PEM file, or (unsafe) set insecure_skip_verify: true"
        case let .caFileUnreadable(path, reason):
            return "cannot load ca_file \(path): \(reason)"
        case let .upgradeRejected(status, reason):
            return "the server refused the WebSocket upgrade: HTTP \(status) \(reason)"
        case let .handshakeTimeout(seconds):
            return "no handshake from PersonaPlex within \(formatSeconds(seconds)) s: the server is busy with another "
                + "session (it serves one at a time) or still processing the prompts; raise handshake_timeout "
                + "if its warm-up is slow"
        case let .closedDuringWarmUp(code):
            return "server closed during warm-up: most likely a bad text_prompt or voice_prompt "
                + "(the server accepts the upgrade then closes with 1006)\(closeCodeSuffix(code))"
        case let .serverClosedSession(code):
            return "server closed the session\(closeCodeSuffix(code))"
        case let .serverSilent(seconds):
            return "no message from the server for \(formatSeconds(seconds)) s while audio was being sent: "
                + "the server is stuck or the connection is dead"
        case .notLive:
            return "the PersonaPlex session is not live"
        case .alreadyStarted:
            return "this PersonaPlex client was already started; create a new one per session"
        case .cancelled:
            return "the PersonaPlex session was closed while connecting"
        }
    }
}

private func closeCodeSuffix(_ code: Int?) -> String {
    code.map { " (close code \($0))" } ?? " (no close frame: 1006)"
}

private func formatSeconds(_ seconds: Double) -> String {
    seconds == seconds.rounded() ? String(Int(seconds)) : String(seconds)
}
