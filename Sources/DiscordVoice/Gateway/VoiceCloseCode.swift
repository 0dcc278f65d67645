/// What to do when the voice gateway socket closes (discord.md §3 "Close codes"; discord.js `Networking`,
/// discord.py `voice_state.py`).
public enum VoiceCloseAction: Equatable, Sendable {
    /// Reopen the socket and send op 7 Resume.
    case resume
    /// Leave the voice socket closed and ask the main gateway for a new voice session (op 4 again).
    case rejoin
    /// Do nothing until the next VOICE_STATE_UPDATE / VOICE_SERVER_UPDATE (a move, a kick, a server change).
    case awaitVoiceUpdate
    /// Give up: the reason says why.
    case stop(VoiceStopReason)
}

/// Why the voice connection stopped for good.
public enum VoiceStopReason: Equatable, Sendable, CustomStringConvertible {
    /// 4017: the voice server requires DAVE end-to-end encryption and refused this client's offer.
    case daveRequired
    /// 4004: the voice token was refused.
    case authenticationFailed
    /// 4021: rate limited.
    case rateLimited
    /// A payload bug (4001–4003, 4005, 4012, 4016, 4020, or an unknown 4xxx) came back after one full rejoin.
    case protocolError(code: Int)
    /// Rejoins or resumes kept failing.
    case retriesExhausted(lastCode: Int?)
    /// Ready offered no transport mode we implement.
    case noSupportedMode(offered: [String])
    /// The connection was closed by us.
    case closedByUs

    public var description: String {
        switch self {
        case .daveRequired:
            return "Discord refused the voice connection with close code 4017: DAVE end-to-end encryption is "
                + "required and was refused (not retrying)"
        case .authenticationFailed: return "voice gateway authentication failed (4004)"
        case .rateLimited: return "voice gateway rate limited this connection (4021)"
        case .protocolError(let code): return "voice gateway rejected our payloads (close code \(code)) twice"
        case .retriesExhausted(let code):
            return "voice connection gave up after repeated failures (last close \(code.map(String.init) ?? "none"))"
        case .noSupportedMode(let offered): return "voice server offers no supported encryption mode: \(offered)"
        case .closedByUs: return "voice connection closed"
        }
    }
}

/// The close-code policy. `rejoinsSoFar` counts payload-bug rejoins already made, so those are tried once only.
public enum VoiceClosePolicy {
    public static func action(forCloseCode code: Int?, payloadBugRejoinsSoFar: Int) -> VoiceCloseAction {
        guard let code else { return .resume }
        switch code {
        case ..<4000, 4015: return .resume
        case 4006, 4009, 4011: return .rejoin
        case 4014, 4022: return .awaitVoiceUpdate
        case 4004: return .stop(.authenticationFailed)
        case 4017: return .stop(.daveRequired)
        case 4021: return .stop(.rateLimited)
        default:
            return payloadBugRejoinsSoFar == 0 ? .rejoin : .stop(.protocolError(code: code))
        }
    }
}
