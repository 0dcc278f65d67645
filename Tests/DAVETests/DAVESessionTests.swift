import DAVE
import MLS
import XCTest

final class DAVESessionTests: XCTestCase {
    private let opus: [UInt8] = [0x78] + (1..<100).map { UInt8(truncatingIfNeeded: $0 * 13) }

    func testTwoMembersAgreeAndExchangeFrames() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1, 2])
        let bob = try channel.connect(2, recognized: [1, 2])
        try channel.formGroup(alice, [bob])
        XCTAssertEqual(alice.epoch, 1)
        XCTAssertEqual(bob.epoch, 1)
        XCTAssertEqual(alice.epochAuthenticator, bob.epochAuthenticator)
        XCTAssertEqual(alice.privacyCode?.count, 30)
        XCTAssertEqual(alice.privacyCode, bob.privacyCode)
        XCTAssertEqual(alice.members.map(\.userID).sorted(), [1, 2])
        XCTAssertEqual(try bob.decrypt(userID: 1, frame: alice.encrypt(opus: opus)), opus)
        XCTAssertEqual(try alice.decrypt(userID: 2, frame: bob.encrypt(opus: opus)), opus)
        XCTAssertNotEqual(try alice.encrypt(opus: opus), opus)
    }

    func testVerificationCodesMatchBothWays() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1, 2])
        let bob = try channel.connect(2, recognized: [1, 2])
        try channel.formGroup(alice, [bob])
        let code = try alice.verificationCode(for: 2)
        XCTAssertEqual(code?.count, 45)
        XCTAssertEqual(code, try bob.verificationCode(for: 1))
        XCTAssertNil(try alice.verificationCode(for: 99))
    }

    func testUnexpectedUserIsRejected() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1])
        try channel.connect(3, recognized: [1, 3])
        XCTAssertThrowsError(try alice.handleProposals(channel.addProposals([3], epoch: 0))) {
            XCTAssertEqual($0 as? DAVESessionError, .unexpectedUser(3))
        }
        alice.addRecognizedUsers([3])
        XCTAssertEqual(try alice.handleProposals(channel.addProposals([3], epoch: 0)).map(\.opcode), [28])
    }

    func testDuplicateUserIsRejected() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1, 2])
        XCTAssertThrowsError(try alice.handleProposals(channel.addProposals([1], epoch: 0))) {
            XCTAssertEqual($0 as? DAVESessionError, .invalidProposal("duplicate user in roster"))
        }
        try channel.connect(2, recognized: [1, 2])
        XCTAssertEqual(try alice.handleProposals(channel.addProposals([2], epoch: 0)).map(\.opcode), [28])
        XCTAssertThrowsError(try alice.handleProposals(channel.addProposals([2], epoch: 0)))
    }

    func testRemovedMemberOffersAFreshKeyPackage() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1, 2])
        let bob = try channel.connect(2, recognized: [1, 2])
        try channel.formGroup(alice, [bob])
        let remove = try channel.role.remove(leafIndex: 1, epoch: 1).message
        let proposals = DAVEProposalsPayload.append([remove]).encoded
        _ = try bob.handleProposals(proposals)
        let (announce, welcome) = try channel.commit(alice, proposals: proposals)
        XCTAssertNil(welcome)
        XCTAssertEqual(
            try alice.handleAnnounceCommit(announce), [.readyForTransition(transitionID: channel.lastTransitionID)])
        XCTAssertEqual(try bob.handleAnnounceCommit(announce).map(\.opcode), [26])
        XCTAssertNil(bob.epoch)
        XCTAssertEqual(alice.members.map(\.userID), [1])
    }

    func testRevokeDropsQueuedProposals() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1, 2])
        try channel.connect(2, recognized: [1, 2])
        let add = try channel.role.add(keyPackagePayload: channel.keyPackages[2] ?? [], epoch: 0)
        XCTAssertEqual(
            try alice.handleProposals(DAVEProposalsPayload.append([add.message]).encoded).map(\.opcode), [28])
        XCTAssertEqual(try alice.handleProposals(DAVEProposalsPayload.revoke([add.reference]).encoded), [])
    }

    func testInvalidCommitAnswersOp31AndSendsFreshKeyPackage() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1, 2, 3])
        let bob = try channel.connect(2, recognized: [1, 2, 3])
        try channel.formGroup(alice, [bob])
        try channel.connect(3, recognized: [1, 2, 3])
        let proposals = try channel.addProposals([3], epoch: 1)
        _ = try bob.handleProposals(proposals)
        var (announce, _) = try channel.commit(alice, proposals: proposals)
        announce[announce.count - 1] ^= 0x01
        let reply = try bob.handleAnnounceCommit(announce)
        XCTAssertEqual(reply.first, .invalidCommitWelcome(transitionID: channel.lastTransitionID))
        guard reply.count == 2, case .keyPackage(let fresh) = reply[1] else { return XCTFail("expected a new op 26") }
        XCTAssertNotEqual(fresh, channel.keyPackages[2])
        XCTAssertNil(bob.epoch)
        let welcomeReply = try bob.handleWelcome([0x00, 0x07, 0xFF])
        XCTAssertEqual(welcomeReply.map(\.opcode), [31, 26])
        XCTAssertEqual(welcomeReply.first, .invalidCommitWelcome(transitionID: 7))
    }

    func testTransitionZeroExecutesWithoutReady() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1, 2])
        let bob = try channel.connect(2, recognized: [1, 2])
        guard case .commitWelcome(let body)? = try alice.handleProposals(channel.addProposals([2], epoch: 0)).first
        else {
            return XCTFail("no op 28")
        }
        let parsed = try DAVECommitWelcome(payload: body)
        XCTAssertEqual(
            try alice.handleAnnounceCommit(DAVEAnnounceCommit(transitionID: 0, commit: parsed.commit).encoded), [])
        let welcome = try XCTUnwrap(parsed.welcome)
        XCTAssertEqual(try bob.handleWelcome(DAVEWelcomePayload(transitionID: 0, welcome: welcome).encoded), [])
        XCTAssertEqual(try bob.decrypt(userID: 1, frame: alice.encrypt(opus: opus)), opus, "encryptor switched at once")
    }

    func testEncryptorSwitchesOnlyOnExecuteTransition() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1, 2])
        let bob = try channel.connect(2, recognized: [1, 2])
        let (announce, welcome) = try channel.commit(alice, proposals: channel.addProposals([2], epoch: 0))
        _ = try alice.handleAnnounceCommit(announce)
        _ = try bob.handleWelcome(welcome ?? [])
        XCTAssertThrowsError(try alice.encrypt(opus: opus)) { XCTAssertEqual($0 as? DAVEFrameError, .missingKey) }
        alice.handleExecuteTransition(DAVEExecuteTransition(transitionID: channel.lastTransitionID))
        XCTAssertEqual(try bob.decrypt(userID: 1, frame: alice.encrypt(opus: opus)), opus)
    }

    func testDowngradeThenUpgradeWithTenSecondPassthrough() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1, 2])
        let bob = try channel.connect(2, recognized: [1, 2])
        try channel.formGroup(alice, [bob])
        XCTAssertThrowsError(try bob.decrypt(userID: 1, frame: opus), "plain Opus refused while DAVE is on")

        for session in [alice, bob] {
            XCTAssertEqual(
                session.handlePrepareTransition(DAVEPrepareTransition(protocolVersion: 0, transitionID: 9)),
                [.readyForTransition(transitionID: 9)])
        }
        XCTAssertEqual(try bob.decrypt(userID: 1, frame: opus), opus, "passthrough allowed after op 21 v0")
        for session in [alice, bob] { session.handleExecuteTransition(DAVEExecuteTransition(transitionID: 9)) }
        XCTAssertEqual(try alice.encrypt(opus: opus), opus, "plain Opus after the downgrade")
        XCTAssertNil(alice.epoch)
        XCTAssertEqual(alice.protocolVersion, 0)

        // Upgrade: op 24 epoch 1 re-creates the group.
        let upgrade = DAVEPrepareEpoch(protocolVersion: 1, epoch: 1, transitionID: 10)
        XCTAssertEqual(try alice.handlePrepareEpoch(upgrade).map(\.opcode), [26])
        guard case .keyPackage(let bobPackage)? = try bob.handlePrepareEpoch(upgrade).first else { return XCTFail() }
        let add = try channel.role.add(keyPackagePayload: bobPackage, epoch: 0).message
        let (announce, welcome) = try channel.commit(alice, proposals: DAVEProposalsPayload.append([add]).encoded)
        _ = try alice.handleAnnounceCommit(announce)
        _ = try bob.handleWelcome(welcome ?? [])
        XCTAssertEqual(try bob.decrypt(userID: 1, frame: opus), opus, "plain frames still pass during the upgrade")
        for session in [alice, bob] {
            session.handleExecuteTransition(DAVEExecuteTransition(transitionID: channel.lastTransitionID))
        }
        XCTAssertEqual(try bob.decrypt(userID: 1, frame: alice.encrypt(opus: opus)), opus)
        channel.clock.advance(seconds: 10.5)
        XCTAssertThrowsError(try bob.decrypt(userID: 1, frame: opus), "passthrough ends 10 s after the upgrade")
    }

    func testRepeatedPrepareKeepsTheReplayWindow() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1, 2])
        let bob = try channel.connect(2, recognized: [1, 2])
        try channel.formGroup(alice, [bob])
        let frame = try alice.encrypt(opus: opus)
        XCTAssertEqual(try bob.decrypt(userID: 1, frame: frame), opus)
        XCTAssertEqual(
            bob.handlePrepareTransition(DAVEPrepareTransition(protocolVersion: 1, transitionID: 12)),
            [.readyForTransition(transitionID: 12)])
        XCTAssertThrowsError(try bob.decrypt(userID: 1, frame: frame)) {
            XCTAssertEqual($0 as? DAVEFrameError, .replayedNonce)
        }
    }

    func testPrepareEpochOneSendsNewKeyPackage() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1])
        let reply = try alice.handlePrepareEpoch(DAVEPrepareEpoch(protocolVersion: 1, epoch: 1, transitionID: 0))
        guard case .keyPackage(let fresh)? = reply.first else { return XCTFail("expected op 26") }
        XCTAssertNotEqual(fresh, channel.keyPackages[1])
        XCTAssertEqual(
            try alice.handlePrepareEpoch(DAVEPrepareEpoch(protocolVersion: 1, epoch: 5, transitionID: 3)), [])
    }

    func testMalformedPayloadsGiveTypedErrors() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1])
        XCTAssertThrowsError(try alice.handleExternalSender([0x40])) {
            guard case .payload? = $0 as? DAVESessionError else { return XCTFail("\($0)") }
        }
        for garbage: [UInt8] in [[], [7], [0, 0x40], [1, 0x03, 0x05, 0x01]] {
            XCTAssertThrowsError(try alice.handleProposals(garbage)) {
                guard case .payload? = $0 as? DAVESessionError else { return XCTFail("\($0)") }
            }
        }
        XCTAssertThrowsError(try alice.handleAnnounceCommit([0x01]))
        XCTAssertEqual(
            try alice.handleAnnounceCommit([0x00, 0x04, 0x00, 0x01]).first, .invalidCommitWelcome(transitionID: 4))
        XCTAssertThrowsError(try alice.decrypt(userID: 42, frame: opus)) {
            XCTAssertEqual($0 as? DAVESessionError, .unknownUser(42))
        }
    }
}
