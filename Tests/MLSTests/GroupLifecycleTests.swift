import XCTest

@testable import MLS

/// End-to-end group operation with our own implementation on every side, DAVE style:
/// an external sender proposes Adds/Removes, members commit by reference, joiners use the Welcome.
final class GroupLifecycleTests: XCTestCase {
    let groupID = bigEndianBytes(927_310_423_890_473_011)
    let exporterLabel = "Discord Secure Frames v0"

    func assertInSync(_ groups: [Group], file: StaticString = #filePath, line: UInt = #line) {
        guard let first = groups.first else { return }
        for group in groups.dropFirst() {
            XCTAssertEqual(group.epoch, first.epoch, file: file, line: line)
            XCTAssertEqual(group.epochAuthenticator, first.epochAuthenticator, file: file, line: line)
            XCTAssertEqual(
                try group.exporter(label: exporterLabel, context: [1, 2, 3], length: 16),
                try first.exporter(label: exporterLabel, context: [1, 2, 3], length: 16), file: file, line: line)
            XCTAssertEqual(group.tree, first.tree, file: file, line: line)
            XCTAssertEqual(group.memberUserIDs, first.memberUserIDs, file: file, line: line)
        }
    }

    func testThreeMemberLifecycle() throws {
        let gateway = try ExternalSenderSigner(identity: [0])
        let aliceKP = try KeyPackageBundle.create(userID: 1)
        let bobKP = try KeyPackageBundle.create(userID: 2)
        let carolKP = try KeyPackageBundle.create(userID: 3)

        // Alice's pending group; the gateway adds Bob and Carol.
        let alice = try Group.create(groupID: groupID, keyPackage: aliceKP, externalSenders: [gateway.sender])
        XCTAssertEqual(alice.epoch, 0)
        XCTAssertEqual(alice.externalSenders, [gateway.sender])
        let addBob = try gateway.addProposal(keyPackage: bobKP.keyPackage, groupID: groupID, epoch: 0)
        let addCarol = try gateway.addProposal(keyPackage: carolKP.keyPackage, groupID: groupID, epoch: 0)
        var seenUserIDs: [UInt64] = []
        let validator: (Proposal, Sender) throws -> Void = { proposal, sender in
            XCTAssertEqual(sender, .external(senderIndex: 0))
            if case .add(let kp) = proposal, let id = kp.leafNode.credential.userID { seenUserIDs.append(id) }
        }
        XCTAssertEqual(try alice.processProposal(addBob.message, validator: validator), addBob.reference)
        XCTAssertEqual(try alice.processProposal(addCarol.message, validator: validator), addCarol.reference)
        XCTAssertEqual(seenUserIDs, [2, 3])

        // Adds only: no path needed; Welcome for both.
        let first = try alice.commitPending()
        let welcome = try XCTUnwrap(first.welcome)
        guard case .publicMessage(let firstCommit) = try MLSMessage(tlsEncoded: first.commit),
            case .commit(let commitBody) = firstCommit.content.body
        else { return XCTFail("commit framing") }
        XCTAssertNil(commitBody.path)
        XCTAssertEqual(commitBody.proposals, [.reference(addBob.reference), .reference(addCarol.reference)])
        XCTAssertEqual(alice.epoch, 0, "state stays pending until the commit is announced")
        let outcome = try alice.processCommit(first.commit)
        XCTAssertTrue(outcome.wasOwnCommit)
        XCTAssertEqual(outcome.addedLeaves, [1, 2])

        let bob = try Group.join(welcome: welcome, keyPackage: bobKP)
        let carol = try Group.join(welcome: welcome, keyPackage: carolKP)
        XCTAssertEqual(bob.ownLeafIndex, 1)
        XCTAssertEqual(carol.ownLeafIndex, 2)
        XCTAssertEqual(alice.memberUserIDs, [0: 1, 1: 2, 2: 3])
        XCTAssertEqual(bob.externalSenders, [gateway.sender])
        assertInSync([alice, bob, carol])
        XCTAssertEqual(alice.epoch, 1)

        // A revoked proposal is not committed; an empty commit carries a path and rotates keys.
        let stray = try gateway.removeProposal(leafIndex: 2, groupID: groupID, epoch: 1)
        try bob.processProposal(stray.message)
        XCTAssertTrue(bob.revokeProposal(reference: stray.reference))
        XCTAssertFalse(bob.revokeProposal(reference: stray.reference))
        let empty = try bob.commitPending()
        XCTAssertNil(empty.welcome)
        for group in [alice, carol] { XCTAssertFalse(try group.processCommit(empty.commit).wasOwnCommit) }
        XCTAssertTrue(try bob.processCommit(empty.commit).wasOwnCommit)
        assertInSync([alice, bob, carol])

        // Remove Carol: Bob commits with a path; Alice follows; Carol learns she is out.
        let removeCarol = try gateway.removeProposal(leafIndex: 2, groupID: groupID, epoch: 2)
        for group in [alice, bob, carol] { try group.processProposal(removeCarol.message) }
        let removal = try bob.commitPending()
        XCTAssertNil(removal.welcome)
        let aliceOutcome = try alice.processCommit(removal.commit)
        XCTAssertEqual(aliceOutcome.removedLeaves, [2])
        XCTAssertTrue(try bob.processCommit(removal.commit).wasOwnCommit)
        XCTAssertTrue(try carol.processCommit(removal.commit).removedSelf)
        XCTAssertTrue(carol.isRemoved)
        assertInSync([alice, bob])
        XCTAssertEqual(alice.memberUserIDs, [0: 1, 1: 2])
        XCTAssertNotEqual(carol.epochAuthenticator, alice.epochAuthenticator)

        // Dave is added; both Alice and Bob commit, Alice's commit wins and Bob drops his own.
        let daveKP = try KeyPackageBundle.create(userID: 4)
        let addDave = try gateway.addProposal(keyPackage: daveKP.keyPackage, groupID: groupID, epoch: 3)
        for group in [alice, bob] { try group.processProposal(addDave.message) }
        let aliceCommit = try alice.commitPending()
        _ = try bob.commitPending()
        XCTAssertTrue(try alice.processCommit(aliceCommit.commit).wasOwnCommit)
        XCTAssertFalse(try bob.processCommit(aliceCommit.commit).wasOwnCommit)
        XCTAssertFalse(bob.hasPendingCommit)
        let dave = try Group.join(welcome: XCTUnwrap(aliceCommit.welcome), keyPackage: daveKP)
        XCTAssertEqual(dave.ownLeafIndex, 2)
        assertInSync([alice, bob, dave])
        XCTAssertEqual(dave.memberUserIDs, [0: 1, 1: 2, 2: 4])

        // Dave (joined without path secrets for Bob's subtree) can commit, and everyone follows.
        let removeBob = try gateway.removeProposal(leafIndex: 1, groupID: groupID, epoch: 4)
        for group in [alice, bob, dave] { try group.processProposal(removeBob.message) }
        let daveCommit = try dave.commitPending()
        XCTAssertFalse(try alice.processCommit(daveCommit.commit).wasOwnCommit)
        XCTAssertTrue(try dave.processCommit(daveCommit.commit).wasOwnCommit)
        XCTAssertTrue(try bob.processCommit(daveCommit.commit).removedSelf)
        assertInSync([alice, dave])
        XCTAssertEqual(alice.epoch, 5)
    }

