import Synchronization

/// Sessions of this process that have been upgraded and not ended, per endpoint authority.
/// Used only to name `PersonaPlexWaitReason.heldByThisProcess`. Touched by event loops at upgrade, every 50 ms while
/// queued behind a holder, and at the end of a session (never by the tick thread).
enum PersonaPlexSessionRegistry {
    private static let open = Mutex<[String: Set<ObjectIdentifier>]>([:])
    private static let insecureWarned = Atomic<Bool>(false)

    static func register(_ id: ObjectIdentifier, authority: String) {
        open.withLock { _ = $0[authority, default: []].insert(id) }
    }

    static func unregister(_ id: ObjectIdentifier, authority: String) {
        open.withLock { _ = $0[authority]?.remove(id) }
    }

    static func othersOpen(besides id: ObjectIdentifier, authority: String) -> Bool {
        open.withLock { ($0[authority] ?? []).contains { $0 != id } }
    }

    /// `true` the first time it is called in this process.
    static func claimInsecureWarning() -> Bool {
        !insecureWarned.exchange(true, ordering: .relaxed)
    }
}
