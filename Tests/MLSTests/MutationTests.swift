import XCTest

@testable import MLS

/// Deterministic mutation sweep: corrupted Welcomes, commits, proposals and trees must fail with `MLSError`
/// (never trap) and must never be accepted as-is when the corruption touches authenticated bytes.
final class MutationTests: XCTestCase {
    struct LCG {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            return Int((state >> 33) % UInt64(bound))
        }
    }

    func mutations(of bytes: [UInt8], count: Int, rng: inout LCG) -> [[UInt8]] {
        (0..<count).map { _ in
            var copy = bytes
            switch rng.next(3) {
            case 0: copy[rng.next(copy.count)] ^= UInt8(1 + rng.next(255))
            case 1: copy = Array(copy.prefix(rng.next(copy.count)))
            default: copy.insert(UInt8(rng.next(256)), at: rng.next(copy.count + 1))
            }
            return copy
        }
    }

    func testCorruptedInputsFailCleanly() throws {
        var rng = LCG(state: 0x5EED)
        let gateway = try ExternalSenderSigner(identity: [0])
        let groupID = bigEndianBytes(42)
        let aliceKP = try KeyPackageBundle.create(userID: 1)
        let bobKP = try KeyPackageBundle.create(userID: 2)
        let alice = try Group.create(groupID: groupID, keyPackage: aliceKP, externalSenders: [gateway.sender])
        let add = try gateway.addProposal(keyPackage: bobKP.keyPackage, groupID: groupID, epoch: 0)
        try alice.processProposal(add.message)
        let result = try alice.commitPending()
        let welcome = try XCTUnwrap(result.welcome)
        try alice.processCommit(result.commit)
        let bob = try Group.join(welcome: welcome, keyPackage: bobKP)

        for mutated in mutations(of: welcome, count: 150, rng: &rng) where mutated != welcome {
            XCTAssertThrowsError(try Group.join(welcome: mutated, keyPackage: bobKP)) { XCTAssertTrue($0 is MLSError) }
        }

        let remove = try gateway.removeProposal(leafIndex: 1, groupID: groupID, epoch: 1)
        for mutated in mutations(of: remove.message, count: 150, rng: &rng) where mutated != remove.message {
            XCTAssertThrowsError(try bob.processProposal(mutated)) { XCTAssertTrue($0 is MLSError) }
        }
        XCTAssertTrue(bob.pendingProposals.isEmpty)
        try alice.processProposal(remove.message)
        try bob.processProposal(remove.message)
        let removal = try alice.commitPending()
        for mutated in mutations(of: removal.commit, count: 150, rng: &rng) where mutated != removal.commit {
            XCTAssertThrowsError(try bob.processCommit(mutated)) { XCTAssertTrue($0 is MLSError) }
            XCTAssertEqual(bob.epoch, 1)
        }
        XCTAssertTrue(try bob.processCommit(removal.commit).removedSelf)

        let treeData = alice.tree.extensionData
        for mutated in mutations(of: treeData, count: 150, rng: &rng) {
            do {
                let tree = try RatchetTree(extensionData: mutated)
                if tree != alice.tree { XCTAssertThrowsError(try tree.validate(groupID: groupID)) }
            } catch {
                XCTAssertTrue(error is MLSError)
            }
        }
    }
}
