import DAVE
import MLS

/// The voice server's DAVE role (dave.md §10 "the harness plays the voice gateway"), driven by network events:
/// op 25 to each member, its op 26 queued, external Add/Remove proposals (op 27) to the group, the first op 28
/// relayed as op 29 (existing members) and op 30 (joiners), op 22 once every op 23 is in, and the sole-member reset
/// (op 24 epoch 1, op 21 transition 0) when one member is left. One transition at a time; the rest queue.
final class VoiceDAVECoordinator {
    /// A message for one member.
    enum Outbound: Equatable {
        case binary(op: UInt8, payload: [UInt8])
        case json(op: Int, d: [String: Int])
    }

    private struct Transition {
        let id: UInt16
        /// Members that got op 27 (one of them commits).
        let existing: [UInt64]
        let joining: [UInt64]
        let removedLeaves: [UInt32]
        var committed = false
        var awaiting: Set<UInt64> = []
    }

    let role: DAVEExternalSenderRole
    private let send: (UInt64, Outbound) -> Void
    private let log: (String) -> Void
    /// User per leaf of the established group (nil = blank).
    private(set) var leaves: [UInt64?] = []
    private(set) var epoch: UInt64 = 0
    private var waiting: [(userID: UInt64, keyPackage: [UInt8])] = []
    private var departed: Set<UInt64> = []
    private var transition: Transition?
    private var nextTransitionID: UInt16 = 1
    /// Members whose next op 29 is damaged (fault injection: "a corrupted commit to one member").
    var corruptNextCommit: Set<UInt64> = []
    /// Transitions executed so far.
    private(set) var executed = 0
    /// Op 31 answers received so far.
    private(set) var invalidAnswers = 0

    init(channelID: UInt64, send: @escaping (UInt64, Outbound) -> Void, log: @escaping (String) -> Void) throws {
        role = try DAVEExternalSenderRole(channelID: channelID)
        self.send = send
        self.log = log
    }

    var groupMembers: [UInt64] { leaves.compactMap { $0 } }

    /// Session Description went out with DAVE on: announce the external sender.
    func memberJoined(_ userID: UInt64) {
        departed.remove(userID)
        send(userID, .binary(op: 25, payload: role.package.encoded))
    }

    /// Op 26.
    func keyPackage(from userID: UInt64, _ payload: [UInt8]) {
        waiting.removeAll { $0.userID == userID }
        waiting.append((userID, payload))
        advance()
    }

    /// The member's socket session ended for good (op 13 to the others is the server's job).
    func memberLeft(_ userID: UInt64) {
        waiting.removeAll { $0.userID == userID }
        if groupMembers.contains(userID) { departed.insert(userID) }
        if var current = transition {
            current.awaiting.remove(userID)
            transition = current
            if !current.committed, current.existing.allSatisfy({ departed.contains($0) || $0 == userID }) {
                log("DAVE: transition \(current.id) lost its committers; retrying")
                transition = nil
            } else if current.committed, current.awaiting.isEmpty {
                execute(current)
            }
        }
        advance()
    }

    /// Op 28: the first one wins.
    func commitWelcome(from userID: UInt64, _ payload: [UInt8]) {
        guard var current = transition, !current.committed, current.existing.contains(userID) else { return }
        let parsed: DAVECommitWelcome
        do { parsed = try DAVECommitWelcome(payload: payload) } catch {
            log("DAVE: bad op 28 from \(userID): \(error)")
            return
        }
        current.committed = true
        log("DAVE: transition \(current.id) committed by \(userID)")
        let announce = DAVEAnnounceCommit(transitionID: current.id, commit: parsed.commit).encoded
        for member in current.existing where !departed.contains(member) {
            var payload = announce
            if corruptNextCommit.remove(member) != nil, let last = payload.indices.last { payload[last] ^= 0x01 }
            send(member, .binary(op: 29, payload: payload))
            current.awaiting.insert(member)
        }
        if !current.joining.isEmpty, let welcome = parsed.welcome {
            let payload = DAVEWelcomePayload(transitionID: current.id, welcome: welcome).encoded
            for member in current.joining {
                send(member, .binary(op: 30, payload: payload))
                current.awaiting.insert(member)
            }
        }
        applyToRoster(
            removed: current.removedLeaves, added: current.joining,
            committer: leaves.isEmpty ? userID : nil)
        epoch += 1
        transition = current
    }

    /// The call's protocol version (0 after a downgrade).
    private(set) var protocolVersion: UInt16 = 1
    private var downgrade: (id: UInt16, awaiting: Set<UInt64>)?
    private var downgradeRequested = false

    /// Downgrade the call to plain Opus: op 21 (version 0) to every member, op 22 once all answered op 23.
    /// A transition in flight finishes first.
    func startDowngrade() {
        guard downgrade == nil, protocolVersion > 0 else { return }
        guard transition == nil else {
            downgradeRequested = true
            return
        }
        downgradeRequested = false
        let id = takeTransitionID()
        let present = groupMembers.filter { !departed.contains($0) }
        downgrade = (id, Set(present))
        log("DAVE: downgrade, transition \(id)")
        for member in present { send(member, .json(op: 21, d: ["protocol_version": 0, "transition_id": Int(id)])) }
        if present.isEmpty { finishDowngrade() }
    }

