import MLS
import Realtime

/// One DAVE participant's end-to-end encryption state for a voice call (voice gateway ops 21–31, dave.md §3–§4),
/// owning our frame encryptor and one decryptor per remote user.
///
/// Feed every DAVE op the voice gateway delivers to the matching `handle…` method and send back whatever
/// `DAVEClientMessage`s they return, in order. Not thread-safe: drive it from one queue.
public final class DAVESession {
    /// Exporter label for per-sender ratchet base secrets.
    static let senderKeyLabel = "Discord Secure Frames v0"

    /// Our Discord user id.
    public let selfUserID: UInt64
    /// The voice channel id (the MLS group id, big-endian).
    public let channelID: UInt64
    /// The DAVE protocol version announced for the MLS group (op 4 / op 24 / executed op 21; 0 = plain Opus).
    public internal(set) var protocolVersion: UInt16 = 0
    /// The protocol version in effect for media: changes only when a transition executes (op 22, or transition 0).
    public internal(set) var executedProtocolVersion: UInt16 = 0
    /// Called with a diagnostic when the session accepts something libdave only logs (e.g. a Welcome naming a
    /// user the voice gateway never announced). Never called for errors that are thrown or answered with op 31.
    public var onWarning: ((String) -> Void)?

    let clock: any MonotonicClock
    private let signaturePrivateKey: [UInt8]
    let encryptor = FrameEncryptor()
    var decryptors: [UInt64: FrameDecryptor] = [:]
    private var externalSender: DAVEExternalSenderPackage?
    var keyPackage: KeyPackageBundle?
    var group: SessionGroup? {
        didSet { if group !== oldValue { groupInstance &+= 1 } }
    }
    /// Counts group objects, so receive ratchets are installed once per (group, epoch).
    var groupInstance: UInt64 = 0
    var installedRatchets: (groupInstance: UInt64, epoch: UInt64)?
    var recognizedUserIDs: Set<UInt64> = []
    var pendingTransition: (id: UInt16, protocolVersion: UInt16)?
    /// Version of the last prepared transition (libdave sample `latestPreparedTransitionVersion`): while it is 0,
    /// every recognised user has a decryptor that lets plain frames through.
    var preparedProtocolVersion: UInt16 = 0

    /// Creates an idle session; nothing is sent until `handleSelectProtocol` (op 4) or `handlePrepareEpoch`.
    /// - Parameter signaturePrivateKey: persistent P-256 key (raw 32 bytes); a fresh one per call when `nil`.
    public init(
        selfUserID: UInt64, channelID: UInt64, clock: any MonotonicClock = SystemClock.shared,
        signaturePrivateKey: [UInt8]? = nil
    ) {
        self.selfUserID = selfUserID
        self.channelID = channelID
        self.clock = clock
        self.signaturePrivateKey = signaturePrivateKey ?? CipherSuite.generateSignatureKeyPair().privateKey
        encryptor.passthrough = true
    }

    // MARK: - Roster announced by the voice gateway (ops 11 / 13)

    /// Users the voice gateway announced in the channel (op 11); only they may be added. While protocol 0 is
    /// prepared, each gets a decryptor in passthrough mode (libdave sample `createUser`).
    public func addRecognizedUsers<S: Sequence>(_ userIDs: S) where S.Element == UInt64 {
        recognizedUserIDs.formUnion(userIDs)
        if preparedProtocolVersion == 0 { installPassthroughDecryptors() }
    }

    /// A user left the channel (op 13): they may no longer be added.
    public func removeRecognizedUser(_ userID: UInt64) {
        recognizedUserIDs.remove(userID)
    }

    // MARK: - Voice gateway ops

    /// Op 4 `dave_protocol_version`: start DAVE (> 0) or stay on plain Opus (0).
    ///
    /// A call that starts on DAVE is in effect at once (transition 0): nobody sends plain Opus, so no decryptor
    /// keeps passthrough.
    public func handleSelectProtocol(version: UInt16) throws -> [DAVEClientMessage] {
        if version > 0 {
            encryptor.passthrough = false
            executedProtocolVersion = version
            preparedProtocolVersion = version
            for decryptor in decryptors.values { decryptor.setPassthrough(false, expirySeconds: 0) }
            return try handlePrepareEpoch(DAVEPrepareEpoch(protocolVersion: version, epoch: 1, transitionID: 0))
        }
        protocolVersion = 0
        pendingTransition = (0, 0)
        prepareRatchets(protocolVersion: 0)
        executeTransition(id: 0)
        return []
    }

    /// Op 25 `external_sender_package`.
    public func handleExternalSender(_ payload: [UInt8]) throws -> [DAVEClientMessage] {
        let package: DAVEExternalSenderPackage
        do { package = try DAVEExternalSenderPackage(payload: payload) } catch let error as DAVEPayloadError {
            throw DAVESessionError.payload(error)
        }
        if let group, package != externalSender {
            guard !group.isEstablished else { throw DAVESessionError.externalSenderChanged }
            self.group = nil
        }
        externalSender = package
        try createPendingGroupIfReady()
        return []
    }

