import DAVE
import MLS
import XCTest

/// Damaged and random payloads for every op and for media frames: typed errors or op 31, never a trap.
final class MalformedInputTests: XCTestCase {
    private var generator = SystemRandomNumberGenerator()

    private func randomBytes(_ count: Int) -> [UInt8] {
        (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) }
    }

    /// Round `round % 3`: 0 flips one byte, 1 truncates, 2 appends random bytes — the payload always changes.
    private func mutation(of payload: [UInt8], round: Int) -> [UInt8] {
        var copy = payload
        switch round % 3 {
        case 0: copy[Int.random(in: 0..<copy.count, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
        case 1: copy.removeLast(Int.random(in: 1...copy.count, using: &generator))
        default: copy += randomBytes(Int.random(in: 1...8, using: &generator))
        }
        return copy
    }

    private func mutations(of payload: [UInt8], count: Int) -> [[UInt8]] {
        (0..<count).map { mutation(of: payload, round: $0) }
    }

    func testDamagedOpsNeverTrap() throws {
        let channel = try SessionTestChannel()
        try channel.connect(1, recognized: [1, 2, 3])
        try channel.connect(2, recognized: [1, 2, 3])
        let carol = try channel.connect(3, recognized: [1, 2, 3])
        let proposals = try channel.addProposals([2], epoch: 0)
        var rejected = 0
        for payload in mutations(of: channel.role.package.encoded, count: 60) {
            do { _ = try carol.handleExternalSender(payload) } catch is DAVESessionError { rejected += 1 }
        }
        for payload in mutations(of: proposals, count: 60) + (0..<40).map({ _ in randomBytes(Int.random(in: 0...64)) })
        {
            do { _ = try carol.handleProposals(payload) } catch is DAVESessionError { rejected += 1 }
        }
        XCTAssertGreaterThan(rejected, 0)
    }

    /// A fresh channel per damaged commit, so each one meets a member that holds the op 27 proposals and would
    /// verify it: even rounds an Add commit (no path), odd rounds a Remove commit with UpdatePath.
    private func commitFixture(round: Int) throws -> (receiver: DAVESession, announce: [UInt8]) {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1, 2, 3])
        let bob = try channel.connect(2, recognized: [1, 2, 3])
        let carol = try channel.connect(3, recognized: [1, 2, 3])
        let proposals: [UInt8]
        if round % 2 == 0 {
            try channel.formGroup(alice, [bob])
            proposals = try channel.addProposals([3], epoch: 1)
        } else {
            try channel.formGroup(alice, [bob, carol])
            proposals = DAVEProposalsPayload.append([try channel.role.remove(leafIndex: 2, epoch: 1).message]).encoded
        }
        XCTAssertEqual(try bob.handleProposals(proposals).map(\.opcode), [28])
        let (announce, _) = try channel.commit(alice, proposals: proposals)
        return (bob, announce)
    }

    /// Every damaged op 29 reaches a member that would process it, and is answered with a typed error, op 31
    /// (+ new op 26, group reset) or ignored with the state unchanged — never accepted. The undamaged control
    /// commit is accepted, so the fixture really gets that far.
    func testDamagedCommitsAreRefusedByAMemberThatWouldProcessThem() throws {
        let rounds = 60
        var answeredOp31 = 0
        for round in 0..<rounds {
            let (bob, announce) = try commitFixture(round: round)
            // The transition id (first two bytes) stays intact: only the commit itself is damaged.
            let payload = Array(announce.prefix(2)) + mutation(of: Array(announce.dropFirst(2)), round: round)
            let before = (bob.epoch, bob.epochAuthenticator)
            XCTAssertEqual(before.0, 1)
            do {
                let reply = try bob.handleAnnounceCommit(payload)
                if reply.isEmpty {
                    XCTAssertEqual(bob.epoch, before.0, "round \(round): ignored commit moved the epoch")
                    XCTAssertEqual(bob.epochAuthenticator, before.1, "round \(round)")
                } else {
                    XCTAssertEqual(reply.map(\.opcode), [31, 26], "round \(round): damaged commit accepted")
                    XCTAssertNil(bob.epoch, "round \(round): op 31 must reset the group")
                    answeredOp31 += 1
                }
            } catch {
                XCTAssertTrue(error is DAVESessionError, "round \(round): \(error)")
                XCTAssertEqual(bob.epoch, before.0, "round \(round)")
                XCTAssertEqual(bob.epochAuthenticator, before.1, "round \(round)")
            }
        }
        // Truncations and appended bytes (two rounds in three) always fail parsing and so answer op 31.
        XCTAssertGreaterThanOrEqual(answeredOp31, 2 * rounds / 3)
        let (bob, announce) = try commitFixture(round: 1)
        XCTAssertEqual(try bob.handleAnnounceCommit(announce).map(\.opcode), [23], "undamaged control commit")
        XCTAssertEqual(bob.epoch, 2)
    }

    /// Every damaged op 30 reaches a fresh joiner whose key package it was encrypted to: op 31 + new op 26,
    /// never a joined group. The undamaged control Welcome is accepted.
    func testDamagedWelcomesAreRefusedByTheirJoiner() throws {
        func fixture() throws -> (joiner: DAVESession, welcome: [UInt8]) {
            let channel = try SessionTestChannel()
            let alice = try channel.connect(1, recognized: [1, 2])
            let bob = try channel.connect(2, recognized: [1, 2])
            return (bob, try XCTUnwrap(channel.commit(alice, proposals: channel.addProposals([2], epoch: 0)).welcome))
        }
        for round in 0..<60 {
            let (bob, welcome) = try fixture()
            let payload = Array(welcome.prefix(2)) + mutation(of: Array(welcome.dropFirst(2)), round: round)
            let reply = try bob.handleWelcome(payload)
            XCTAssertEqual(reply.map(\.opcode), [31, 26], "round \(round): damaged Welcome accepted")
            XCTAssertNil(bob.epoch, "round \(round)")
        }
        let (bob, welcome) = try fixture()
        XCTAssertEqual(try bob.handleWelcome(welcome).map(\.opcode), [23], "undamaged control Welcome")
    }

    func testDamagedFramesNeverTrap() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1, 2])
        let bob = try channel.connect(2, recognized: [1, 2])
        try channel.formGroup(alice, [bob])
        let opus: [UInt8] = [0x78] + randomBytes(60)
        let frame = try alice.encrypt(opus: opus)
        for damaged in mutations(of: frame, count: 300) + (0..<100).map({ _ in randomBytes(Int.random(in: 0...40)) }) {
            do {
                let plain = try bob.decrypt(userID: 1, frame: damaged)
                XCTAssertEqual(damaged, [0xF8, 0xFF, 0xFE], "a damaged frame decrypted")
                XCTAssertEqual(plain, damaged)
            } catch {
                XCTAssertTrue(error is DAVEFrameError || error is DAVESessionError, "\(error)")
            }
        }
        XCTAssertEqual(try bob.decrypt(userID: 1, frame: frame), opus)
    }
}
