import MLS

/// The voice server's side of DAVE's MLS usage: the group's external sender (index 0), signing Add and Remove
/// proposals with MLS's `ExternalSenderSigner`. Used by the interop harness and tests to play Discord's voice gateway.
public struct DAVEExternalSenderRole {
    /// The op 25 payload announcing this external sender.
    public let package: DAVEExternalSenderPackage
    /// The MLS group id (channel id, 8 bytes big-endian).
    public let groupID: [UInt8]
    private let signer: ExternalSenderSigner

    /// A signed proposal and its `ProposalRef` (for op 27 revoke).
    public struct SignedProposal {
        /// The proposal as a PublicMessage.
        public let message: MLSMessage
        /// `RefHash("MLS 1.0 Proposal Reference", AuthenticatedContent)`.
        public let reference: [UInt8]
    }

    /// Creates an external sender with a fresh P-256 key for `channelID` (identity one `00` byte, like Discord's).
    public init(channelID: UInt64, identity: [UInt8] = [0x00]) throws {
        signer = try ExternalSenderSigner(identity: identity)
        package = try DAVEExternalSenderPackage(payload: signer.sender.tlsEncoded)
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
        return try signed(signer.addProposal(keyPackage: keyPackage, groupID: groupID, epoch: epoch))
    }

    /// An external Remove of the member at `leafIndex`.
    public func remove(leafIndex: UInt32, epoch: UInt64) throws -> SignedProposal {
        try signed(signer.removeProposal(leafIndex: leafIndex, groupID: groupID, epoch: epoch))
    }

    private func signed(_ result: (message: [UInt8], reference: [UInt8])) throws -> SignedProposal {
        SignedProposal(message: try MLSMessage(tlsEncoded: result.message), reference: result.reference)
    }
}

/// DAVE's MLS group id: the channel id as 8 bytes big-endian.
public enum DAVEGroupID {
    /// `channelID` as u64 big-endian.
    public static func bytes(channelID: UInt64) -> [UInt8] {
        (0..<8).map { UInt8(truncatingIfNeeded: channelID >> (56 - 8 * UInt64($0))) }
    }
}
