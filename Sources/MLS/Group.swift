/// A proposal held in the group's proposal cache until the next commit.
public struct CachedProposal: Equatable {
    /// `ProposalRef` of the message that carried it.
    public let reference: [UInt8]
    public let proposal: Proposal
    public let sender: Sender
}

/// Everything that defines one epoch of group state for the local member.
struct GroupState {
    var groupContext: GroupContext
    var tree: RatchetTree
    var privateKeys: TreePrivateKeys
    var secrets: EpochSecrets
    var interimTranscriptHash: [UInt8]
    var proposals: [CachedProposal] = []
}

/// The result of processing a commit.
public struct CommitOutcome: Equatable {
    /// True when the commit was our own pending commit and the cached state was adopted.
    public let wasOwnCommit: Bool
    /// The leaf index of the committer.
    public let committer: UInt32
    /// Leaf indices added in the new epoch.
    public let addedLeaves: [UInt32]
    /// Leaf indices removed (they were members in the previous epoch).
    public let removedLeaves: [UInt32]
    /// True when the commit removed the local member; the group is no longer usable.
    public let removedSelf: Bool
}

/// An MLS group for cipher suite 2, as driven by DAVE: external Add/Remove proposals, by-reference commits,
/// Welcome with inline ratchet tree, PublicMessage only.
public final class Group {
    var state: GroupState
    let signaturePrivateKey: [UInt8]
    /// Our own commit awaiting announcement: its MLSMessage bytes and the state it leads to.
    var pendingCommit: (message: [UInt8], state: GroupState, outcome: CommitOutcome)?
    /// When true, commits from other members must carry every proposal by reference (DAVE's rule);
    /// inline proposals are then rejected. Defaults to false (RFC 9420 allows inline proposals).
    public var requiresProposalReferences = false
    /// Set once a commit removed us.
    public internal(set) var isRemoved = false

    init(state: GroupState, signaturePrivateKey: [UInt8]) {
        self.state = state
        self.signaturePrivateKey = signaturePrivateKey
    }

    /// Creates a new group at epoch 0 holding only ourselves (a DAVE "pending group").
    /// The leaf, encryption key and signature key are those of `keyPackage`.
    public static func create(groupID: [UInt8], keyPackage: KeyPackageBundle, externalSenders: [ExternalSender]) throws
        -> Group
    {
        try create(
            groupID: groupID, keyPackage: keyPackage,
            extensions: externalSenders.isEmpty ? [] : [ExternalSender.extensionFor(externalSenders)])
    }

    /// Creates a new group at epoch 0 with the given group-context extensions.
    public static func create(groupID: [UInt8], keyPackage: KeyPackageBundle, extensions: [Extension]) throws -> Group {
        try keyPackage.keyPackage.validate()
        let tree = RatchetTree(firstLeaf: keyPackage.keyPackage.leafNode)
        let context = GroupContext(
            groupID: groupID, epoch: 0, treeHash: tree.rootHash, confirmedTranscriptHash: [], extensions: extensions)
        let secrets = EpochSecrets(
            initSecret: CipherSuite.randomBytes(CipherSuite.hashLength),
            commitSecret: EpochSecrets.zeroSecret, groupContext: context)
        let tag = secrets.confirmationTag(confirmedTranscriptHash: [])
        let keys = try TreePrivateKeys(leafIndex: 0, leafEncryptionPrivateKey: keyPackage.encryptionPrivateKey)
        let state = GroupState(
            groupContext: context, tree: tree, privateKeys: keys, secrets: secrets,
            interimTranscriptHash: TranscriptHash.interim(confirmed: [], confirmationTag: tag))
        return Group(state: state, signaturePrivateKey: keyPackage.signaturePrivateKey)
    }

    // MARK: - Read-only state

    /// The group id.
    public var groupID: [UInt8] { state.groupContext.groupID }
    /// The current epoch.
    public var epoch: UInt64 { state.groupContext.epoch }
    /// The current GroupContext.
    public var groupContext: GroupContext { state.groupContext }
    /// The current epoch authenticator.
    public var epochAuthenticator: [UInt8] { state.secrets.epochAuthenticator }
    /// The public ratchet tree.
    public var tree: RatchetTree { state.tree }
    /// Our leaf index.
    public var ownLeafIndex: UInt32 { state.privateKeys.leafIndex }
    /// Members by leaf index with their credentials.
    public var members: [UInt32: Credential] {
        Dictionary(uniqueKeysWithValues: state.tree.occupiedLeaves.map { ($0.index, $0.leaf.credential) })
    }
    /// Members by leaf index with their basic-credential identity read as a u64 user id (DAVE); others omitted.
    public var memberUserIDs: [UInt32: UInt64] { members.compactMapValues { $0.userID } }
    /// The `external_senders` of the group context (empty if absent or malformed).
    public var externalSenders: [ExternalSender] {
        guard let ext = state.groupContext.extensions.first(where: { $0.extensionType == Extension.externalSenders })
        else { return [] }
        return (try? ExternalSender.parseList(ext.data)) ?? []
    }
    /// Proposals cached for the next commit, in arrival order.
    public var pendingProposals: [CachedProposal] { state.proposals }
    /// True while our own commit awaits its announcement.
    public var hasPendingCommit: Bool { pendingCommit != nil }

