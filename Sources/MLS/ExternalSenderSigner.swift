/// The external-sender role (the DAVE voice gateway): signs Add and Remove proposals for a group.
public struct ExternalSenderSigner {
    /// The public `ExternalSender` (DAVE op 25 payload is its encoding).
    public let sender: ExternalSender
    let signaturePrivateKey: [UInt8]
    /// This sender's index in the group's `external_senders` list.
    public let senderIndex: UInt32

    /// Creates a signer with a basic credential `identity` and the given or a fresh signature key.
    public init(identity: [UInt8], signaturePrivateKey: [UInt8]? = nil, senderIndex: UInt32 = 0) throws {
        let key = signaturePrivateKey ?? CipherSuite.generateSignatureKeyPair().privateKey
        self.signaturePrivateKey = key
        self.sender = ExternalSender(
            signatureKey: try CipherSuite.signaturePublicKey(privateKey: key), credential: .basic(identity))
        self.senderIndex = senderIndex
    }

    /// A signed proposal as an `MLSMessage` (PublicMessage, sender external) and its ProposalRef.
    public func proposal(_ proposal: Proposal, groupID: [UInt8], epoch: UInt64) throws -> (
        message: [UInt8], reference: [UInt8]
    ) {
        let content = FramedContent(
            groupID: groupID, epoch: epoch, sender: .external(senderIndex: senderIndex), body: .proposal(proposal))
        let signature = try AuthenticatedContent.sign(
            content, wireFormat: .publicMessage, privateKey: signaturePrivateKey, groupContext: nil)
        let auth = FramedContentAuthData(signature: signature, confirmationTag: nil)
        let message = MLSMessage.publicMessage(PublicMessage(content: content, auth: auth, membershipTag: nil))
        let reference = AuthenticatedContent(wireFormat: .publicMessage, content: content, auth: auth).proposalReference
        return (message.tlsEncoded, reference)
    }

    /// An external Add of `keyPackage`.
    public func addProposal(keyPackage: KeyPackage, groupID: [UInt8], epoch: UInt64) throws -> (
        message: [UInt8], reference: [UInt8]
    ) {
        try proposal(.add(keyPackage), groupID: groupID, epoch: epoch)
    }

    /// An external Remove of `leafIndex`.
    public func removeProposal(leafIndex: UInt32, groupID: [UInt8], epoch: UInt64) throws -> (
        message: [UInt8], reference: [UInt8]
    ) {
        try proposal(.remove(leafIndex: leafIndex), groupID: groupID, epoch: epoch)
    }
}