    /// Op 27 `mls_proposals`: queue or revoke proposals, then commit everything queued (op 28).
    public func handleProposals(_ payload: [UInt8]) throws -> [DAVEClientMessage] {
        let proposals: DAVEProposalsPayload
        do { proposals = try DAVEProposalsPayload(payload: payload) } catch let error as DAVEPayloadError {
            throw DAVESessionError.payload(error)
        }
        guard let group else { throw DAVESessionError.noGroup }
        group.noteProposalsReceived()
        switch proposals {
        case .append(let messages):
            for message in messages { try validateProposal(message, group: group) }
            try rejectDuplicateUsers(adding: messages, group: group)
            try mls { try group.append(proposals: messages) }
        case .revoke(let references):
            try mls { group.revoke(references: references) }
        }
        guard group.hasQueuedProposals, !group.queuedProposalsRemoveUs else { return [] }
        return [.commitWelcome(try mls { try group.commitQueuedProposals() })]
    }

    /// Op 29 `announce_commit_transition`: move to the commit's epoch, or report it invalid (op 31 + new op 26).
    /// A commit for another group, or one arriving before any op 27 since the last transition, is ignored
    /// (libdave `CanProcessCommit`; dave.md §4.3).
    public func handleAnnounceCommit(_ payload: [UInt8]) throws -> [DAVEClientMessage] {
        let announce: DAVEAnnounceCommit
        do { announce = try DAVEAnnounceCommit(payload: payload) } catch {
            guard payload.count >= 2, protocolVersion > 0 else {
                throw DAVESessionError.payload(.malformed("announce commit"))
            }
            return try invalidCommitWelcome(transitionID: UInt16(payload[0]) << 8 | UInt16(payload[1]))
        }
        guard let group, group.isExpecting(commit: announce.commit) else { return [] }
        do {
            try group.process(commit: announce.commit)
        } catch {
            return try invalidCommitWelcome(transitionID: announce.transitionID)
        }
        if group.isRemoved {
            // The voice gateway removed us: forget the group and offer a fresh key package to be re-added.
            for decryptor in decryptors.values { decryptor.retire() }
            return try reinitialize()
        }
        return transitionToNewEpoch(transitionID: announce.transitionID)
    }

    /// Op 30 `mls_welcome`: join the group, or report the Welcome invalid (op 31 + new op 26).
    ///
    /// Like libdave's `VerifyWelcomeState`, the Welcome must name exactly our op 25 external sender, and (as
    /// libdave's roster check) no user twice; a user the voice gateway never announced is only reported through
    /// `onWarning` (libdave leaves that rejection disabled: a user may disconnect while proposals are in flight).
    /// A Welcome after we already joined fails as in libdave `ProcessWelcome`: op 31, then — as protocol.md
    /// "Recovery from Invalid Commit or Welcome" asks — a local reset and a new op 26.
    public func handleWelcome(_ payload: [UInt8]) throws -> [DAVEClientMessage] {
        let welcome: DAVEWelcomePayload
        do { welcome = try DAVEWelcomePayload(payload: payload) } catch {
            guard payload.count >= 2, protocolVersion > 0 else { throw DAVESessionError.payload(.malformed("welcome")) }
            return try invalidCommitWelcome(transitionID: UInt16(payload[0]) << 8 | UInt16(payload[1]))
        }
        guard let keyPackage, let externalSender else { return [] }
        guard group?.isEstablished != true else { return try invalidCommitWelcome(transitionID: welcome.transitionID) }
        let joined: SessionGroup
        do {
            joined = try SessionGroup.join(
                welcome: welcome.welcome, keyPackage: keyPackage,
                groupID: DAVEGroupID.bytes(channelID: channelID))
            guard joined.externalSenders == [externalSender.encoded] else {
                throw DAVESessionError.invalidProposal("welcome external senders differ from op 25")
            }
            let identities = joined.members.map(\.userID)
            guard Set(identities).count == identities.count else {
                throw DAVESessionError.invalidProposal("welcome roster has duplicate users")
            }
        } catch {
            return try invalidCommitWelcome(transitionID: welcome.transitionID)
        }
        let unexpected = joined.members.map(\.userID).filter { $0 != selfUserID && !recognizedUserIDs.contains($0) }
        if !unexpected.isEmpty { onWarning?("welcome lists unrecognised users \(unexpected)") }
        group = joined
        return transitionToNewEpoch(transitionID: welcome.transitionID)
    }

    /// Op 21 `dave_protocol_prepare_transition`: e.g. a downgrade to protocol 0 (passthrough), acknowledged by op 23.
    public func handlePrepareTransition(_ message: DAVEPrepareTransition) -> [DAVEClientMessage] {
        pendingTransition = (message.transitionID, message.protocolVersion)
        prepareRatchets(protocolVersion: message.protocolVersion)
        if message.transitionID == 0 {
            executeTransition(id: 0)
            return []
        }
        return [.readyForTransition(transitionID: message.transitionID)]
    }