    func testRejectsTamperedAndStaleMessages() throws {
        let gateway = try ExternalSenderSigner(identity: [0])
        let impostor = try ExternalSenderSigner(identity: [0])
        let alice = try Group.create(
            groupID: groupID, keyPackage: KeyPackageBundle.create(userID: 1), externalSenders: [gateway.sender])
        let bobKP = try KeyPackageBundle.create(userID: 2)

        let forged = try impostor.addProposal(keyPackage: bobKP.keyPackage, groupID: groupID, epoch: 0)
        XCTAssertThrowsError(try alice.processProposal(forged.message)) {
            XCTAssertEqual($0 as? MLSError, .validation("external proposal signature invalid"))
        }
        let stale = try gateway.addProposal(keyPackage: bobKP.keyPackage, groupID: groupID, epoch: 7)
        XCTAssertThrowsError(try alice.processProposal(stale.message))
        let otherGroup = try gateway.addProposal(keyPackage: bobKP.keyPackage, groupID: [9], epoch: 0)
        XCTAssertThrowsError(try alice.processProposal(otherGroup.message))
        let unrecognised = try gateway.addProposal(keyPackage: bobKP.keyPackage, groupID: groupID, epoch: 0)
        XCTAssertThrowsError(
            try alice.processProposal(unrecognised.message) { _, _ in throw MLSError.validation("not recognised") })
        XCTAssertTrue(alice.pendingProposals.isEmpty)

        try alice.processProposal(unrecognised.message)
        let result = try alice.commitPending()
        let bob = try Group.join(welcome: XCTUnwrap(result.welcome), keyPackage: bobKP)
        try alice.processCommit(result.commit)
        XCTAssertThrowsError(try bob.processCommit(result.commit), "a commit for the previous epoch is rejected")
        XCTAssertThrowsError(
            try Group.join(welcome: XCTUnwrap(result.welcome), keyPackage: KeyPackageBundle.create(userID: 3)))

        // Every single-byte corruption of a commit is rejected (codec, signature, membership or confirmation tag).
        let carolKP = try KeyPackageBundle.create(userID: 3)
        let addCarol = try gateway.addProposal(keyPackage: carolKP.keyPackage, groupID: groupID, epoch: 1)
        for group in [alice, bob] { try group.processProposal(addCarol.message) }
        let genuine = try alice.commitPending().commit
        for position in stride(from: 4, to: genuine.count, by: max(1, genuine.count / 40)) {
            var tampered = genuine
            tampered[position] ^= 0x01
            XCTAssertThrowsError(try bob.processCommit(tampered), "corruption at byte \(position)")
            XCTAssertEqual(bob.epoch, 1)
        }
        // An inline-proposal commit is valid MLS but refused when references are required.
        let inlineCommit = try inlineVariant(of: genuine, signer: alice, proposal: .add(carolKP.keyPackage))
        bob.requiresProposalReferences = true
        XCTAssertThrowsError(try bob.processCommit(inlineCommit)) {
            XCTAssertEqual($0 as? MLSError, .validation("commit carries inline proposals"))
        }
        bob.requiresProposalReferences = false
        XCTAssertFalse(try bob.processCommit(genuine).wasOwnCommit)
        XCTAssertTrue(try alice.processCommit(genuine).wasOwnCommit)
        XCTAssertEqual(alice.epochAuthenticator, bob.epochAuthenticator)
    }

