import MLS

/// DAVE's view of an MLS `Group`: the pending group (epoch 0, only us) or the established one.
final class SessionGroup {
    private let group: Group
    /// Whether op 27 reached this group since it was created or last moved epoch (libdave `stateWithProposals_`).
    private(set) var receivedProposals = false

    private init(group: Group) {
        self.group = group
        group.requiresProposalReferences = true
    }

    /// Creates our pending group with the voice gateway as the only external sender.
    static func pending(groupID: [UInt8], keyPackage: KeyPackageBundle, externalSender: [UInt8]) throws -> SessionGroup
    {
        let sender = try ExternalSender(tlsEncoded: externalSender)
        return SessionGroup(
            group: try Group.create(groupID: groupID, keyPackage: keyPackage, externalSenders: [sender]))
    }

    /// Joins from a Welcome (inline ratchet tree), refusing a group other than `groupID`.
    static func join(welcome: Welcome, keyPackage: KeyPackageBundle, groupID: [UInt8]) throws -> SessionGroup {
        let group = try Group.join(welcome: welcome, keyPackage: keyPackage)
        guard group.groupID == groupID else { throw MLSError.validation("welcome for another group") }
        return SessionGroup(group: group)
    }

    /// True once a commit or Welcome put us in a real group (epoch ≥ 1).
    var isEstablished: Bool { group.epoch > 0 && !group.isRemoved }
    var epoch: UInt64 { group.epoch }
    var epochAuthenticator: [UInt8] { group.epochAuthenticator }
    /// Encoded `ExternalSender`s of the group context.
    var externalSenders: [[UInt8]] { group.externalSenders.map(\.tlsEncoded) }
    /// True when a commit removed us.
    var isRemoved: Bool { group.isRemoved }

    /// Members in leaf order with their user ids and signature keys.
    var members: [DAVEMember] {
        group.tree.occupiedLeaves.compactMap { entry in
            entry.leaf.credential.userID.map {
                DAVEMember(leafIndex: entry.index, userID: $0, signatureKey: entry.leaf.signatureKey)
            }
        }
    }

    /// `MLS-Exporter(label, context, length)` of the current epoch; `nil` for a length the exporter refuses.
    func exportSecret(label: String, context: [UInt8], length: Int) -> [UInt8]? {
        try? group.exporter(label: label, context: context, length: length)
    }

    /// Records that op 27 arrived, so the next announced commit is processed.
    func noteProposalsReceived() { receivedProposals = true }

    /// Verifies and queues external proposals.
    func append(proposals: [MLSMessage]) throws {
        for message in proposals { try group.processProposal(message) }
    }

    /// Drops queued proposals by reference (unknown references are ignored, as libdave does).
    func revoke(references: [[UInt8]]) {
        for reference in references { group.revokeProposal(reference: reference) }
    }

    var hasQueuedProposals: Bool { !group.pendingProposals.isEmpty }

    /// True when a queued proposal removes us: we must not commit it (the others will).
    var queuedProposalsRemoveUs: Bool {
        queuedProposals.contains(.remove(leafIndex: group.ownLeafIndex))
    }

    /// Proposals queued for the next commit, in arrival order.
    var queuedProposals: [Proposal] { group.pendingProposals.map(\.proposal) }

    /// Commits every queued proposal by reference; returns the op 28 payload (commit ‖ Welcome?).
    func commitQueuedProposals() throws -> [UInt8] {
        let (commit, welcome) = try group.commitPending()
        return commit + (welcome ?? [])
    }

    /// Whether an announced commit concerns this group at all: libdave `CanProcessCommit` ignores commits for
    /// another group and any commit before op 27 arrived in this epoch (its `stateWithProposals_` is unset).
    func isExpecting(commit: MLSMessage) -> Bool {
        guard case .publicMessage(let message) = commit, message.content.groupID == group.groupID else { return false }
        return receivedProposals
    }

    /// Moves to the commit's epoch (adopting our own cached commit when it won).
    func process(commit: MLSMessage) throws {
        try group.processCommit(commit)
        receivedProposals = false
    }
}
