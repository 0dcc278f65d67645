import DAVE
import MLS

/// Plays Discord's voice server for the interop members: MLS external sender (op 25), external Add/Remove proposals
/// (op 27), relaying the first commit (op 29 to existing members, op 30 to joiners) and op 22 after every op 23.
final class VoiceServer {
    let channelID: UInt64
    let role: DAVEExternalSenderRole
    /// Members currently connected to the channel.
    private(set) var connected: [InteropMember] = []
    /// User id per leaf of the established group (nil = blank leaf).
    private(set) var leaves: [UInt64?] = []
    /// The established group's epoch (0 while no group exists).
    private(set) var epoch: UInt64 = 0
    /// Users whose op 31 took them out of sync; they stay in `leaves` until a commit removes and re-adds them.
    private var desynced: Set<UInt64> = []
    private var waitingKeyPackages: [(member: InteropMember, keyPackage: [UInt8])] = []
    private var nextTransitionID: UInt16 = 1
    var log: (String) -> Void = { _ in }

    init(channelID: UInt64) throws {
        self.channelID = channelID
        role = try DAVEExternalSenderRole(channelID: channelID)
    }

    var recognized: [UInt64] { connected.map(\.userID) }

    /// Members currently in the established group.
    var groupMembers: [InteropMember] {
        let inGroup = Set(leaves.compactMap { $0 }).subtracting(desynced)
        return connected.filter { inGroup.contains($0.userID) }
    }

    /// A member connects: op 25, and its op 26 is kept for the next commit.
    func connect(_ member: InteropMember) throws {
        connected.append(member)
        let keyPackage = try member.start(externalSender: role.package.encoded, recognized: recognized)
        waitingKeyPackages.append((member, keyPackage))
    }

    /// A member disconnects; its leaf is removed by the next commit.
    func disconnect(_ member: InteropMember) -> UInt32? {
        connected.removeAll { $0 === member }
        waitingKeyPackages.removeAll { $0.member === member }
        return leaf(of: member)
    }

    /// The member's leaf in the established group.
    func leaf(of member: InteropMember) -> UInt32? {
        leaves.firstIndex(where: { $0 == member.userID }).map(UInt32.init)
    }

    /// Proposes adding every waiting member and removing `removedLeaves`, lets `committer` win (it gets op 27 first),
    /// relays the commit and Welcome, and executes the transition. `corrupt` members get a damaged op 29.
    /// Returns members that answered op 31 (they have re-initialised and wait with a fresh op 26).
    @discardableResult
    func commit(
        removing removedLeaves: [UInt32] = [], committer: InteropMember,
        corrupting corrupt: Set<UInt64> = []
    ) throws -> [InteropMember] {
        // A new group starts as the committer's pending group, which already holds the committer.
        let forming = leaves.isEmpty
        let joining = waitingKeyPackages.filter { !(forming && $0.member === committer) }
        waitingKeyPackages = []
        var messages: [MLSMessage] = []
        for leaf in removedLeaves { messages.append(try role.remove(leafIndex: leaf, epoch: epoch).message) }
        for entry in joining {
            messages.append(try role.add(keyPackagePayload: entry.keyPackage, epoch: epoch).message)
        }
        let proposals = DAVEProposalsPayload.append(messages).encoded

        let existing = forming ? [committer] : groupMembers
        guard existing.contains(where: { $0 === committer }) else {
            throw InteropFailure("\(committer.name) cannot commit: not in the group")
        }
        var winning: DAVECommitWelcome?
        for member in [committer] + existing.filter({ $0 !== committer }) {
            let reply = try member.proposals(proposals, recognized: recognized)
            if winning == nil {
                guard let reply else { throw InteropFailure("\(member.name) accepted no proposals (no op 28)") }
                winning = try DAVECommitWelcome(payload: reply)
            }
        }
        guard let winning else { throw InteropFailure("no commit") }
        let transitionID = nextTransitionID
        nextTransitionID &+= 1
        log("transition \(transitionID): \(committer.name) commits +\(joining.map(\.member.name)) -\(removedLeaves)")

        var failed: [InteropMember] = []
        let announce = DAVEAnnounceCommit(transitionID: transitionID, commit: winning.commit).encoded
        for member in existing {
            let payload = corrupt.contains(member.userID) ? Self.damaged(announce) : announce
            if case .invalid(let keyPackage) = try member.announceCommit(payload) {
                log("\(member.name) answered op 31 and sent a new op 26")
                failed.append(member)
                waitingKeyPackages.append((member, keyPackage))
            }
        }
        if !joining.isEmpty {
            guard let welcome = winning.welcome else { throw InteropFailure("commit adds members but has no Welcome") }
            let payload = DAVEWelcomePayload(transitionID: transitionID, welcome: welcome).encoded
            for entry in joining {
                if case .invalid(let keyPackage) = try entry.member.welcome(payload, recognized: recognized) {
                    failed.append(entry.member)
                    waitingKeyPackages.append((entry.member, keyPackage))
                }
            }
        }
        applyToRoster(removed: removedLeaves, added: joining.map(\.member.userID), committer: committer)
        desynced.formUnion(failed.map(\.userID))
        epoch += 1
        for member in groupMembers where !failed.contains(where: { $0 === member }) {
            try member.execute(transitionID: transitionID)
        }
        return failed
    }

    /// RFC 9420 §12.3: removes blank their leaves (trailing blanks truncated), adds fill the leftmost blank leaf.
    private func applyToRoster(removed: [UInt32], added: [UInt64], committer: InteropMember) {
        if leaves.isEmpty { leaves = [committer.userID] }
        for leaf in removed where Int(leaf) < leaves.count { leaves[Int(leaf)] = nil }
        while let last = leaves.last, last == nil { leaves.removeLast() }
        for user in added {
            desynced.remove(user)
            if let blank = leaves.firstIndex(where: { $0 == nil }) { leaves[blank] = user } else { leaves.append(user) }
        }
    }

    /// Flips a bit in the commit's last byte (inside its membership tag), so the signature/tag check fails.
    private static func damaged(_ payload: [UInt8]) -> [UInt8] {
        var copy = payload
        copy[copy.count - 1] ^= 0x01
        return copy
    }
}
