import MLS

/// The voice server's side of DAVE's MLS usage: an RFC 9420 external sender (index 0) that signs Add and
/// Remove proposals for a channel's group. Used by the interop harness and tests to play Discord's voice gateway.
public struct DAVEExternalSenderRole {
    /// The op 25 payload announcing this external sender.
    public let package: DAVEExternalSenderPackage
    /// The MLS group id (channel id, 8 bytes big-endian).
    public let groupID: [UInt8]
    private let signaturePrivateKey: [UInt8]

    /// A signed proposal and its `ProposalRef` (for op 27 revoke).
    public struct SignedProposal {
        /// The proposal as a PublicMessage.
        public let message: MLSMessage
        /// `RefHash("MLS 1.0 Proposal Reference", AuthenticatedContent)`.
        public let reference: [UInt8]
    }

    /// Creates an external sender with a fresh P-256 key for `channelID`.
    public init(channelID: UInt64, identity: [UInt8] = [0x00]) {
        let keys = CipherSuite.generateSignatureKeyPair()
        signaturePrivateKey = keys.privateKey
        package = DAVEExternalSenderPackage(signatureKey: keys.publicKey, identity: identity)
        groupID = DAVEGroupID.bytes(channelID: channelID)
    }

    /// An external Add of the bare KeyPackage a member sent in op 26.
    public func add(keyPackagePayload: [UInt8], epoch: UInt64) throws -> SignedProposal {
        let keyPackage: KeyPackage
        do {
            keyPackage = try KeyPackage(tlsEncoded: keyPackagePayload)
        } catch {
            throw DAVEPayloadError.malformed("key package: \(error)")
        }
        return try sign(.add(keyPackage), epoch: epoch)
    }

    /// An external Remove of the member at `leafIndex`.
    public func remove(leafIndex: UInt32, epoch: UInt64) throws -> SignedProposal {
        try sign(.remove(leafIndex: leafIndex), epoch: epoch)
    }

    private func sign(_ proposal: Proposal, epoch: UInt64) throws -> SignedProposal {
        let content = FramedContent(groupID: groupID, epoch: epoch, sender: .external(senderIndex: 0),
                                    body: .proposal(proposal))
        var tbs = TLSWriter()
        tbs.u16(mlsVersion10)
        tbs.u16(WireFormat.publicMessage.rawValue)
        content.encode(to: &tbs)
        let signature = try CipherSuite.signWithLabel(privateKey: signaturePrivateKey, label: "FramedContentTBS",
                                                      content: tbs.bytes)
        let auth = FramedContentAuthData(signature: signature, confirmationTag: nil)
        let message = MLSMessage.publicMessage(PublicMessage(content: content, auth: auth, membershipTag: nil))
        let reference = AuthenticatedContent(wireFormat: .publicMessage, content: content, auth: auth).proposalReference
        return SignedProposal(message: message, reference: reference)
    }
}

/// DAVE's MLS group id: the channel id as 8 bytes big-endian.
public enum DAVEGroupID {
    /// `channelID` as u64 big-endian.
    public static func bytes(channelID: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: channelID >> (56 - 8 * UInt64($0))) }
    }
}
