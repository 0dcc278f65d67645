import DAVE
import MLS
import XCTest

/// Protocol upgrades and downgrades, and the commit/Welcome edge cases aligned with libdave's `Session`.
final class DAVETransitionTests: XCTestCase {
    private let opus: [UInt8] = [0x78] + (1..<90).map { UInt8(truncatingIfNeeded: $0 * 29) }

    /// A session that starts on protocol 0 (op 4 version 0) with the channel's external sender known.
    private func plainSession(_ userID: UInt64, _ channel: SessionTestChannel, recognized: [UInt64]) throws
        -> DAVESession
    {
        let session = DAVESession(selfUserID: userID, channelID: SessionTestChannel.channelID, clock: channel.clock)
        session.addRecognizedUsers(recognized)
        XCTAssertEqual(try session.handleSelectProtocol(version: 0), [])
        XCTAssertEqual(try session.handleExternalSender(channel.role.package.encoded), [])
        return session
    }

    private func keyPackage(_ reply: [DAVEClientMessage]) throws -> [UInt8] {
        guard reply.count == 1, case .keyPackage(let keyPackage) = reply[0] else { throw SessionTestError.noKeyPackage }
        return keyPackage
    }

    /// Upgrade 0 → 1 (op 24, op 29/30, op 22): plain Opus keeps passing — also from a user announced during
    /// protocol 0 who is not in the new group — until 10 s after the receive side prepared; encrypted frames
    /// decrypt; afterwards plain frames are refused.
    func testUpgradeFromProtocolZeroPassesPlainFramesForTenSeconds() throws {
        let channel = try SessionTestChannel()
        let alice = try plainSession(1, channel, recognized: [1, 2])
        let bob = try plainSession(2, channel, recognized: [1, 2])
        bob.addRecognizedUsers([5])
        XCTAssertEqual(try alice.encrypt(opus: opus), opus, "protocol 0 sends plain Opus")
        XCTAssertEqual(try bob.decrypt(userID: 1, frame: opus), opus)

        let upgrade = DAVEPrepareEpoch(protocolVersion: 1, epoch: 1, transitionID: 0)
        _ = try keyPackage(alice.handlePrepareEpoch(upgrade))
        let bobPackage = try keyPackage(bob.handlePrepareEpoch(upgrade))
        XCTAssertEqual(bob.protocolVersion, 1)
        XCTAssertEqual(bob.executedProtocolVersion, 0, "op 24 only announces the version")
        XCTAssertEqual(try bob.decrypt(userID: 1, frame: opus), opus, "others still send plain Opus after op 24")
        XCTAssertEqual(try bob.decrypt(userID: 77, frame: opus), opus, "unannounced users too, while 0 is executed")

        let add = try channel.role.add(keyPackagePayload: bobPackage, epoch: 0).message
        let (announce, welcome) = try channel.commit(alice, proposals: DAVEProposalsPayload.append([add]).encoded)
        let transition = channel.lastTransitionID
        XCTAssertEqual(try alice.handleAnnounceCommit(announce), [.readyForTransition(transitionID: transition)])
        XCTAssertEqual(try bob.handleWelcome(welcome ?? []), [.readyForTransition(transitionID: transition)])
        channel.clock.advance(seconds: 4)
        XCTAssertEqual(try bob.decrypt(userID: 1, frame: opus), opus, "plain frames pass while the upgrade is pending")
        XCTAssertEqual(try alice.decrypt(userID: 2, frame: opus), opus)

        for session in [alice, bob] { session.handleExecuteTransition(DAVEExecuteTransition(transitionID: transition)) }
        XCTAssertEqual(bob.executedProtocolVersion, 1)
        let encrypted = try alice.encrypt(opus: opus)
        XCTAssertNotEqual(encrypted, opus)
        XCTAssertEqual(try bob.decrypt(userID: 1, frame: encrypted), opus)
        XCTAssertEqual(try alice.decrypt(userID: 2, frame: bob.encrypt(opus: opus)), opus)
        channel.clock.advance(seconds: 5.5)
        XCTAssertEqual(try bob.decrypt(userID: 1, frame: opus), opus, "9.5 s after the prepare: still allowed")
        XCTAssertEqual(try bob.decrypt(userID: 5, frame: opus), opus, "announced during protocol 0, not in the group")

        channel.clock.advance(seconds: 1)
        XCTAssertThrowsError(try bob.decrypt(userID: 1, frame: opus)) {
            XCTAssertEqual($0 as? DAVEFrameError, .unencryptedFrameRejected)
        }
        XCTAssertThrowsError(try bob.decrypt(userID: 5, frame: opus)) {
            XCTAssertEqual($0 as? DAVEFrameError, .unencryptedFrameRejected)
        }
        XCTAssertThrowsError(try bob.decrypt(userID: 77, frame: opus)) {
            XCTAssertEqual($0 as? DAVESessionError, .unknownUser(77))
        }
        XCTAssertEqual(try bob.decrypt(userID: 1, frame: alice.encrypt(opus: opus)), opus)
    }