    /// Re-frames `commit` with its proposal list replaced by one inline proposal (signature no longer checked first).
    func inlineVariant(of commit: [UInt8], signer: Group, proposal: Proposal) throws -> [UInt8] {
        guard case .publicMessage(var message) = try MLSMessage(tlsEncoded: commit),
            case .commit(var body) = message.content.body
        else {
            throw MLSError.validation("not a commit")
        }
        body.proposals = [.proposal(proposal)]
        message.content.body = .commit(body)
        return MLSMessage.publicMessage(message).tlsEncoded
    }

    /// A commit that removes and adds at once carries a path; the joiner gets a path secret in the Welcome
    /// and must later decrypt a path secret addressed to the parent node it learned that way.
    func testJoinerUsesWelcomePathSecret() throws {
        let gateway = try ExternalSenderSigner(identity: [0])
        let bundles = try (1...5).map { try KeyPackageBundle.create(userID: UInt64($0)) }
        let creator = try Group.create(groupID: groupID, keyPackage: bundles[0], externalSenders: [gateway.sender])
        for bundle in bundles.dropFirst() {
            try creator.processProposal(
                gateway.addProposal(keyPackage: bundle.keyPackage, groupID: groupID, epoch: 0).message)
        }
        let initial = try creator.commitPending()
        try creator.processCommit(initial.commit)
        var members = [creator]
        for bundle in bundles.dropFirst() {
            members.append(try Group.join(welcome: XCTUnwrap(initial.welcome), keyPackage: bundle))
        }
        XCTAssertEqual(members.map(\.ownLeafIndex), [0, 1, 2, 3, 4])
        assertInSync(members)

        // Leaf 1 commits Remove(leaf 2) + Add(newcomer): the newcomer takes leaf 2 and learns node 3's secret.
        let newcomerKP = try KeyPackageBundle.create(userID: 6)
        let remove = try gateway.removeProposal(leafIndex: 2, groupID: groupID, epoch: 1)
        let add = try gateway.addProposal(keyPackage: newcomerKP.keyPackage, groupID: groupID, epoch: 1)
        for member in members {
            try member.processProposal(remove.message)
            try member.processProposal(add.message)
        }
        let mixed = try members[1].commitPending()
        for member in members { try member.processCommit(mixed.commit) }
        XCTAssertTrue(members[2].isRemoved)
        members.remove(at: 2)
        let newcomer = try Group.join(welcome: XCTUnwrap(mixed.welcome), keyPackage: newcomerKP)
        XCTAssertEqual(newcomer.ownLeafIndex, 2)
        XCTAssertNotNil(newcomer.state.privateKeys.key(for: 3), "node 3 key derived from the Welcome path secret")
        XCTAssertNotNil(newcomer.state.privateKeys.key(for: 7), "root key derived from the Welcome path secret")
        XCTAssertEqual(newcomer.tree.filteredDirectPath(4), [7], "leaf 4 encrypts only to node 3's resolution")
        XCTAssertEqual(newcomer.tree.resolution(3), [3])
        members.append(newcomer)
        assertInSync(members)

        // Leaf 4 commits (empty commit, path): its only copath resolution node is node 3.
        let rotation = try members[3].commitPending()
        XCTAssertEqual(members[3].ownLeafIndex, 4)
        for member in members { try member.processCommit(rotation.commit) }
        assertInSync(members)
        XCTAssertEqual(newcomer.epoch, 3)
    }

