/// Everything the bot says, in words a Discord user understands. Names that came from users are escaped here
/// (no Markdown, no mentions), so callers pass raw names.
public enum BotMessages {
    static func bold(_ channel: String) -> String { "**\(ChatText.name(channel))**" }

    public static func started(
        user: String, channel: String, voice: String, persona: String?,
        fallbackFrom: String?
    ) -> String {
        let personaText = persona.map { "persona **\($0)**" } ?? "their own prompt"
        var text =
            "🎙️ Voice session started in \(bold(channel)) for \(ChatText.name(user)): voice "
            + "**\(VoiceName.display(voice))**, \(personaText). Just talk; the AI listens and answers."
        if let fallbackFrom {
            text +=
                " (The voice \(ChatText.quoted(VoiceName.display(fallbackFrom))) is no longer installed, "
                + "so the default voice is used.)"
        }
        return text
    }

    public static func comingFromQueue(user: String, channel: String) -> String {
        "An AI voice is free now: I'm coming to \(bold(channel)) for \(ChatText.name(user)), who was waiting."
    }

    /// Told to someone who arrived while the bot cannot serve them.
    public static func busy(
        user: String, hereChannel: String?, otherServers: Int, backends: Int,
        position: Int
    ) -> String {
        var reasons: [String] = []
        if let hereChannel {
            reasons.append(
                "I'm already in \(bold(hereChannel)) on this server (I can only be in one voice channel "
                    + "per server)")
        }
        if otherServers > 0, hereChannel == nil || otherServers >= backends {
            let count = backends == 1 ? "my only AI voice is" : "all \(backends) of my AI voices are"
            reasons.append("\(count) in use on \(otherServers == 1 ? "another server" : "other servers")")
        }
        if reasons.isEmpty { reasons.append("all my AI voices are in use") }
        return "Sorry \(ChatText.name(user)), I'm busy: \(reasons.joined(separator: ", and ")). "
            + "You're number \(position) in the queue: I'll come to you as soon as I'm free, "
            + "as long as you're still in a voice channel."
    }

    static func ended(
        channel: String, seconds: Double, reason: BotState.EndReason, backend: Int,
        of backends: Int
    ) -> String {
        let duration = ChatText.duration(seconds: seconds)
        let why: String
        switch reason {
        case .everyoneLeft: why = "everyone left"
        case let .leaveCommand(user): why = "\(ChatText.name(user)) asked me to leave"
        case .disconnected: why = "I was disconnected from the voice channel"
        case let .problem(problem): why = explain(problem, backend: backend, of: backends)
        }
        return "Voice session in \(bold(channel)) ended after \(duration): \(why)."
    }

    public static func couldNotStart(user: String, problem: VoiceSessionProblem, backend: Int, of backends: Int)
        -> String
    {
        "⚠️ I couldn't start a voice session for \(ChatText.name(user)): "
            + "\(explain(problem, backend: backend, of: backends)). Leave and rejoin the voice channel to try again."
    }

    /// A problem in plain words (the technical detail goes to the log, not to the chat).
    static func explain(_ problem: VoiceSessionProblem, backend: Int, of backends: Int) -> String {
        let which = backends > 1 ? " (AI server \(backend + 1) of \(backends))" : ""
        switch problem {
        case .backendUnreachable:
            return "the AI server is unreachable\(which); it may be down or restarting"
        case .backendBusy:
            return "the AI server is busy with another client\(which); it serves one conversation at a time"
        case .backendClosed:
            return "the AI server ended the conversation\(which)"
        case .voiceJoinFailed:
            return "I couldn't join the voice channel (check that I may connect and speak there, "
                + "and that it isn't full)"
        case .voiceLost:
            return "the voice connection was lost"
        case .pipelineFailed:
            return "the audio pipeline failed (the bot's log says why)"
        case .shuttingDown:
            return "the bot is shutting down"
        }
    }

    public static func onMyWay(channel: String) -> String { "On my way to \(bold(channel))." }
    public static func alreadyHere(channel: String) -> String { "I'm already here in \(bold(channel))." }
    public static func leaving(channel: String) -> String { "Leaving \(bold(channel))." }
    public static let notInVoice = "I'm not in a voice channel on this server."
    public static let guildOnly = "That only works in a server, not in direct messages."

    public static func joinVoiceFirst(prefix: String) -> String {
        "Join a voice channel first, then use `\(prefix)join` (or `/join`)."
    }
}
