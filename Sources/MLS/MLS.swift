/// # MLS — RFC 9420 for DAVE, cipher suite 2 only
///
/// `MLS_128_DHKEMP256_AES128GCM_SHA256_P256`: HPKE base mode DHKEM(P-256)/HKDF-SHA256/AES-128-GCM
/// (RFC 9180, implemented here on swift-crypto primitives), ECDSA P-256/SHA-256 DER signatures,
/// uncompressed 65-byte public keys, raw 32-byte private scalars.
///
/// ## Public API (stable; the DAVE module builds on it)
/// - Keys: `KeyPackageBundle.create(userID:signaturePrivateKey:)` → `.keyPackage` (`KeyPackage`, send
///   `keyPackage.tlsEncoded` bare as DAVE op 26) plus its private keys. `Credential.basic(userID:)`, `.userID`.
/// - Group lifecycle (`final class Group`):
///   - `Group.create(groupID:keyPackage:externalSenders:)` — pending group, epoch 0, self only,
///     group-context extensions = [`external_senders`].
///   - `processProposal(_ bytes: [UInt8], validator:) -> ProposalRef` — one `MLSMessage` PublicMessage proposal
///     (external sender, or member with membership tag), current epoch, Add/Remove only. The validator closure
///     `(Proposal, Sender) throws -> Void` sees it first (DAVE's recognised-user-id check). Cached until commit.
///   - `revokeProposal(reference:) -> Bool`, `clearPendingProposals()`, `pendingProposals`.
///   - `commitPending() -> (commit: [UInt8], welcome: [UInt8]?)` — commits every cached proposal by reference
///     (UpdatePath only when RFC 9420 requires it: Remove present or empty commit). `commit` is `MLSMessage`
///     bytes, `welcome` a bare `Welcome` when members were added. The resulting state stays pending.
///   - `processCommit(_ bytes:) -> CommitOutcome` (or `processCommit(_: MLSMessage)`) — our own pending commit (byte-equal) adopts the cached state;
///     any other commit is verified (signature, membership tag, proposals, UpdatePath, parent hashes,
///     confirmation tag) and applied; an UpdatePath may not change the committer's credential.
///     `CommitOutcome.removedSelf` / `isRemoved` report our removal. Set `requiresProposalReferences = true`
///     to enforce DAVE's "proposals by reference only" rule on others' commits.
///   - `Group.join(welcome:keyPackage:ratchetTree:)` — from bare Welcome bytes or a `Welcome`; tree from the `ratchet_tree`
///     extension; verifies tree hash, parent hashes, leaf signatures, GroupInfo signature, confirmation tag.
///   - State: `epoch`, `groupID`, `groupContext`, `epochAuthenticator`, `exporter(label:context:length:)`,
///     `ownLeafIndex`, `members` (leaf → `Credential`), `memberUserIDs` (leaf → u64), `externalSenders`, `tree`.
/// - External-sender role: `ExternalSenderSigner(identity:signaturePrivateKey:senderIndex:)` → `.sender`
///   (op 25 payload = `sender.tlsEncoded`), `addProposal(keyPackage:groupID:epoch:)`,
///   `removeProposal(leafIndex:groupID:epoch:)` → (`MLSMessage` bytes, ProposalRef).
/// - Building blocks: `TLSReader`/`TLSWriter` (strict, varints minimal), `CipherSuite` (labelled crypto),
///   `TreeMath`, `RatchetTree`, `EpochSecrets`, `TranscriptHash`, all wire structs (`MLSMessage`, `PublicMessage`,
///   `FramedContent`, `Commit`, `Proposal`, `Welcome`, `GroupInfo`, `GroupSecrets`, `LeafNode`, …).
/// - Errors: every failure is an `MLSError` with a reason (`truncated`, `nonMinimalVarint`, `invalidVarint`,
///   `trailingBytes`, `invalidValue`, `validation`, `crypto`, `unsupported`, `state`); malformed input never traps.
///
/// ## Typical DAVE use
/// ```swift
/// let kp = try KeyPackageBundle.create(userID: selfID)              // op 26: kp.keyPackage.tlsEncoded
/// let group = try Group.create(groupID: channelBE, keyPackage: kp, externalSenders: [op25Sender])
/// group.requiresProposalReferences = true
/// for message in try MLSMessage.parseConcatenated(op27Body) {         // op 27 append
///     try group.processProposal(message) { proposal, _ in /* recognised-user check */ }
/// }
/// let (commit, welcome) = try group.commitPending()                  // op 28: commit ‖ welcome?
/// try group.processCommit(op29Commit)                                // own commit → cached state adopted
/// let joined = try Group.join(welcome: op30Welcome, keyPackage: kp)  // or join from op 30
/// let base = joined.exporter(label: "Discord Secure Frames v0", context: userIDLittleEndian, length: 16)
/// ```
///
/// ## Interoperability
/// Checked by hand against davey 0.1.7 (OpenMLS) and dave.py 1.1.0 (libdave/mlspp) with a dev-only driver:
/// our external proposals are accepted by both; commits by each of the three implementations (adds-only
/// without path, removes with UpdatePath) are processed by the others; Welcomes from each are joined by the
/// others; epoch authenticators agree at every epoch. A captured Discord op 25/op 27 exchange
/// (`DiscordCaptureTests`) verifies against Discord's real external-sender key.
///
/// ## Not implemented (not needed by DAVE)
/// PrivateMessage encryption/decryption and the secret tree (PrivateMessage is parsed for codec round-trips
/// only), resumption PSKs and PSK proposals (external PSKs are accepted in a Welcome for the conformance
/// vectors only), ReInit, external commits / new-member senders, Update and GroupContextExtensions proposals
/// (parsed, rejected as `unsupported` in commits), GREASE, X.509 credentials (carried opaquely), lifetime
/// checks against the clock (DAVE uses 0…2^64−1), application messages.
///
/// ## Conformance (official mlswg vectors, suite 2; `Tests/MLSTests`)
/// tree-math, crypto-basics, deserialization, key-schedule, transcript-hashes, psk_secret, messages (codec
/// round-trips of every structure), tree-validation, tree-operations (suite 1 file, SHA-256), treekem,
/// welcome: all cases pass. message-protection: the PublicMessage parts (`proposal_pub`, `commit_pub`:
/// signature + membership tag, and our own protection of the same content) pass; its 3 PrivateMessage parts
/// are not run (no secret tree); secret-tree.json is not run for the same reason. passive-client-welcome: 8/8 pass. passive-client-handling-commit: 4/13 pass,
/// 9 skipped because they commit proposals this module does not support: PSK proposals (cases 2, 3, 5, 9, 10),
/// GroupContextExtensions proposals (cases 4, 11), Update proposals (cases 7, 12). A case is counted as skipped
/// only when processing raises `MLSError.unsupported`; any other error fails the test, and the pass/skip
/// lists are pinned. Own tests: strict parsing (typed errors), tampered trees and messages, a deterministic
/// mutation sweep, multi-member lifecycles (external adds/removes, own-commit adoption, competing commits,
/// Welcome path secrets, 40-member churn) reaching equal epoch authenticators and exporter values, and a
/// captured Discord external proposal verified against Discord's key with a matching revoke ProposalRef.
public enum MLSModule {
    /// The only cipher suite supported.
    public static let cipherSuite: UInt16 = CipherSuite.id
    /// The protocol version (`mls10`).
    public static let protocolVersion: UInt16 = mlsVersion10
}
