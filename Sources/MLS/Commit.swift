/// Applying proposal lists and creating / processing commits (RFC 9420 §12.4).
struct AppliedProposals {
    var tree: RatchetTree
    var addedLeaves: [UInt32] = []
    var addedKeyPackages: [KeyPackage] = []
    var removedLeaves: [UInt32] = []
    /// Whether RFC 9420 §12.4 requires an UpdatePath for this proposal list.
    var pathRequired: Bool
}

extension Group {
    /// Resolves a commit's proposal list against the cache and inline proposals.
    func resolveProposals(_ list: [ProposalOrRef]) throws -> [Proposal] {
        try list.map { entry in
            switch entry {
            case .proposal(let proposal): return proposal
            case .reference(let ref):
                guard let cached = state.proposals.first(where: { $0.reference == ref }) else {
                    throw MLSError.validation("commit references an unknown proposal")
                }
                return cached.proposal
            }
        }
    }

    /// Validates a proposal list (§12.2) and applies it to a copy of the tree: Removes first, then Adds.
    func apply(_ proposals: [Proposal], committer: UInt32?) throws -> AppliedProposals {
        var removes: [UInt32] = []
        var adds: [KeyPackage] = []
        for proposal in proposals {
            switch proposal {
            case .add(let keyPackage): adds.append(keyPackage)
            case .remove(let leafIndex): removes.append(leafIndex)
            default: throw MLSError.unsupported("proposal type \(proposal.proposalType) in commit")
            }
        }
        guard Set(removes).count == removes.count else { throw MLSError.validation("duplicate Remove proposals") }
        if let committer, removes.contains(committer) { throw MLSError.validation("committer removes itself") }
        var applied = AppliedProposals(tree: state.tree, pathRequired: proposals.isEmpty || !removes.isEmpty)
        for leafIndex in removes {
            try applied.tree.removeLeaf(leafIndex)
            applied.removedLeaves.append(leafIndex)
        }
        var signatureKeys = Set(applied.tree.occupiedLeaves.map { $0.leaf.signatureKey })
        var encryptionKeys = Set(applied.tree.nodes.compactMap { $0?.encryptionKey })
        var initKeys = Set<[UInt8]>()
        for keyPackage in adds {
            try keyPackage.validate()
            guard signatureKeys.insert(keyPackage.leafNode.signatureKey).inserted,
                encryptionKeys.insert(keyPackage.leafNode.encryptionKey).inserted,
                initKeys.insert(keyPackage.initKey).inserted
            else {
                throw MLSError.validation("Add duplicates an existing key")
            }
            applied.addedLeaves.append(applied.tree.addLeaf(keyPackage.leafNode))
            applied.addedKeyPackages.append(keyPackage)
        }
        return applied
    }

    /// The GroupContext of the next epoch for `tree`, with `confirmedTranscriptHash`.
    func nextContext(tree: RatchetTree, confirmedTranscriptHash: [UInt8]) -> GroupContext {
        GroupContext(
            groupID: groupID, epoch: epoch + 1, treeHash: tree.rootHash,
            confirmedTranscriptHash: confirmedTranscriptHash,
            extensions: state.groupContext.extensions)
    }

