/// The life of one PersonaPlex session.
///
/// `idle → connecting → (waitingForServer(.heldByThisProcess) →) upgraded → live → closed | failed(reason)`;
/// any state before `live` can also end in `failed` or `closed` (caller closed while connecting).
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

/// Log severity for the injected logger.
public enum PersonaPlexLogLevel: Int, Sendable, Comparable {
    case debug, info, warning, error

    public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}

/// Injected logger; the library never prints on its own. Prompts are never logged.
public typealias PersonaPlexLogger = @Sendable (PersonaPlexLogLevel, String) -> Void

/// Sessions of this process that have been upgraded and not ended, per endpoint authority.
/// Used only to name `PersonaPlexWaitReason.heldByThisProcess`.
enum PersonaPlexSessionRegistry {
    private static let open = PersonaPlexLockedValue<[String: Set<ObjectIdentifier>]>([:])
    private static let insecureWarned = PersonaPlexLockedValue(false)

    static func register(_ id: ObjectIdentifier, authority: String) {
        open.withLock { state -> Void in state[authority, default: []].insert(id) }
    }

    static func unregister(_ id: ObjectIdentifier, authority: String) {
        open.withLock { state -> Void in _ = state[authority]?.remove(id) }
    }

    static func othersOpen(besides id: ObjectIdentifier, authority: String) -> Bool {
        open.withLock { ($0[authority] ?? []).contains { $0 != id } }
    }

    /// `true` the first time it is called in this process.
    static func claimInsecureWarning() -> Bool {
        insecureWarned.withLock { warned in
            defer { warned = true }
            return !warned
        }
    }
}
