import Codecs
import DAVE
import Discord
import DiscordSimulator
import Foundation
import NIOCore
import NIOPosix
import Realtime
import Synchronization
import XCTest

@testable import DiscordVoice

/// Our voice connection against the simulator's voice server on loopback: voice gateway v8, UDP with Discord's
/// packet shapes, DAVE through the external sender, and the close-code rules.
final class VoiceLoopbackTests: XCTestCase {
    static let channelID: UInt64 = 927_310_423_890_473_011
    private var group: MultiThreadedEventLoopGroup!
    private var server: SimulatedVoiceServer!
    private var endpoint = ""

    override func setUp() async throws {
        group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        server = try SimulatedVoiceServer(
            eventLoop: group.next(), channelID: Self.channelID,
            options: .discordLike)
        endpoint = try await server.start()
    }

    override func tearDown() async throws {
        await server.shutdown()
        try await group.shutdownGracefully()
    }

    /// A member: our connection plus its info, authorised on the simulator.
    private func member(_ userID: UInt64, control: (any VoiceChannelControl)? = nil) async throws
        -> (VoiceConnection, VoiceServerInfo)
    {
        let info = VoiceServerInfo(
            guildID: Snowflake(1), channelID: Snowflake(Self.channelID),
            userID: Snowflake(userID), sessionID: "s\(userID)", token: "t\(userID)",
            endpoint: endpoint)
        await server.authorize(userID: userID, sessionID: info.sessionID, token: info.token)
        let connection = try VoiceConnection(
            eventLoop: group.next(), control: control,
            configuration: VoiceConnectionConfiguration(secure: false))
        return (connection, info)
    }

    private func waitFor(
        _ what: String, seconds: Double = 20,
        _ condition: () async -> Bool
    ) async throws {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if await condition() { return }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        XCTFail("timed out waiting for \(what)")
        throw CancellationError()
    }

    private func inGroup(_ connections: [VoiceConnection]) async -> Bool {
        var codes: Set<String> = []
        for connection in connections {
            guard let status = await connection.status(), status.phase == .connected,
                let code = status.privacyCode
            else { return false }
            codes.insert(code)
        }
        return codes.count == 1
    }