    /// `MLS-Exporter(label, context, length)` for the current epoch.
    /// - Throws: `MLSError.invalidValue` when `length` is outside `0...CipherSuite.maxExpandLength`.
    public func exporter(label: String, context: [UInt8], length: Int) throws -> [UInt8] {
        try state.secrets.exporter(label: Array(label.utf8), context: context, length: length)
    }

    /// Internal access to secrets for tests and the DAVE layer's diagnostics.
    var epochSecrets: EpochSecrets { state.secrets }

    // MARK: - Proposals

    /// Verifies and caches a proposal carried in a PublicMessage (external sender, or member with membership tag).
    /// `validator` sees the proposal before it is cached and may throw to reject it. Returns the ProposalRef.
    @discardableResult
    public func processProposal(_ messageBytes: [UInt8], validator: ((Proposal, Sender) throws -> Void)? = nil) throws
        -> [UInt8]
    {
        try processProposal(MLSMessage(tlsEncoded: messageBytes), validator: validator)
    }

    /// As `processProposal(_:validator:)` for an already-decoded message.
    @discardableResult
    public func processProposal(_ message: MLSMessage, validator: ((Proposal, Sender) throws -> Void)? = nil) throws
        -> [UInt8]
    {
        guard !isRemoved else { throw MLSError.state("group member was removed") }
        guard case .publicMessage(let publicMessage) = message else {
            throw MLSError.unsupported("proposal not in a PublicMessage")
        }
        let content = publicMessage.content
        guard content.groupID == groupID else { throw MLSError.validation("proposal for another group") }
        guard content.epoch == epoch else {
            throw MLSError.validation("proposal for epoch \(content.epoch), group is at \(epoch)")
        }
        guard case .proposal(let proposal) = content.body else {
            throw MLSError.validation("message is not a proposal")
        }
        let authenticated = publicMessage.authenticatedContent
        switch content.sender {
        case .external(let index):
            let senders = externalSenders
            guard Int(index) < senders.count else { throw MLSError.validation("unknown external sender \(index)") }
            guard authenticated.verifySignature(publicKey: senders[Int(index)].signatureKey, groupContext: nil) else {
                throw MLSError.validation("external proposal signature invalid")
            }
        case .member(let leafIndex):
            guard let leaf = state.tree.leaf(leafIndex) else {
                throw MLSError.validation("proposal from blank leaf \(leafIndex)")
            }
            guard authenticated.verifySignature(publicKey: leaf.signatureKey, groupContext: state.groupContext) else {
                throw MLSError.validation("member proposal signature invalid")
            }
            guard
                publicMessage.verifyMembershipTag(
                    membershipKey: state.secrets.membershipKey, groupContext: state.groupContext)
            else {
                throw MLSError.validation("member proposal membership tag invalid")
            }
        case .newMemberProposal, .newMemberCommit:
            throw MLSError.unsupported("new-member proposals")
        }
        try validateStandalone(proposal)
        try validator?(proposal, content.sender)
        let reference = authenticated.proposalReference
        state.proposals.removeAll { $0.reference == reference }
        state.proposals.append(CachedProposal(reference: reference, proposal: proposal, sender: content.sender))
        return reference
    }

    /// Removes a cached proposal by reference; returns whether it was present.
    @discardableResult
    public func revokeProposal(reference: [UInt8]) -> Bool {
        let before = state.proposals.count
        state.proposals.removeAll { $0.reference == reference }
        return state.proposals.count != before
    }

    /// Drops every cached proposal and any pending own commit.
    public func clearPendingProposals() {
        state.proposals.removeAll()
        pendingCommit = nil
    }

    /// Checks a proposal on its own against the current state (supported type, valid KeyPackage, existing leaf).
    func validateStandalone(_ proposal: Proposal) throws {
        switch proposal {
        case .add(let keyPackage):
            try keyPackage.validate()
        case .remove(let leafIndex):
            guard state.tree.leaf(leafIndex) != nil else {
                throw MLSError.validation("remove of blank leaf \(leafIndex)")
            }
        default:
            throw MLSError.unsupported("proposal type \(proposal.proposalType)")
        }
    }
}