    /// A 40-member group built by one commit, then churn: removals with paths and re-adds, checked on a sample.
    func testLargeGroupChurn() throws {
        let gateway = try ExternalSenderSigner(identity: [0])
        let bundles = try (1...40).map { try KeyPackageBundle.create(userID: UInt64($0)) }
        let creator = try Group.create(groupID: groupID, keyPackage: bundles[0], externalSenders: [gateway.sender])
        for bundle in bundles.dropFirst() {
            try creator.processProposal(
                gateway.addProposal(keyPackage: bundle.keyPackage, groupID: groupID, epoch: 0).message)
        }
        let initial = try creator.commitPending()
        try creator.processCommit(initial.commit)
        var members: [Group] = [creator]
        for index in [7, 20, 39] {
            members.append(try Group.join(welcome: XCTUnwrap(initial.welcome), keyPackage: bundles[index]))
        }
        assertInSync(members)
        XCTAssertEqual(creator.members.count, 40)

        for (round, victim) in [UInt32(3), 30, 11].enumerated() {
            let remove = try gateway.removeProposal(leafIndex: victim, groupID: groupID, epoch: creator.epoch)
            for member in members { try member.processProposal(remove.message) }
            let committer = members[(round + 1) % members.count]
            let commit = try committer.commitPending()
            for member in members { try member.processCommit(commit.commit) }
            assertInSync(members)
        }
        XCTAssertEqual(creator.members.count, 37)
        XCTAssertEqual(creator.epoch, 4)
    }
}
