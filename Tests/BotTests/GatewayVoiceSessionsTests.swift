import Bot
import Discord
import Logging
import NIOCore
import NIOPosix
import PersonaPlex
import Synchronization
import XCTest

/// Today's session service against a real loopback listener (the backend probe) and a recording op 4 control.
final class GatewayVoiceSessionsTests: XCTestCase {
    typealias F = Fixture

    func request(port: Int, id: UInt64 = 1) -> VoiceSessionRequest {
        VoiceSessionRequest(
            id: VoiceSessionID(rawValue: id), guildID: F.guildA, voiceChannelID: F.voiceA1, textChannelID: F.voiceA1,
            starter: F.alice, settings: UserSettings(userID: F.alice.id, textPrompt: "p", voice: "NATF0.pt"),
            backend: PersonaPlexEndpoint(secure: false, host: "127.0.0.1", port: port), backendIndex: 0)
    }

    /// A TCP listener on a free loopback port (accepts and ignores connections).
    func listener() async throws -> Channel {
        try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .bind(host: "127.0.0.1", port: 0).get()
    }

    func testStartJoinsVoiceWhenTheBackendAnswersAndStopLeaves() async throws {
        let server = try await listener()
        let port = try XCTUnwrap(server.localAddress?.port)
        let voice = RecordingVoiceControl()
        let sessions = GatewayVoiceSessions(voice: voice, logger: Logger(label: "t"))
        try await sessions.start(request(port: port)) { _ in XCTFail("no end expected") }
        XCTAssertEqual(voice.updates, [.init(guild: F.guildA, channel: F.voiceA1)])
        let running = await sessions.running
        XCTAssertEqual(running.map(\.id.rawValue), [1])
        await sessions.stop(VoiceSessionID(rawValue: 1))
        XCTAssertEqual(voice.updates.last, .init(guild: F.guildA, channel: nil))
        let privacy = await sessions.privacyCode(guildID: F.guildA)
        XCTAssertNil(privacy)
        try await server.close()
    }

    func testUnreachableBackendIsReportedWithoutJoining() async throws {
        let server = try await listener()
        let port = try XCTUnwrap(server.localAddress?.port)
        try await server.close()  // nothing listens there any more
        let voice = RecordingVoiceControl()
        let sessions = GatewayVoiceSessions(voice: voice, logger: Logger(label: "t"))
        do {
            try await sessions.start(request(port: port)) { _ in }
            XCTFail("started against a closed port")
        } catch {
            guard case .backendUnreachable = error else { return XCTFail("\(error)") }
        }
        XCTAssertTrue(voice.updates.isEmpty)
    }

    func testJoinFailureIsReported() async throws {
        let server = try await listener()
        let voice = RecordingVoiceControl()
        voice.failure.withLock { $0 = "gateway not connected" }
        let sessions = GatewayVoiceSessions(voice: voice, logger: Logger(label: "t"))
        let port = try XCTUnwrap(server.localAddress?.port)
        do {
            try await sessions.start(request(port: port)) { _ in }
            XCTFail("started without joining")
        } catch {
            XCTAssertEqual(error, .voiceJoinFailed(detail: "gateway not connected"))
        }
        try await server.close()
    }

    func testStopDuringTheJoinLeavesAgain() async throws {
        let server = try await listener()
        let port = try XCTUnwrap(server.localAddress?.port)
        let voice = RecordingVoiceControl()
        voice.joinDelay.withLock { $0 = .milliseconds(300) }
        let sessions = GatewayVoiceSessions(voice: voice, logger: Logger(label: "t"))
        let first = request(port: port)
        async let started: Void = sessions.start(first) { _ in }
        while voice.updates.isEmpty { try await Task.sleep(for: .milliseconds(5)) }  // the join is under way
        await sessions.stop(VoiceSessionID(rawValue: 1))
        try await started
        XCTAssertEqual(voice.updates.last, .init(guild: F.guildA, channel: nil), "\(voice.updates)")
        let running = await sessions.running
        XCTAssertTrue(running.isEmpty)
        try await server.close()
    }

    func testStoppingThePreviousSessionDoesNotUndoTheNextJoin() async throws {
        let server = try await listener()
        let port = try XCTUnwrap(server.localAddress?.port)
        let voice = RecordingVoiceControl()
        let sessions = GatewayVoiceSessions(voice: voice, logger: Logger(label: "t"))
        try await sessions.start(request(port: port, id: 1)) { _ in }
        voice.joinDelay.withLock { $0 = .milliseconds(300) }
        var next = request(port: port, id: 2)
        next.voiceChannelID = F.voiceA2
        async let started: Void = sessions.start(next) { _ in }
        while voice.updates.count < 2 { try await Task.sleep(for: .milliseconds(5)) }
        await sessions.stop(VoiceSessionID(rawValue: 1))
        try await started
        XCTAssertEqual(
            voice.updates,
            [
                .init(guild: F.guildA, channel: F.voiceA1),
                .init(guild: F.guildA, channel: F.voiceA2),
            ])
        try await server.close()
    }

    func testRemovalFromVoiceEndsTheSession() async throws {
        let server = try await listener()
        let voice = RecordingVoiceControl()
        let sessions = GatewayVoiceSessions(voice: voice, logger: Logger(label: "t"))
        let ended = Mutex<[VoiceSessionEnd]>([])
        try await sessions.start(request(port: try XCTUnwrap(server.localAddress?.port))) { end in
            ended.withLock { $0.append(end) }
        }
        await sessions.voiceDisconnected(guildID: F.guildA, serverGone: true)
        XCTAssertTrue(ended.withLock { $0.isEmpty }, "a voice server change is waited out")
        await sessions.voiceDisconnected(guildID: F.guildA, serverGone: false)
        XCTAssertEqual(ended.withLock { $0.map(\.id.rawValue) }, [1])
        try await server.close()
    }
}
