import MLS

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
    /// The DAVE protocol version currently negotiated (0 = plain Opus).
    public private(set) var protocolVersion: UInt16 = 0

    private let clock: MonotonicClock
    private let signaturePrivateKey: [UInt8]
    private let encryptor = FrameEncryptor()
    private var decryptors: [UInt64: FrameDecryptor] = [:]
    private var externalSender: DAVEExternalSenderPackage?
    private var keyPackage: KeyPackageBundle?
    private var group: SessionGroup? {
        didSet { if group !== oldValue { groupInstance &+= 1 } }
    }
    /// Counts group objects, so receive ratchets are installed once per (group, epoch).
    private var groupInstance: UInt64 = 0
    private var installedRatchets: (groupInstance: UInt64, epoch: UInt64)?
    private var recognizedUserIDs: Set<UInt64> = []
    private var pendingTransition: (id: UInt16, protocolVersion: UInt16)?

    /// Creates an idle session; nothing is sent until `handleSelectProtocol` (op 4) or `handlePrepareEpoch`.
    /// - Parameter signaturePrivateKey: persistent P-256 key (raw 32 bytes); a fresh one per call when `nil`.
    public init(selfUserID: UInt64, channelID: UInt64, clock: MonotonicClock = SystemMonotonicClock(),
                signaturePrivateKey: [UInt8]? = nil) {
        self.selfUserID = selfUserID
        self.channelID = channelID
        self.clock = clock
        self.signaturePrivateKey = signaturePrivateKey ?? CipherSuite.generateSignatureKeyPair().privateKey
        encryptor.passthrough = true
    }

    // MARK: - Roster announced by the voice gateway (ops 11 / 13)

    /// Users the voice gateway announced in the channel (op 11); only they may be added.
    public func addRecognizedUsers<S: Sequence>(_ userIDs: S) where S.Element == UInt64 {
        recognizedUserIDs.formUnion(userIDs)
    }

    /// A user left the channel (op 13): they may no longer be added.
    public func removeRecognizedUser(_ userID: UInt64) {
        recognizedUserIDs.remove(userID)
    }

    // MARK: - Voice gateway ops

    /// Op 4 `dave_protocol_version`: start DAVE (> 0) or stay on plain Opus (0).
    public func handleSelectProtocol(version: UInt16) throws -> [DAVEClientMessage] {
        if version > 0 {
            encryptor.passthrough = false
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
    public func handleAnnounceCommit(_ payload: [UInt8]) throws -> [DAVEClientMessage] {
        let announce: DAVEAnnounceCommit
        do { announce = try DAVEAnnounceCommit(payload: payload) } catch {
            guard payload.count >= 2, protocolVersion > 0 else { throw DAVESessionError.payload(.malformed("announce commit")) }
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
    public func handleWelcome(_ payload: [UInt8]) throws -> [DAVEClientMessage] {
        let welcome: DAVEWelcomePayload
        do { welcome = try DAVEWelcomePayload(payload: payload) } catch {
            guard payload.count >= 2, protocolVersion > 0 else { throw DAVESessionError.payload(.malformed("welcome")) }
            return try invalidCommitWelcome(transitionID: UInt16(payload[0]) << 8 | UInt16(payload[1]))
        }
        guard let keyPackage, let externalSender, group?.isEstablished != true else { return [] }
        do {
            let joined = try SessionGroup.join(welcome: welcome.welcome, keyPackage: keyPackage,
                                               groupID: DAVEGroupID.bytes(channelID: channelID))
            guard joined.externalSenders == [externalSender.encoded] else {
                throw DAVESessionError.invalidProposal("welcome external senders differ from op 25")
            }
            let identities = joined.members.map(\.userID)
            guard Set(identities).count == identities.count,
                  identities.allSatisfy({ $0 == selfUserID || recognizedUserIDs.contains($0) }) else {
                throw DAVESessionError.invalidProposal("welcome roster has unexpected or duplicate users")
            }
            group = joined
        } catch {
            return try invalidCommitWelcome(transitionID: welcome.transitionID)
        }
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
              let theirs = roster.first(where: { $0.userID == userID }) else { return nil }
        return try PrivacyCodes.verificationCode(localKey: mine.signatureKey, localUserID: selfUserID,
                                                 remoteKey: theirs.signatureKey, remoteUserID: userID)
    }

    // MARK: - Media

    /// DAVE-encrypts one outgoing Opus frame into `output` (plain copy while protocol 0 is in effect).
    public func encrypt(opus: [UInt8], into output: inout [UInt8]) throws {
        try encryptor.encrypt(opus: opus, into: &output)
    }

    /// DAVE-encrypts one outgoing Opus frame.
    public func encrypt(opus: [UInt8]) throws -> [UInt8] { try encryptor.encrypt(opus: opus) }

    /// Decrypts one incoming frame from `userID` into `output`.
    public func decrypt(userID: UInt64, frame: [UInt8], into output: inout [UInt8]) throws {
        if let decryptor = decryptors[userID] {
            try decryptor.decrypt(frame: frame, into: &output)
        } else if protocolVersion == 0, ParsedDAVEFrameCheck.isPlain(frame) {
            output.removeAll(keepingCapacity: true)
            output.append(contentsOf: frame)
        } else {
            throw DAVESessionError.unknownUser(userID)
        }
    }

    /// Decrypts one incoming frame from `userID`.
    public func decrypt(userID: UInt64, frame: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = []
        try decrypt(userID: userID, frame: frame, into: &output)
        return output
    }

    // MARK: - Internals

    private func reinitialize() throws -> [DAVEClientMessage] {
        group = nil
        keyPackage = nil
        guard protocolVersion > 0 else { return [] }
        let bundle = try mls { try KeyPackageBundle.create(userID: selfUserID, signaturePrivateKey: signaturePrivateKey) }
        keyPackage = bundle
        try createPendingGroupIfReady()
        return [.keyPackage(bundle.keyPackage.tlsEncoded)]
    }

    private func createPendingGroupIfReady() throws {
        guard protocolVersion > 0, group == nil, let keyPackage, let externalSender else { return }
        group = try mls {
            try SessionGroup.pending(groupID: DAVEGroupID.bytes(channelID: channelID), keyPackage: keyPackage,
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
        let proposals = group.queuedProposals + messages.compactMap { message -> Proposal? in
            guard case .publicMessage(let proposal) = message, case .proposal(let body) = proposal.content.body else {
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

    private func transitionToNewEpoch(transitionID: UInt16) -> [DAVEClientMessage] {
        pendingTransition = (transitionID, protocolVersion)
        prepareRatchets(protocolVersion: protocolVersion)
        if transitionID == 0 {
            executeTransition(id: 0)
            return []
        }
        return [.readyForTransition(transitionID: transitionID)]
    }

    /// Installs new receive ratchets for every other member now (or passthrough for protocol 0).
    private func prepareRatchets(protocolVersion version: UInt16) {
        guard version > 0 else {
            for decryptor in decryptors.values { decryptor.setPassthrough(true) }
            return
        }
        guard let group, group.isEstablished else { return }
        let roster = Set(group.members.map(\.userID))
        for (userID, decryptor) in decryptors where !roster.contains(userID) { decryptor.retire() }
        // A repeated prepare for the same epoch must not install a second window with a fresh replay history.
        let alreadyInstalled = installedRatchets.map { $0 == (groupInstance, group.epoch) } ?? false
        installedRatchets = (groupInstance, group.epoch)
        for member in group.members where member.userID != selfUserID {
            let existing = decryptors[member.userID]
            let decryptor = existing ?? FrameDecryptor(clock: clock)
            decryptors[member.userID] = decryptor
            if !alreadyInstalled || existing == nil {
                decryptor.transition(to: senderRatchet(for: member.userID, group: group))
            }
            decryptor.setPassthrough(false)
        }
    }

    private func executeTransition(id: UInt16) {
        guard let pending = pendingTransition, pending.id == id else { return }
        pendingTransition = nil
        protocolVersion = pending.protocolVersion
        if pending.protocolVersion == 0 {
            encryptor.passthrough = true
            encryptor.setRatchet(nil)
            group = nil
            keyPackage = nil
            return
        }
        guard let group, group.isEstablished else { return }
        encryptor.setRatchet(senderRatchet(for: selfUserID, group: group))
        encryptor.passthrough = false
    }

    private func senderRatchet(for userID: UInt64, group: SessionGroup) -> SenderKeyRatchet {
        let context = (0..<8).map { UInt8(truncatingIfNeeded: userID >> (8 * UInt64($0))) }
        return SenderKeyRatchet(baseSecret: group.exportSecret(label: Self.senderKeyLabel, context: context,
                                                        length: SenderKeyRatchet.keyLength))
    }

    private func mls<T>(_ body: () throws -> T) throws -> T {
        do { return try body() } catch let error as DAVESessionError { throw error } catch {
            throw DAVESessionError.mls("\(error)")
        }
    }
}

/// Cheap check used for users without a decryptor during protocol 0.
enum ParsedDAVEFrameCheck {
    static func isPlain(_ frame: [UInt8]) -> Bool {
        frame.withUnsafeBytes { ParsedDAVEFrame.parse($0) == nil }
    }
}