    /// Op 22 `dave_protocol_execute_transition`: switch our encryptor to the prepared state.
    public func handleExecuteTransition(_ message: DAVEExecuteTransition) {
        executeTransition(id: message.transitionID)
    }

    /// Op 24 `dave_protocol_prepare_epoch`: epoch 1 means a new group — re-initialise and send a new key package.
    public func handlePrepareEpoch(_ message: DAVEPrepareEpoch) throws -> [DAVEClientMessage] {
        protocolVersion = message.protocolVersion
        guard message.epoch == 1 else { return [] }
        return try reinitialize()
    }

    // MARK: - State

    /// The current MLS epoch, or `nil` before joining a group.
    public var epoch: UInt64? { group?.isEstablished == true ? group?.epoch : nil }

    /// The current epoch authenticator, or `nil` before joining a group.
    public var epochAuthenticator: [UInt8]? { group?.isEstablished == true ? group?.epochAuthenticator : nil }

    /// The 30-digit voice privacy code Discord clients display, or `nil` before joining a group.
    public var privacyCode: String? {
        epochAuthenticator.flatMap { try? PrivacyCodes.voicePrivacyCode(epochAuthenticator: $0) }
    }

    /// The current group's members (empty before joining).
    public var members: [DAVEMember] { group?.isEstablished == true ? group?.members ?? [] : [] }

    /// The 45-digit verification code shown for `userID` (scrypt; takes tens of milliseconds in release).
    public func verificationCode(for userID: UInt64) throws -> String? {
        let roster = members
        guard let mine = roster.first(where: { $0.userID == selfUserID }),
            let theirs = roster.first(where: { $0.userID == userID })
        else { return nil }
        return try PrivacyCodes.verificationCode(
            localKey: mine.signatureKey, localUserID: selfUserID,
            remoteKey: theirs.signatureKey, remoteUserID: userID)
    }

    // MARK: - Internals

    func reinitialize() throws -> [DAVEClientMessage] {
        group = nil
        keyPackage = nil
        guard protocolVersion > 0 else { return [] }
        let bundle = try mls {
            try KeyPackageBundle.create(userID: selfUserID, signaturePrivateKey: signaturePrivateKey)
        }
        keyPackage = bundle
        try createPendingGroupIfReady()
        return [.keyPackage(bundle.keyPackage.tlsEncoded)]
    }

    private func createPendingGroupIfReady() throws {
        guard protocolVersion > 0, group == nil, let keyPackage, let externalSender else { return }
        group = try mls {
            try SessionGroup.pending(
                groupID: DAVEGroupID.bytes(channelID: channelID), keyPackage: keyPackage,
                externalSender: externalSender.encoded)
        }
    }

    private func invalidCommitWelcome(transitionID: UInt16) throws -> [DAVEClientMessage] {
        [.invalidCommitWelcome(transitionID: transitionID)] + (try reinitialize())
    }

    private func validateProposal(_ message: MLSMessage, group: SessionGroup) throws {
        guard case .publicMessage(let proposal) = message else {
            throw DAVESessionError.invalidProposal("not a PublicMessage")
        }
        guard proposal.content.sender == .external(senderIndex: 0) else {
            throw DAVESessionError.invalidProposal("sender is not the external sender")
        }
        guard proposal.content.groupID == DAVEGroupID.bytes(channelID: channelID), proposal.content.epoch == group.epoch
        else { throw DAVESessionError.invalidProposal("wrong group or epoch") }
        switch proposal.content.body {
        case .proposal(.add(let keyPackage)):
            guard let userID = keyPackage.leafNode.credential.userID else {
                throw DAVESessionError.invalidProposal("identity is not a user id")
            }
            guard userID == selfUserID || recognizedUserIDs.contains(userID) else {
                throw DAVESessionError.unexpectedUser(userID)
            }
        case .proposal(.remove):
            break
        default:
            throw DAVESessionError.invalidProposal("only Add and Remove are allowed")
        }
    }

    /// Refuses an Add whose user would appear twice in the roster after the queued and new proposals.
    private func rejectDuplicateUsers(adding messages: [MLSMessage], group: SessionGroup) throws {
        let proposals =
            group.queuedProposals
            + messages.compactMap { message -> Proposal? in
                guard case .publicMessage(let proposal) = message, case .proposal(let body) = proposal.content.body
                else {
                    return nil
                }
                return body
            }
        var removed: Set<UInt32> = []
        for case .remove(let leafIndex) in proposals { removed.insert(leafIndex) }
        var roster = Set(group.members.filter { !removed.contains($0.leafIndex) }.map(\.userID))
        for case .add(let keyPackage) in proposals {
            guard let userID = keyPackage.leafNode.credential.userID, roster.insert(userID).inserted else {
                throw DAVESessionError.invalidProposal("duplicate user in roster")
            }
        }
    }

    func mls<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DAVESessionError { throw error } catch {
            throw DAVESessionError.mls("\(error)")
        }
    }
}
