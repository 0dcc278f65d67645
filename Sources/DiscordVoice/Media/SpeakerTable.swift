/// SSRC ↔ user, from Speaking (op 5) and client events (op 11 / 13), plus per-SSRC liveness.
struct SpeakerTable {
    struct Entry {
        var userID: UInt64
        var lastArrival: UInt64 = 0
        var active = false
    }

    private(set) var bySSRC: [UInt32: Entry] = [:]
    private(set) var connected: Set<UInt64> = []

    func user(for ssrc: UInt32) -> UInt64? { bySSRC[ssrc]?.userID }

    /// Op 5: maps `ssrc`; returns whether it is new.
    mutating func speaking(userID: UInt64, ssrc: UInt32) -> Bool {
        connected.insert(userID)
        if let existing = bySSRC[ssrc], existing.userID == userID { return false }
        // One SSRC per user: a user reconnecting gets a new one.
        for (other, entry) in bySSRC where entry.userID == userID { bySSRC[other] = nil }
        bySSRC[ssrc] = Entry(userID: userID)
        return true
    }

    mutating func connected(_ ids: [UInt64]) { connected.formUnion(ids) }

    /// Op 13: drops the user's mapping.
    mutating func disconnected(_ userID: UInt64) {
        connected.remove(userID)
        for (ssrc, entry) in bySSRC where entry.userID == userID { bySSRC[ssrc] = nil }
    }

    /// A frame arrived; returns `true` when the speaker was silent before (a talkspurt starts).
    mutating func arrived(ssrc: UInt32, at now: UInt64) -> Bool {
        guard var entry = bySSRC[ssrc] else { return false }
        let wasSilent = !entry.active
        entry.lastArrival = now
        entry.active = true
        bySSRC[ssrc] = entry
        return wasSilent
    }

    /// Speakers with no packet for `timeout`: marked silent and returned.
    mutating func silenced(now: UInt64, timeout: UInt64) -> [UInt64] {
        var result: [UInt64] = []
        for (ssrc, entry) in bySSRC where entry.active && now &- entry.lastArrival >= timeout {
            bySSRC[ssrc]?.active = false
            result.append(entry.userID)
        }
        return result
    }

    mutating func removeAll() {
        bySSRC.removeAll()
        connected.removeAll()
    }
}
