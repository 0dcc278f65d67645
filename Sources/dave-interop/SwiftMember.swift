import DAVE

/// Our member: a `DAVESession` driven exactly as the voice gateway connection will drive it.
final class SwiftMember: InteropMember {
    let name = "swift"
    let computesVerificationCodes = true
    let exposesEpoch = true
    let userID: UInt64
    private let session: DAVESession

    init(userID: UInt64, channelID: UInt64) {
        self.userID = userID
        session = DAVESession(selfUserID: userID, channelID: channelID)
    }

    func start(externalSender: [UInt8], recognized: [UInt64]) throws -> [UInt8] {
        session.addRecognizedUsers(recognized)
        let sent = try session.handleSelectProtocol(version: 1) + session.handleExternalSender(externalSender)
        guard sent.count == 1, case .keyPackage(let keyPackage) = sent[0] else {
            throw InteropFailure("swift: expected exactly one op 26, got \(sent.map(\.opcode))")
        }
        return keyPackage
    }

    func proposals(_ payload: [UInt8], recognized: [UInt64]) throws -> [UInt8]? {
        session.addRecognizedUsers(recognized)
        let sent = try session.handleProposals(payload)
        if case .commitWelcome(let body)? = sent.first { return body }
        return nil
    }

    func announceCommit(_ payload: [UInt8]) throws -> TransitionOutcome {
        try outcome(session.handleAnnounceCommit(payload))
    }

    func welcome(_ payload: [UInt8], recognized: [UInt64]) throws -> TransitionOutcome {
        session.addRecognizedUsers(recognized)
        return try outcome(session.handleWelcome(payload))
    }

    private func outcome(_ sent: [DAVEClientMessage]) throws -> TransitionOutcome {
        switch (sent.first, sent.dropFirst().first) {
        case (.readyForTransition?, nil): return .ready
        case (.invalidCommitWelcome?, .keyPackage(let keyPackage)?): return .invalid(newKeyPackage: keyPackage)
        default: throw InteropFailure("swift: unexpected reply ops \(sent.map(\.opcode))")
        }
    }

    func execute(transitionID: UInt16) throws {
        session.handleExecuteTransition(DAVEExecuteTransition(transitionID: transitionID))
    }

    func state(verifying peers: [UInt64]) throws -> MemberState {
        var codes: [UInt64: String] = [:]
        for peer in peers { codes[peer] = try session.verificationCode(for: peer) }
        return MemberState(
            epoch: session.epoch, authenticator: session.epochAuthenticator ?? [],
            privacyCode: session.privacyCode ?? "", verificationCodes: codes)
    }

    func encrypt(_ frame: [UInt8]) throws -> [UInt8] { try session.encrypt(opus: frame) }

    func decrypt(sender: UInt64, _ frame: [UInt8]) throws -> [UInt8]? {
        try? session.decrypt(userID: sender, frame: frame)
    }
}