    /// Downgrade 1 → 0 (op 21, op 22): in-flight frames of the old epoch decrypt for 10 s, then its keys are gone
    /// (libdave installs a null ratchet, which limits the previous ones to 10 s).
    func testDowngradeLetsOldReceiveKeysLapseAfterTenSeconds() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1, 2])
        let bob = try channel.connect(2, recognized: [1, 2])
        try channel.formGroup(alice, [bob])
        let inFlight = try (0..<3).map { _ in try alice.encrypt(opus: opus) }

        for session in [alice, bob] {
            XCTAssertEqual(
                session.handlePrepareTransition(DAVEPrepareTransition(protocolVersion: 0, transitionID: 9)),
                [.readyForTransition(transitionID: 9)])
            session.handleExecuteTransition(DAVEExecuteTransition(transitionID: 9))
        }
        XCTAssertEqual(bob.executedProtocolVersion, 0)
        XCTAssertEqual(try bob.decrypt(userID: 1, frame: inFlight[0]), opus, "old epoch still decrypts")
        channel.clock.advance(seconds: 9.5)
        XCTAssertEqual(try bob.decrypt(userID: 1, frame: inFlight[1]), opus, "… for up to 10 s")
        channel.clock.advance(seconds: 1)
        XCTAssertThrowsError(try bob.decrypt(userID: 1, frame: inFlight[2])) {
            XCTAssertEqual($0 as? DAVEFrameError, .missingKey)
        }
        XCTAssertEqual(try bob.decrypt(userID: 1, frame: alice.encrypt(opus: opus)), opus, "plain Opus passes")
    }

    /// libdave `VerifyWelcomeState` only logs a roster user nobody announced (its rejection is disabled).
    func testWelcomeNamingAnUnrecognisedUserIsAcceptedWithAWarning() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1, 2, 3])
        let bob = try channel.connect(2, recognized: [1, 2])
        try channel.connect(3, recognized: [1, 2, 3])
        var warnings: [String] = []
        bob.onWarning = { warnings.append($0) }
        let (announce, welcome) = try channel.commit(alice, proposals: channel.addProposals([2, 3], epoch: 0))
        let ready = [DAVEClientMessage.readyForTransition(transitionID: channel.lastTransitionID)]
        XCTAssertEqual(try alice.handleAnnounceCommit(announce), ready)
        XCTAssertEqual(try bob.handleWelcome(welcome ?? []), ready)
        XCTAssertEqual(bob.members.map(\.userID), [1, 2, 3])
        XCTAssertEqual(bob.epochAuthenticator, alice.epochAuthenticator)
        XCTAssertEqual(warnings.count, 1)
        XCTAssertTrue(warnings.first?.contains("[3]") == true, "\(warnings)")
    }

    /// A Welcome whose group names another external sender than op 25 is refused (op 31 + new op 26).
    func testWelcomeWithAnotherExternalSenderIsRejected() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1, 2])
        let bob = try channel.connect(2, recognized: [1, 2])
        let impostor = try DAVEExternalSenderRole(channelID: SessionTestChannel.channelID)
        XCTAssertEqual(try bob.handleExternalSender(impostor.package.encoded), [])
        let (_, welcome) = try channel.commit(alice, proposals: channel.addProposals([2], epoch: 0))
        let reply = try bob.handleWelcome(welcome ?? [])
        XCTAssertEqual(reply.map(\.opcode), [31, 26])
        XCTAssertEqual(reply.first, .invalidCommitWelcome(transitionID: channel.lastTransitionID))
        XCTAssertNil(bob.epoch)
    }

    /// A Welcome whose roster holds one user twice is refused, even though our own check at op 27 was bypassed.
    func testWelcomeWithDuplicateUserIsRejected() throws {
        let channel = try SessionTestChannel()
        try channel.connect(1, recognized: [1, 2])
        let bob = try channel.connect(2, recognized: [1, 2])
        // A committer without DAVE's duplicate check: plain MLS, adding two key packages of user 2.
        let group = try Group.create(
            groupID: DAVEGroupID.bytes(channelID: SessionTestChannel.channelID),
            keyPackage: KeyPackageBundle.create(userID: 1),
            externalSenders: [ExternalSender(tlsEncoded: channel.role.package.encoded)])
        let secondPackage = try KeyPackageBundle.create(userID: 2).keyPackage.tlsEncoded
        for package in [channel.keyPackages[2] ?? [], secondPackage] {
            _ = try group.processProposal(channel.role.add(keyPackagePayload: package, epoch: 0).message)
        }
        let welcome = try Welcome(tlsEncoded: XCTUnwrap(group.commitPending().welcome))
        let reply = try bob.handleWelcome(DAVEWelcomePayload(transitionID: 6, welcome: welcome).encoded)
        XCTAssertEqual(reply.map(\.opcode), [31, 26])
        XCTAssertNil(bob.epoch)
    }

    /// libdave `CanProcessCommit`: no op 27 since the last transition → the announced commit is ignored.
    func testCommitWithoutProposalsOnAnEstablishedGroupIsIgnored() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1, 2, 3])
        let bob = try channel.connect(2, recognized: [1, 2, 3])
        try channel.formGroup(alice, [bob])
        try channel.connect(3, recognized: [1, 2, 3])
        let proposals = try channel.addProposals([3], epoch: 1)
        let (announce, _) = try channel.commit(alice, proposals: proposals)
        let authenticator = bob.epochAuthenticator
        XCTAssertEqual(try bob.handleAnnounceCommit(announce), [], "bob never saw op 27")
        XCTAssertEqual(bob.epoch, 1)
        XCTAssertEqual(bob.epochAuthenticator, authenticator)
        XCTAssertEqual(try bob.decrypt(userID: 1, frame: alice.encrypt(opus: opus)), opus, "old epoch intact")

        _ = try bob.handleProposals(proposals)
        XCTAssertEqual(
            try bob.handleAnnounceCommit(announce), [.readyForTransition(transitionID: channel.lastTransitionID)])
        XCTAssertEqual(bob.epoch, 2)
        XCTAssertEqual(try bob.handleAnnounceCommit(announce), [], "the next epoch again waits for op 27")
    }

    /// libdave `ProcessWelcome` fails once a group is joined; protocol.md asks for op 31, a reset and a new op 26.
    func testWelcomeAfterJoiningAnswersOp31AndANewKeyPackage() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1, 2])
        let bob = try channel.connect(2, recognized: [1, 2])
        let (announce, welcome) = try channel.commit(alice, proposals: channel.addProposals([2], epoch: 0))
        _ = try alice.handleAnnounceCommit(announce)
        XCTAssertEqual(
            try bob.handleWelcome(welcome ?? []), [.readyForTransition(transitionID: channel.lastTransitionID)])
        XCTAssertEqual(bob.epoch, 1)
        let reply = try bob.handleWelcome(welcome ?? [])
        XCTAssertEqual(reply.first, .invalidCommitWelcome(transitionID: channel.lastTransitionID))
        guard reply.count == 2, case .keyPackage(let fresh) = reply[1] else { return XCTFail("expected a new op 26") }
        XCTAssertNotEqual(fresh, channel.keyPackages[2])
        XCTAssertNil(bob.epoch)
    }
}
