import DAVE
import Realtime
import XCTest

@testable import DiscordSimulator
@testable import DiscordVoice

/// `VoiceE2EE` members and the simulator's DAVE coordinator wired in memory (no sockets): joins, frames, the
/// sole-member reset, a corrupted commit, and self-healing after a run of failures.
final class VoiceE2EETests: XCTestCase {
    private let clock = Realtime.ManualClock()
    private var call: InMemoryDAVECall!
    private var members: [UInt64: VoiceE2EE] { call.members }
    private var coordinator: VoiceDAVECoordinator { call.coordinator }
    private var sentBack: [UInt64: [DAVEClientMessage]] { call.sent }

    override func setUp() {
        call = try! InMemoryDAVECall(clock: clock)
    }

    private func join(_ userID: UInt64) throws { try call.join(userID) }
    private func leave(_ userID: UInt64) throws { try call.leave(userID) }
    private func deliver(_ userID: UInt64, _ messages: [DAVEClientMessage]) { call.deliver(from: userID, messages) }
    private func pump() throws { try call.pump() }

    private func assertFramesFlow(_ ids: [UInt64], file: StaticString = #filePath, line: UInt = #line) throws {
        let codes = Set(ids.compactMap { members[$0]?.privacyCode })
        XCTAssertEqual(codes.count, 1, "same privacy code (epoch authenticator)", file: file, line: line)
        for sender in ids {
            let opus: [UInt8] = [0xFC, 0x01] + (0..<40).map { _ in UInt8.random(in: 0...255) }
            try opus.withUnsafeBytes { try members[sender]!.encrypt(opus: $0) }
            let frame = members[sender]!.withEncrypted { Array($0) }
            XCTAssertNotEqual(frame, opus, "DAVE-encrypted", file: file, line: line)
            XCTAssertEqual(frame.suffix(2), [0xFA, 0xFA], file: file, line: line)
            for receiver in ids where receiver != sender {
                let result = frame.withUnsafeBytes { members[receiver]!.decrypt(userID: sender, frame: $0) }
                XCTAssertEqual(result, .opus, "\(receiver) decrypts \(sender)", file: file, line: line)
                XCTAssertEqual(members[receiver]!.withDecrypted { Array($0) }, opus, file: file, line: line)
            }
        }
        // Silence is never encrypted.
        try VoiceE2EE.silenceFrame.withUnsafeBytes { try members[ids[0]]!.encrypt(opus: $0) }
        XCTAssertEqual(members[ids[0]]!.withEncrypted { Array($0) }, VoiceE2EE.silenceFrame, file: file, line: line)
    }

    func testJoinsLeavesSoleMemberResetAndRejoin() throws {
        try join(1)
        try join(2)
        try assertFramesFlow([1, 2])
        try join(3)
        try assertFramesFlow([1, 2, 3])
        XCTAssertEqual(coordinator.groupMembers.sorted(), [1, 2, 3])
        try leave(2)
        try assertFramesFlow([1, 3])
        try leave(3)
        // Sole-member reset: op 24 epoch 1 then op 21 transition 0; member 1 re-initialised with a new op 26.
        XCTAssertTrue(
            sentBack[1]!.filter {
                if case .keyPackage = $0 { return true }
                return false
            }.count >= 2)
        try join(4)
        try assertFramesFlow([1, 4])
    }

    /// Downgrade: plain Opus is sent and accepted (passthrough); upgrade: a new group, frames encrypted again, and
    /// plain frames still accepted for 10 s after the upgrade, refused after.
    func testDowngradeAndUpgradeWithPassthroughWindows() throws {
        try join(1)
        try join(2)
        try assertFramesFlow([1, 2])
        try call.downgrade()
        XCTAssertEqual(members[1]?.protocolVersion, 0)
        let opus: [UInt8] = [0xFC, 1, 2, 3, 4]
        try opus.withUnsafeBytes { try members[1]!.encrypt(opus: $0) }
        XCTAssertEqual(members[1]!.withEncrypted { Array($0) }, opus, "plain Opus after the downgrade")
        XCTAssertEqual(opus.withUnsafeBytes { members[2]!.decrypt(userID: 1, frame: $0) }, .opus)

        try call.upgrade()
        XCTAssertEqual(members[1]?.protocolVersion, 1)
        XCTAssertEqual(coordinator.groupMembers.sorted(), [1, 2])
        try assertFramesFlow([1, 2])
        clock.advance(seconds: 5)
        XCTAssertEqual(
            opus.withUnsafeBytes { members[2]!.decrypt(userID: 1, frame: $0) }, .opus,
            "passthrough still allowed within 10 s of the upgrade")
        clock.advance(seconds: 6)
        guard case .dropped = opus.withUnsafeBytes({ members[2]!.decrypt(userID: 1, frame: $0) }) else {
            return XCTFail("plain frames must be refused once the upgrade window is over")
        }
    }

    func testCorruptedCommitAnsweredWithOp31AndMemberReAdded() throws {
        try join(1)
        try join(2)
        call.corruptNextCommit(for: 1)
        try join(3)
        XCTAssertTrue(
            sentBack[1]!.contains {
                if case .invalidCommitWelcome = $0 { return true }
                return false
            })
        // The coordinator re-adds member 1 with its fresh key package in the next transition.
        try assertFramesFlow([1, 2, 3])
    }

    func testFailuresCountedGraceAndSelfHealing() throws {
        try join(1)
        try join(2)
        let member = members[2]!
        let garbage: [UInt8] = [0xFC] + [UInt8](repeating: 7, count: 30)
        // Within 100 ms of user 1's key: early, not failures.
        for _ in 0..<5 { _ = garbage.withUnsafeBytes { member.decrypt(userID: 1, frame: $0) } }
        XCTAssertEqual(member.counters[1]?.early, 5)
        XCTAssertEqual(member.counters[1]?.failed ?? 0, 0)
        clock.advance(seconds: 1)
        var replies: [DAVEClientMessage] = []
        for _ in 0..<37 {
            if case .dropped(let r) = garbage.withUnsafeBytes({ member.decrypt(userID: 1, frame: $0) }) { replies += r }
        }
        XCTAssertEqual(member.counters[1]?.failed, 37)
        XCTAssertEqual(member.selfHealings, 1)
        XCTAssertEqual(replies.first?.opcode, 31, "op 31 after more than 36 failures in a row")
        XCTAssertEqual(replies.dropFirst().first?.opcode, 26, "and a new key package")
        deliver(2, replies)
        try pump()
        try assertFramesFlow([1, 2])
    }
}
