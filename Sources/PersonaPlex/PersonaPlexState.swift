/// The life of one PersonaPlex session: the client's one state machine, owned by its event loop.
///
/// `idle → connecting → (waitingForServer(.heldByThisProcess) →) upgraded
/// (→ waitingForServer(.serverBusyOrWarmingUp)) → live → closing → closed | failed(reason)`; any state before `live`
/// can also end in `failed`, or go to `closing` when the caller closes. `canMove(to:)` is the full transition table;
/// the client changes state only through it, on its event loop, and publishes every change to the tick thread
/// through a `RealtimeRing` (`drainStateChanges`).
///
/// What is observable: after the HTTP upgrade the server is silent until it sends `0x00`. It is silent both
/// while it waits for its single-session lock (another client is connected) and while it runs the system
/// prompts with the lock held (one to several seconds). The wire cannot tell the two apart. When a session of
/// this process to the same endpoint is still open, the lock is certainly taken: the client reports
/// `waitingForServer(.heldByThisProcess)` at once and `upgraded` (warming up) when that session ends. Otherwise
/// it reports `upgraded`, and `waitingForServer(.serverBusyOrWarmingUp)` after `waitingNotice` seconds of silence.
public enum PersonaPlexState: Sendable, Equatable, CustomStringConvertible {
    /// Created, `connect()` not called yet.
    case idle
    /// TCP/TLS connect and HTTP upgrade in progress.
    case connecting
    /// Upgraded; the server has not sent `0x00` yet: warming up (prompts being processed), as far as we know.
    case upgraded
    /// Upgraded and queued: behind a session of this process, or (ambiguous) no `0x00` for `waitingNotice` s.
    case waitingForServer(PersonaPlexWaitReason)
    /// Handshake received: audio flows both ways.
    case live
    /// The caller closed: pages accepted before go out, then the close frame; new sends are refused.
    case closing
    /// Ended cleanly by the caller.
    case closed
    /// Ended by an error (refused, TLS, timeout, server close, …).
    case failed(PersonaPlexError)

    public var description: String {
        switch self {
        case .idle: return "idle"
        case .connecting: return "connecting"
        case .upgraded: return "warming up (the server is processing the prompts)"
        case let .waitingForServer(reason): return "waiting for the server to be free (\(reason))"
        case .live: return "live"
        case .closing: return "closing"
        case .closed: return "closed"
        case let .failed(error): return "failed: \(error)"
        }
    }

    /// `true` for `closed` and `failed`.
    public var isFinal: Bool {
        switch self {
        case .closed, .failed: return true
        default: return false
        }
    }

    /// Upgraded and waiting for `0x00` (`upgraded` or `waitingForServer`).
    public var awaitsHandshake: Bool {
        switch self {
        case .upgraded, .waitingForServer: return true
        default: return false
        }
    }

    /// The transition table. A final state never changes; `closing` only ends; every earlier state can fail.
    public func canMove(to next: PersonaPlexState) -> Bool {
        if isFinal { return false }
        if case .failed = next { return true }
        switch (self, next) {
        case (.idle, .connecting), (.idle, .closed):
            return true
        case (.connecting, .upgraded), (.connecting, .waitingForServer(.heldByThisProcess)), (.connecting, .closing):
            return true
        case (.upgraded, .waitingForServer(.serverBusyOrWarmingUp)), (.waitingForServer(.heldByThisProcess), .upgraded):
            return true
        case (.upgraded, .live), (.waitingForServer, .live), (.upgraded, .closing), (.waitingForServer, .closing):
            return true
        case (.live, .closing), (.closing, .closed):
            return true
        default:
            return false
        }
    }
}

/// Why the client believes it is waiting before `0x00`.
public enum PersonaPlexWaitReason: Sendable, Equatable, CustomStringConvertible {
    /// Indistinguishable on the wire: another client holds the lock, or the prompts are still being processed.
    case serverBusyOrWarmingUp
    /// Another session of this process to the same endpoint is still open, so the lock is taken.
    case heldByThisProcess

    public var description: String {
        switch self {
        case .serverBusyOrWarmingUp: return "another session holds the server, or it is still processing the prompts"
        case .heldByThisProcess: return "another session of this process holds the server"
        }
    }
}
