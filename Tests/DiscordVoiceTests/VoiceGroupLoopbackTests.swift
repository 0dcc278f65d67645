import Discord
import DiscordSimulator
import Foundation
import NIOCore
import NIOPosix
import Realtime
import XCTest

@testable import DiscordVoice

/// Several of our connections in one simulated call: network faults, joins and leaves, the sole-member reset and a
/// corrupted commit, all over real sockets.
final class VoiceGroupLoopbackTests: XCTestCase {
    static let channelID: UInt64 = 555
    private var group: MultiThreadedEventLoopGroup!
    private var server: SimulatedVoiceServer!
    private var endpoint = ""

    override func setUp() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        server = try SimulatedVoiceServer(eventLoop: group.next(), channelID: Self.channelID)
        endpoint = try await server.start()
    }

    override func tearDown() async throws {
        await server.shutdown()
        try await group.shutdownGracefully()
    }

    private func connect(_ userID: UInt64) async throws -> VoiceConnection {
        let info = VoiceServerInfo(
            guildID: Snowflake(1), channelID: Snowflake(Self.channelID),
            userID: Snowflake(userID), sessionID: "s\(userID)", token: "t\(userID)",
            endpoint: endpoint)
        await server.authorize(userID: userID, sessionID: info.sessionID, token: info.token)
        let connection = try VoiceConnection(
            eventLoop: group.next(), control: nil,
            configuration: VoiceConnectionConfiguration(secure: false))
        await connection.voiceServerReady(info)
        return connection
    }

    private func waitForGroup(_ connections: [VoiceConnection], size: Int) async throws {
        let deadline = Date().addingTimeInterval(20)
        while Date() < deadline {
            var codes: Set<String> = []
            var ready = 0
            for connection in connections {
                if let status = await connection.status(), status.phase == .connected, let code = status.privacyCode {
                    codes.insert(code)
                    ready += 1
                }
            }
            let members = await server.snapshot()?.groupMembers.count ?? 0
            if ready == connections.count, codes.count == 1, members == size { return }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        XCTFail("no common DAVE group of \(size)")
        throw CancellationError()
    }

    /// Sends `count` frames from `sender`; returns, per receiver, the frames it got from `senderID`.
    private func send(
        _ count: Int, from sender: VoiceConnection, senderID: UInt64,
        to receivers: [VoiceConnection]
    ) async throws -> (sent: [[UInt8]], got: [[[UInt8]]]) {
        let frames = (0..<count).map { i in
            [UInt8(i & 0xFF), 0x42] + (0..<(30 + i % 50)).map { _ in UInt8.random(in: 0...255) }
        }
        var got = [[[UInt8]]](repeating: [], count: receivers.count)
        let start = SystemClock.now()
        for (i, frame) in frames.enumerated() {
            frame.withUnsafeBytes { _ = sender.outgoing.send(opus: $0, stamp: SystemClock.now()) }
            let next = start + UInt64(i + 1) * 20_000_000
            let now = SystemClock.now()
            if next > now { try await Task.sleep(nanoseconds: next - now) }
        }
        try await Task.sleep(nanoseconds: 400_000_000)
        for (index, receiver) in receivers.enumerated() {
            receiver.received.drainFrames { slot in
                if slot.userID == senderID, slot.opus != VoiceE2EE.silenceFrame { got[index].append(slot.opus) }
            }
        }
        return (frames, got)
    }

    /// Loss, duplication, reordering, jitter, garbage and unknown SSRCs, with Discord's packet shapes: nothing
    /// undecryptable reaches the receiver, every frame it gets is one that was sent, and drops are counted.
    func testFaultsNeverCorruptFrames() async throws {
        let a = try await connect(1)
        let b = try await connect(2)
        try await waitForGroup([a, b], size: 2)
        await server.setOptions { options in
            options = .discordLike
            options.lossRate = 0.1
            options.duplicateRate = 0.1
            options.reorderRate = 0.1
            options.jitterMilliseconds = 15
            options.garbageRate = 0.2
            options.unknownSSRCRate = 0.2
        }
        let (sent, got) = try await send(100, from: a, senderID: 1, to: [b])
        let sentSet = Set(sent)
        XCTAssertTrue(got[0].allSatisfy { sentSet.contains($0) }, "only sent frames come out, byte-exact")
        XCTAssertGreaterThan(got[0].count, 60, "most frames survive 10 % loss")
        let fetched = await b.status()
        let status = try XCTUnwrap(fetched)
        XCTAssertGreaterThan(status.receive.unknownSSRC, 0)
        XCTAssertGreaterThan(
            status.receive.notRTP + status.receive.tooShort + status.receive.wrongPayloadType
                + status.receive.decryptFailed, 0, "garbage counted")
        XCTAssertGreaterThan(status.receive.rtcp, 0)
        XCTAssertEqual(status.daveSelfHealings, 0, "duplicates and reordering never trigger op 31")
        let faults = await server.snapshot()?.faultsInjected ?? 0
        XCTAssertGreaterThan(faults, 20)
        await a.close()
        await b.close()
    }

    /// Over the network: a downgrade to plain Opus and an upgrade back to DAVE; frames byte-exact throughout.
    func testDowngradeAndUpgrade() async throws {
        let a = try await connect(1)
        let b = try await connect(2)
        try await waitForGroup([a, b], size: 2)
        await server.downgrade()
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, await a.status()?.daveProtocolVersion != 0 {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let downgraded = await a.status()?.daveProtocolVersion
        XCTAssertEqual(downgraded, 0)
        var (sent, got) = try await send(20, from: a, senderID: 1, to: [b])
        XCTAssertEqual(got[0], sent, "plain Opus accepted during the downgrade")
        await server.upgrade()
        try await waitForGroup([a, b], size: 2)
        let upgraded = await a.status()?.daveProtocolVersion
        XCTAssertEqual(upgraded, 1)
        (sent, got) = try await send(20, from: b, senderID: 2, to: [a])
        XCTAssertEqual(got[0], sent)
        await a.close()
        await b.close()
    }

    /// Three members, a corrupted commit to one (op 31, re-added), a leave, the sole-member reset, and a new join.
    func testJoinsLeavesCorruptedCommitAndSoleMemberReset() async throws {
        let a = try await connect(1)
        let b = try await connect(2)
        try await waitForGroup([a, b], size: 2)
        await server.corruptNextCommit(for: 1)
        let c = try await connect(3)
        try await waitForGroup([a, b, c], size: 3)
        let invalid = await server.snapshot()?.invalidCommitAnswers
        XCTAssertEqual(invalid, 1, "the damaged op 29 was answered with op 31, and the member was re-added")
        var (sent, got) = try await send(20, from: a, senderID: 1, to: [b, c])
        XCTAssertEqual(got[0], sent)
        XCTAssertEqual(got[1], sent)
        (sent, got) = try await send(20, from: c, senderID: 3, to: [a, b])
        XCTAssertEqual(got[0], sent)
        XCTAssertEqual(got[1], sent)

        await server.disconnect(userID: 3)
        await c.close()
        try await waitForGroup([a, b], size: 2)
        await server.disconnect(userID: 2)
        await b.close()
        // Sole-member reset, then a newcomer: a new group of two.
        let d = try await connect(4)
        try await waitForGroup([a, d], size: 2)
        (sent, got) = try await send(20, from: d, senderID: 4, to: [a])
        XCTAssertEqual(got[0], sent)
        await a.close()
        await d.close()
    }
}