    /// Commits every cached proposal by reference. Returns the commit as MLSMessage bytes and, when members were
    /// added, the bare Welcome bytes. The new state is kept pending until `processCommit` sees the same commit.
    public func commitPending() throws -> (commit: [UInt8], welcome: [UInt8]?) {
        guard !isRemoved else { throw MLSError.state("group member was removed") }
        guard epoch < UInt64.max else { throw MLSError.state("epoch counter exhausted") }
        let cached = state.proposals
        var applied = try apply(cached.map(\.proposal), committer: ownLeafIndex)
        var privateKeys = state.privateKeys
        var commitSecret = EpochSecrets.zeroSecret
        var path: UpdatePath?
        var pathSecrets: [UInt32: [UInt8]] = [:]
        if applied.pathRequired {
            let oldConfirmed = state.groupContext.confirmedTranscriptHash
            let created = try applied.tree.createUpdatePath(
                leafIndex: ownLeafIndex, signaturePrivateKey: signaturePrivateKey, groupID: groupID,
                excludedLeaves: Set(applied.addedLeaves)
            ) { [self] merged in
                nextContext(tree: merged, confirmedTranscriptHash: oldConfirmed).tlsEncoded
            }
            path = created.updatePath
            commitSecret = created.commitSecret
            pathSecrets = created.pathSecrets
            privateKeys = created.privateKeys
        }
        privateKeys.prune(to: applied.tree)

        let commit = Commit(proposals: cached.map { .reference($0.reference) }, path: path)
        let content = FramedContent(
            groupID: groupID, epoch: epoch, sender: .member(leafIndex: ownLeafIndex), body: .commit(commit))
        let signature = try AuthenticatedContent.sign(
            content, wireFormat: .publicMessage, privateKey: signaturePrivateKey,
            groupContext: state.groupContext)
        var authenticated = AuthenticatedContent(
            wireFormat: .publicMessage, content: content,
            auth: FramedContentAuthData(signature: signature, confirmationTag: nil))
        let confirmed = TranscriptHash.confirmed(interimBefore: state.interimTranscriptHash, content: authenticated)
        let newContext = nextContext(tree: applied.tree, confirmedTranscriptHash: confirmed)
        let secrets = EpochSecrets(
            initSecret: state.secrets.initSecret, commitSecret: commitSecret, groupContext: newContext)
        let tag = secrets.confirmationTag(confirmedTranscriptHash: confirmed)
        authenticated.auth.confirmationTag = tag
        let membershipTag = try PublicMessage.membershipTag(
            for: authenticated, membershipKey: state.secrets.membershipKey,
            groupContext: state.groupContext)
        let message = MLSMessage.publicMessage(
            PublicMessage(content: content, auth: authenticated.auth, membershipTag: membershipTag))

        var welcomeBytes: [UInt8]?
        if !applied.addedKeyPackages.isEmpty {
            var groupInfo = GroupInfo(
                groupContext: newContext,
                extensions: [Extension(extensionType: Extension.ratchetTree, data: applied.tree.extensionData)],
                confirmationTag: tag, signer: ownLeafIndex)
            try groupInfo.sign(privateKey: signaturePrivateKey)
            var secretsByRef: [[UInt8]: [UInt8]] = [:]
            for (leafIndex, keyPackage) in zip(applied.addedLeaves, applied.addedKeyPackages) {
                let ancestor = TreeMath.commonAncestor(leafIndex * 2, ownLeafIndex * 2)
                if let secret = pathSecrets[ancestor] { secretsByRef[keyPackage.reference] = secret }
            }
            let welcome = try Welcome.create(
                groupInfo: groupInfo, joinerSecret: secrets.joinerSecret, welcomeSecret: secrets.welcomeSecret,
                newMembers: applied.addedKeyPackages, pathSecrets: secretsByRef)
            welcomeBytes = welcome.tlsEncoded
        }

        let newState = GroupState(
            groupContext: newContext, tree: applied.tree, privateKeys: privateKeys, secrets: secrets,
            interimTranscriptHash: TranscriptHash.interim(confirmed: confirmed, confirmationTag: tag))
        let outcome = CommitOutcome(
            wasOwnCommit: true, committer: ownLeafIndex, addedLeaves: applied.addedLeaves,
            removedLeaves: applied.removedLeaves, removedSelf: false)
        let messageBytes = message.tlsEncoded
        pendingCommit = (messageBytes, newState, outcome)
        return (messageBytes, welcomeBytes)
    }

    /// Processes a commit MLSMessage for the current epoch. Our own pending commit is recognised byte-for-byte
    /// and its cached state adopted; otherwise the commit is verified and applied.
    @discardableResult
    public func processCommit(_ messageBytes: [UInt8]) throws -> CommitOutcome {
        guard !isRemoved else { throw MLSError.state("group member was removed") }
        if let pending = pendingCommit, pending.message == messageBytes {
            state = pending.state
            pendingCommit = nil
            return pending.outcome
        }
        guard case .publicMessage(let message) = try MLSMessage(tlsEncoded: messageBytes) else {
            throw MLSError.unsupported("commit not in a PublicMessage")
        }
        let outcome = try processOtherCommit(message)
        pendingCommit = nil
        return outcome
    }

