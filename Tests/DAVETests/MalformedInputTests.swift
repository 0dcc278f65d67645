import DAVE
import MLS
import XCTest

/// Damaged and random payloads for every op and for media frames: typed errors or op 31, never a trap.
final class MalformedInputTests: XCTestCase {
    private var generator = SystemRandomNumberGenerator()

    private func randomBytes(_ count: Int) -> [UInt8] { (0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) } }

    private func mutations(of payload: [UInt8], count: Int) -> [[UInt8]] {
        (0..<count).map { round in
            var copy = payload
            switch round % 3 {
            case 0: copy[Int.random(in: 0..<copy.count, using: &generator)] ^= UInt8.random(in: 1...255, using: &generator)
            case 1: copy.removeLast(Int.random(in: 1...copy.count, using: &generator))
            default: copy += randomBytes(Int.random(in: 1...8, using: &generator))
            }
            return copy
        }
    }

    func testDamagedOpsNeverTrap() throws {
        let channel = try SessionTestChannel()
        let alice = try channel.connect(1, recognized: [1, 2, 3])
        let bob = try channel.connect(2, recognized: [1, 2, 3])
        let carol = try channel.connect(3, recognized: [1, 2, 3])
        let proposals = try channel.addProposals([2], epoch: 0)
        let (announce, welcome) = try channel.commit(alice, proposals: proposals)
        let welcomePayload = try XCTUnwrap(welcome)
        var rejected = 0
        for payload in mutations(of: channel.role.package.encoded, count: 60) {
            do { _ = try carol.handleExternalSender(payload) } catch is DAVESessionError { rejected += 1 }
        }
        for payload in mutations(of: proposals, count: 60) + (0..<40).map({ _ in randomBytes(Int.random(in: 0...64)) }) {
            do { _ = try carol.handleProposals(payload) } catch is DAVESessionError { rejected += 1 }
        }
        XCTAssertGreaterThan(rejected, 0)
        // The transition id (first two bytes) stays intact: only the commit itself is damaged.
        for damagedCommit in mutations(of: Array(announce.dropFirst(2)), count: 60) {
            let payload = Array(announce.prefix(2)) + damagedCommit
            do {
                let reply = try alice.handleAnnounceCommit(payload)
                XCTAssertTrue(reply.isEmpty || reply.first?.opcode == 31, "damaged commit accepted: \(reply)")
            } catch is DAVESessionError {
                rejected += 1
            }
        }
        for damagedWelcome in mutations(of: Array(welcomePayload.dropFirst(2)), count: 60) {
            let payload = Array(welcomePayload.prefix(2)) + damagedWelcome
            do {
                let reply = try bob.handleWelcome(payload)
                XCTAssertTrue(reply.isEmpty || reply.first?.opcode == 31, "damaged Welcome accepted: \(reply)")
            } catch is DAVESessionError {
                rejected += 1
            }
        }
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