    /// Upgrade back to DAVE: op 24 (epoch 1) to `members`; their new op 26s form a new group.
    func startUpgrade(members: [UInt64]) {
        guard protocolVersion == 0, downgrade == nil else { return }
        protocolVersion = 1
        leaves = []
        epoch = 0
        departed = []
        waiting = []
        for member in members {
            send(member, .json(op: 24, d: ["protocol_version": 1, "epoch": 1, "transition_id": 0]))
        }
    }

    private func finishDowngrade() {
        guard let finished = downgrade else { return }
        let members = groupMembers
        downgrade = nil
        protocolVersion = 0
        leaves = []
        epoch = 0
        executed += 1
        for member in members { send(member, .json(op: 22, d: ["transition_id": Int(finished.id)])) }
    }

    private func takeTransitionID() -> UInt16 {
        let id = nextTransitionID
        nextTransitionID = nextTransitionID == .max ? 1 : nextTransitionID + 1
        return id
    }

    /// Op 23.
    func ready(from userID: UInt64, transitionID: UInt16) {
        if var pending = downgrade, pending.id == transitionID {
            pending.awaiting.remove(userID)
            downgrade = pending
            if pending.awaiting.isEmpty { finishDowngrade() }
            return
        }
        guard var current = transition, current.committed, current.id == transitionID else { return }
        current.awaiting.remove(userID)
        transition = current
        if current.awaiting.isEmpty { execute(current) }
    }

    /// Op 31: the member dropped out of the group; its new op 26 re-adds it (its old leaf is removed then).
    func invalid(from userID: UInt64, transitionID: UInt16) {
        log("DAVE: \(userID) refused transition \(transitionID) (op 31)")
        invalidAnswers += 1
        if var current = transition, current.id == transitionID {
            current.awaiting.remove(userID)
            transition = current
            if current.committed, current.awaiting.isEmpty { execute(current) }
        }
    }

    private func execute(_ finished: Transition) {
        transition = nil
        executed += 1
        for member in groupMembers where !departed.contains(member) {
            send(member, .json(op: 22, d: ["transition_id": Int(finished.id)]))
        }
        if downgradeRequested { return startDowngrade() }
        advance()
    }

    /// Starts the next transition when none is in flight.
    private func advance() {
        guard transition == nil, downgrade == nil, protocolVersion > 0 else { return }
        let present = groupMembers.filter { !departed.contains($0) }
        // Sole-member reset: the second-to-last member left.
        if !leaves.isEmpty, present.count == 1, !departed.isEmpty {
            let sole = present[0]
            log("DAVE: sole-member reset for \(sole)")
            leaves = []
            epoch = 0
            departed = []
            send(sole, .json(op: 24, d: ["protocol_version": 1, "epoch": 1, "transition_id": 0]))
            send(sole, .json(op: 21, d: ["protocol_version": 1, "transition_id": 0]))
            return
        }
        if leaves.isEmpty || present.isEmpty {
            leaves = []
            epoch = 0
            departed = []
            guard waiting.count >= 2 else { return }
            // A new group starts as the first member's pending group (epoch 0, the committer alone).
            let committer = waiting.removeFirst()
            propose(existing: [committer.userID], removing: [], adding: waiting)
            return
        }
        let rejoining = Set(waiting.map(\.userID))
        let removed = leaves.enumerated().compactMap { index, user -> UInt32? in
            guard let user, departed.contains(user) || rejoining.contains(user) else { return nil }
            return UInt32(index)
        }
        guard !waiting.isEmpty || !removed.isEmpty else { return }
        let existing = present.filter { !rejoining.contains($0) }
        guard !existing.isEmpty else {
            leaves = []
            return advance()
        }
        propose(existing: existing, removing: removed, adding: waiting)
    }

    private func propose(
        existing: [UInt64], removing removed: [UInt32],
        adding joiners: [(userID: UInt64, keyPackage: [UInt8])]
    ) {
        var messages: [MLSMessage] = []
        do {
            for leaf in removed { messages.append(try role.remove(leafIndex: leaf, epoch: epoch).message) }
            for joiner in joiners {
                messages.append(try role.add(keyPackagePayload: joiner.keyPackage, epoch: epoch).message)
            }
        } catch {
            log("DAVE: could not build proposals: \(error)")
            waiting.removeAll()
            return
        }
        waiting.removeAll()
        let id = takeTransitionID()
        transition = Transition(id: id, existing: existing, joining: joiners.map(\.userID), removedLeaves: removed)
        for leaf in removed { if Int(leaf) < leaves.count, let user = leaves[Int(leaf)] { departed.remove(user) } }
        let payload = DAVEProposalsPayload.append(messages).encoded
        log("DAVE: transition \(id): +\(joiners.map(\.userID)) -leaves \(removed) to \(existing)")
        for member in existing { send(member, .binary(op: 27, payload: payload)) }
    }

    /// RFC 9420 §12.3: removes blank leaves (trailing blanks truncated); adds fill the leftmost blank.
    private func applyToRoster(removed: [UInt32], added: [UInt64], committer: UInt64?) {
        if let committer { leaves = [committer] }
        for leaf in removed where Int(leaf) < leaves.count { leaves[Int(leaf)] = nil }
        while let last = leaves.last, last == nil { leaves.removeLast() }
        for user in added {
            if let blank = leaves.firstIndex(where: { $0 == nil }) { leaves[blank] = user } else { leaves.append(user) }
        }
    }
}