    /// As `processCommit(_:)` for an already-decoded `MLSMessage`.
    @discardableResult
    public func processCommit(_ message: MLSMessage) throws -> CommitOutcome {
        try processCommit(message.tlsEncoded)
    }

    func processOtherCommit(_ message: PublicMessage) throws -> CommitOutcome {
        let content = message.content
        guard content.groupID == groupID else { throw MLSError.validation("commit for another group") }
        guard content.epoch == epoch else {
            throw MLSError.validation("commit for epoch \(content.epoch), group is at \(epoch)")
        }
        guard epoch < UInt64.max else { throw MLSError.state("epoch counter exhausted") }
        guard case .commit(let commit) = content.body else { throw MLSError.validation("message is not a commit") }
        guard case .member(let committer) = content.sender else {
            throw MLSError.unsupported("commit from a non-member sender")
        }
        if requiresProposalReferences,
            commit.proposals.contains(where: { if case .proposal = $0 { return true } else { return false } })
        {
            throw MLSError.validation("commit carries inline proposals")
        }
        guard committer != ownLeafIndex else {
            throw MLSError.validation("commit claims our leaf but is not our pending commit")
        }
        guard let committerLeaf = state.tree.leaf(committer) else {
            throw MLSError.validation("commit from blank leaf \(committer)")
        }
        let authenticated = message.authenticatedContent
        guard authenticated.verifySignature(publicKey: committerLeaf.signatureKey, groupContext: state.groupContext)
        else {
            throw MLSError.validation("commit signature invalid")
        }
        guard message.verifyMembershipTag(membershipKey: state.secrets.membershipKey, groupContext: state.groupContext)
        else {
            throw MLSError.validation("commit membership tag invalid")
        }
        guard let tag = message.auth.confirmationTag else {
            throw MLSError.validation("commit without confirmation tag")
        }

        var applied = try apply(try resolveProposals(commit.proposals), committer: committer)
        let removedSelf = applied.removedLeaves.contains(ownLeafIndex)
        var privateKeys = state.privateKeys
        var commitSecret = EpochSecrets.zeroSecret
        if let path = commit.path {
            guard path.leafNode.credential == committerLeaf.credential else {
                throw MLSError.validation("update path changes the committer's credential")
            }
            let filtered = try applied.tree.mergeUpdatePath(sender: committer, path: path, groupID: groupID)
            if !removedSelf {
                let context = nextContext(
                    tree: applied.tree, confirmedTranscriptHash: state.groupContext.confirmedTranscriptHash)
                commitSecret = try applied.tree.decryptUpdatePath(
                    sender: committer, path: path, filteredPath: filtered,
                    excludedLeaves: Set(applied.addedLeaves),
                    context: context.tlsEncoded, keys: &privateKeys
                ).commitSecret
            }
        } else if applied.pathRequired {
            throw MLSError.validation("commit requires an UpdatePath")
        }
        if removedSelf {
            isRemoved = true
            return CommitOutcome(
                wasOwnCommit: false, committer: committer, addedLeaves: applied.addedLeaves,
                removedLeaves: applied.removedLeaves, removedSelf: true)
        }
        privateKeys.prune(to: applied.tree)

        let confirmed = TranscriptHash.confirmed(interimBefore: state.interimTranscriptHash, content: authenticated)
        let newContext = nextContext(tree: applied.tree, confirmedTranscriptHash: confirmed)
        let secrets = EpochSecrets(
            initSecret: state.secrets.initSecret, commitSecret: commitSecret, groupContext: newContext)
        guard constantTimeEqual(secrets.confirmationTag(confirmedTranscriptHash: confirmed), tag) else {
            throw MLSError.validation("commit confirmation tag invalid")
        }
        state = GroupState(
            groupContext: newContext, tree: applied.tree, privateKeys: privateKeys, secrets: secrets,
            interimTranscriptHash: TranscriptHash.interim(confirmed: confirmed, confirmationTag: tag))
        return CommitOutcome(
            wasOwnCommit: false, committer: committer, addedLeaves: applied.addedLeaves,
            removedLeaves: applied.removedLeaves, removedSelf: false)
    }
}