    /// Sends `count` distinct frames from `sender` at 20 ms and returns what `receiver` got from it.
    private func exchange(
        from sender: VoiceConnection, senderID: UInt64, to receiver: VoiceConnection,
        count: Int
    ) async throws -> (sent: [[UInt8]], got: [[UInt8]]) {
        let frames = (0..<count).map { i in
            [UInt8(i & 0xFF), 0x42] + (0..<(20 + i % 90)).map { _ in UInt8.random(in: 0...255) }
        }
        let start = SystemClock.now()
        for (i, frame) in frames.enumerated() {
            frame.withUnsafeBytes { _ = sender.outgoing.send(opus: $0, stamp: SystemClock.now()) }
            let next = start + UInt64(i + 1) * 20_000_000
            let now = SystemClock.now()
            if next > now { try await Task.sleep(nanoseconds: next - now) }
        }
        var got: [[UInt8]] = []
        let deadline = Date().addingTimeInterval(3)
        while Date() < deadline, got.count < count {
            receiver.received.drainFrames { slot in
                if slot.userID == senderID, slot.opus != VoiceE2EE.silenceFrame { got.append(slot.opus) }
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        return (frames, got)
    }

    func testTwoMembersExchangeDAVEFramesByteExact() async throws {
        let (a, aInfo) = try await member(2001)
        let (b, bInfo) = try await member(2002)
        await a.voiceServerReady(aInfo)
        await b.voiceServerReady(bInfo)
        try await waitFor("both in one DAVE group") { await inGroup([a, b]) }
        let fetched1 = await a.status()
        let statusA = try XCTUnwrap(fetched1)
        XCTAssertEqual(statusA.daveProtocolVersion, 1)
        XCTAssertEqual(statusA.privacyCode?.count, 30)
        let privacy = await a.privacyCode()
        XCTAssertEqual(privacy, statusA.privacyCode)

        let (sent, got) = try await exchange(from: a, senderID: 2001, to: b, count: 60)
        XCTAssertEqual(got, sent, "every frame DAVE- and transport-decrypted byte-exact (with extensions/padding)")
        let fetched2 = await b.status()
        let statusB = try XCTUnwrap(fetched2)
        XCTAssertEqual(statusB.dave[2001]?.failed ?? -1, 0)
        XCTAssertGreaterThanOrEqual(statusB.receive.audio, 60)
        // Speaking on, five silence frames, then nothing.
        try await Task.sleep(nanoseconds: 400_000_000)
        let fetched3 = await a.status()
        let send = try XCTUnwrap(fetched3).send
        XCTAssertEqual(send.sent, 60)
        XCTAssertEqual(send.silence, 5)
        var events: [VoiceSpeakerEvent] = []
        let eventsDeadline = Date().addingTimeInterval(5)
        while Date() < eventsDeadline, !events.contains(.silent(userID: 2001)) {
            while let event = b.received.nextEvent() { events.append(event) }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        XCTAssertEqual(
            events.filter {
                if case .started = $0 { return true }
                return false
            }.count, 1,
            "one talkspurt: \(events)")
        XCTAssertTrue(events.contains(.started(userID: 2001, ssrc: try XCTUnwrap(statusA.ssrc))), "\(events)")
        XCTAssertTrue(events.contains(.silent(userID: 2001)), "liveness reports the silent speaker: \(events)")
        await a.close()
        await b.close()
    }

    /// A simulated user speaks a WAV (Opus, DAVE) and another records what it hears (decoded) to a WAV.
    func testSimulatedUsersSpeakAndRecordWAV() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("voice-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let speech = directory.appendingPathComponent("speak.wav").path
        let heard = directory.appendingPathComponent("heard.wav").path
        let tone = (0..<(48_000 * 3 / 2)).map { Float(0.5 * sin(2 * Double.pi * 440 * Double($0) / 48_000)) }
        let writer = try WAVWriter(path: speech, format: WAVFormat(sampleRate: 48_000, channels: 1, encoding: .pcm16))
        try tone.withUnsafeBufferPointer { try writer.write($0) }
        try writer.close()

        let (a, aInfo) = try await member(8001)
        let (b, bInfo) = try await member(8002)
        await a.voiceServerReady(aInfo)
        await b.voiceServerReady(bInfo)
        try await waitFor("both in one DAVE group") { await inGroup([a, b]) }
        let reports = Mutex<[UInt64: SimulatedVoiceUser.Report]>([:])
        let done = DispatchGroup()
        for (connection, id, speak, listen, record) in [
            (a, UInt64(8001), Optional(speech), UInt64?.none, String?.none),
            (b, UInt64(8002), nil, UInt64(8001), Optional(heard)),
        ] {
            done.enter()
            Thread {
                let user = SimulatedVoiceUser(connection: connection, userID: id)
                let report = try? user.run(seconds: 2.2, speak: speak, listenTo: listen, record: record)
                reports.withLock { $0[id] = report }
                done.leave()
            }.start()
        }
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                done.wait()
                continuation.resume()
            }
        }
        let sent = try XCTUnwrap(reports.withLock { $0[8001] })
        let got = try XCTUnwrap(reports.withLock { $0[8002] })
        XCTAssertEqual(sent.framesSent, 75)
        XCTAssertGreaterThanOrEqual(got.framesHeard, 70, "loopback, no faults: nearly every frame heard")
        let recorded = try WAVReader.read(path: heard).samples
        XCTAssertEqual(recorded.count, got.samplesRecorded)
        let rms = (recorded.map { $0 * $0 }.reduce(0, +) / Float(max(1, recorded.count))).squareRoot()
        XCTAssertGreaterThan(rms, 0.2, "the tone came through decoded (RMS \(rms))")
        await a.close()
        await b.close()
    }

    func testCloseCode4017IsFatalAndNeverLoops() async throws {
        let (a, aInfo) = try await member(3001)
        await a.voiceServerReady(aInfo)
        try await waitFor("connected") { await a.status()?.phase == .connected }
        await server.close(userID: 3001, code: 4017)
        try await waitFor("stopped") {
            if case .stopped = await a.status()?.phase { return true }
            return false
        }
        let fetched4 = await a.status()
        let status = try XCTUnwrap(fetched4)
        XCTAssertEqual(status.phase, .stopped(.daveRequired))
        // A later voice server update does not bring it back (never loops).
        await a.voiceServerReady(aInfo)
        try await Task.sleep(nanoseconds: 500_000_000)
        let connected = await server.snapshot()?.connected ?? []
        let awaited1 = await a.status()?.phase
        XCTAssertEqual(awaited1, .stopped(.daveRequired))
        XCTAssertFalse(connected.contains(3001))
    }

    func testCloseCode4015ResumesAndAudioContinues() async throws {
        let (a, aInfo) = try await member(4001)
        let (b, bInfo) = try await member(4002)
        await a.voiceServerReady(aInfo)
        await b.voiceServerReady(bInfo)
        try await waitFor("both in one DAVE group") { await inGroup([a, b]) }
        await server.close(userID: 4001, code: 4015)
        try await waitFor("resumed") {
            guard let status = await a.status() else { return false }
            return status.resumes == 1 && status.phase == .connected
        }
        let (sent, got) = try await exchange(from: a, senderID: 4001, to: b, count: 20)
        XCTAssertEqual(got, sent)
        await a.close()
        await b.close()
    }

    /// 4006 asks the main gateway for a full rejoin; the new session connects again.
    func testCloseCode4006RejoinsThroughTheMainGateway() async throws {
        let control = RecordingControl()
        let (a, aInfo) = try await member(5001, control: control)
        await a.voiceServerReady(aInfo)
        try await waitFor("connected") { await a.status()?.phase == .connected }
        await server.close(userID: 5001, code: 4006)
        try await waitFor("op 4 requested") { control.calls.withLock { $0.count } == 1 }
        let awaited2 = await a.status()?.phase
        XCTAssertEqual(awaited2, .rejoining)
        var fresh = aInfo
        fresh.sessionID = "s5001-b"
        fresh.token = "t5001-b"
        await server.authorize(userID: 5001, sessionID: fresh.sessionID, token: fresh.token)
        await a.voiceServerReady(fresh)
        try await waitFor("connected again") { await a.status()?.phase == .connected }
        let awaited3 = await a.status()?.rejoins
        XCTAssertEqual(awaited3, 1)
        await a.close()
    }

    func testCloseCode4014WaitsForTheNextVoiceUpdate() async throws {
        let (a, aInfo) = try await member(6001)
        await a.voiceServerReady(aInfo)
        try await waitFor("connected") { await a.status()?.phase == .connected }
        await server.close(userID: 6001, code: 4014)
        try await waitFor("waiting") { await a.status()?.phase == .waitingForServer }
        try await Task.sleep(nanoseconds: 300_000_000)
        let awaited4 = await a.status()?.phase
        XCTAssertEqual(awaited4, .waitingForServer, "no reconnect of its own")
        // A move: a new VOICE_SERVER_UPDATE reconnects.
        await a.voiceServerReady(aInfo)
        try await waitFor("connected after the move") { await a.status()?.phase == .connected }
        await a.close()
    }

    func testWrongTokenStops() async throws {
        let (a, aInfo) = try await member(7001)
        var bad = aInfo
        bad.token = "not-the-token"
        await a.voiceServerReady(bad)
        try await waitFor("stopped") {
            if case .stopped = await a.status()?.phase { return true }
            return false
        }
        let awaited5 = await a.status()?.phase
        XCTAssertEqual(awaited5, .stopped(.authenticationFailed))
    }
}

/// Records op 4 requests (what the main gateway would send).
final class RecordingControl: VoiceChannelControl {
    let calls = Mutex<[(Snowflake, Snowflake?)]>([])
    func updateVoiceState(guildID: Snowflake, channelID: Snowflake?, selfMute: Bool, selfDeaf: Bool) async throws {
        calls.withLock { $0.append((guildID, channelID)) }
    }
}
