import Discord
import DiscordSimulator
import Foundation
import NIOPosix
import Realtime
import Synchronization
import XCTest

@testable import DiscordVoice

/// Independent DAVE members over the network: a Python voice client joins the simulator's voice channel next to our
/// `VoiceConnection`, over loopback sockets only. The MLS group forms through the simulator's voice server, both
/// sides show the same privacy code, every Opus frame the peer sends reaches us byte-exact (DAVE and transport), and
/// every frame we send is decrypted byte-exact by the peer's own DAVE member.
/// - discord.py 2.7 (PyPI) as a second bot, joining through the simulated main gateway; its DAVE member is davey
///   (OpenMLS). discord.py has no receive path: `Tests/peers/discordpy_voice_peer.py` reads its UDP socket.
/// - A voice client on dave.py (Discord's libdave), `Tests/peers/dave_voice_peer.py`, written from the protocol
///   notes, given its voice session directly.
final class PythonVoicePeerTests: XCTestCase {
    static let frames = 100

    /// The peer's stdout, one line at a time.
    private final class Lines: Sendable {
        let lines = Mutex<[String]>([])
        let partial = Mutex<String>("")

        func append(_ data: Data) {
            let text = partial.withLock { partial in
                partial += String(decoding: data, as: UTF8.self)
                let parts = partial.split(separator: "\n", omittingEmptySubsequences: false)
                partial = String(parts.last ?? "")
                return parts.dropLast().map(String.init)
            }
            lines.withLock { $0 += text }
        }

        func first(prefix: String) -> [String: Any]? {
            guard let line = lines.withLock({ $0.first { $0.hasPrefix(prefix) } }) else { return nil }
            return try? JSONSerialization.jsonObject(with: Data(line.dropFirst(prefix.count).utf8)) as? [String: Any]
        }

        var all: String { lines.withLock { $0.joined(separator: "\n") } }
    }

    private func waitFor(
        _ prefix: String, in lines: Lines, seconds: Double, while process: Process
    ) async throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            if let object = lines.first(prefix: prefix) { return object }
            if !process.isRunning {
                try await Task.sleep(nanoseconds: 200_000_000)  // the last lines may still be in the pipe
                if let object = lines.first(prefix: prefix) { return object }
                XCTFail("the peer exited (\(process.terminationStatus)) before \(prefix):\n\(lines.all)")
                throw CancellationError()
            }
            if let result = lines.first(prefix: "RESULT "), prefix != "RESULT " {
                XCTFail("peer ended early: \(result)")
                throw CancellationError()
            }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        XCTFail("no \(prefix)line from the peer in \(seconds) s:\n\(lines.all)")
        throw CancellationError()
    }

    func testDiscordPyWithDaveyExchangesDAVEAudioWithOurConnection() async throws {
        guard let python = Self.python() else { return }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let voiceServer = Mutex<SimulatedVoiceServer?>(nil)
        let endpoint = Mutex<String?>(nil)
        let secondToken = "ZGlzY29yZC5weQ.voice.peer"
        var configuration = SimulatorConfiguration(botToken: "MTIz.voice.interop")
        configuration.extraBotTokens = [secondToken]
        configuration.guildCount = 1
        configuration.voiceEndpoint = { _, _, _ in endpoint.withLock { $0 } }
        configuration.voiceStateChanged = { _, user, join in
            guard let join else { return }
            voiceServer.withLock { $0 }?.grant(userID: user, sessionID: join.sessionID, token: join.token)
        }
        let simulator = DiscordSimulator(configuration: configuration)
        let simulatorTask = try await simulator.start()
        let guild = try XCTUnwrap(simulator.guilds.first)
        let channelID = try XCTUnwrap(guild.voiceChannelIDs.first)
        let server = try SimulatedVoiceServer(eventLoop: group.next(), channelID: channelID)
        voiceServer.withLock { $0 = server }
        let address = try await server.start()
        endpoint.withLock { $0 = address }

        // Our connection, handed its voice session directly (its main gateway is not part of this test).
        let ourID = simulator.botUserID
        let info = VoiceServerInfo(
            guildID: Snowflake(guild.id), channelID: Snowflake(channelID), userID: Snowflake(ourID),
            sessionID: "ours", token: "our-token", endpoint: address)
        await server.authorize(userID: ourID, sessionID: info.sessionID, token: info.token)
        let connection = try VoiceConnection(
            eventLoop: group.next(), control: nil, configuration: VoiceConnectionConfiguration(secure: false))
        await connection.voiceServerReady(info)

        try await exchange(
            python: python, script: "discordpy_voice_peer.py", connection: connection, ourID: ourID, server: server,
            environment: [
                "SIM_API_BASE": simulator.apiBase, "SIM_GATEWAY": simulator.gatewayURL, "SIM_TOKEN": secondToken,
                "SIM_VOICE_CHANNEL": String(channelID),
            ])
        await connection.close()
        await server.shutdown()
        simulatorTask.cancel()
        _ = try? await simulatorTask.value
        try await group.shutdownGracefully()
    }

    func testLibdaveVoiceClientExchangesDAVEAudioWithOurConnection() async throws {
        guard let python = Self.python() else { return }
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        let channelID: UInt64 = 927_310_423_890_473_011
        let server = try SimulatedVoiceServer(eventLoop: group.next(), channelID: channelID)
        let address = try await server.start()
        let ourID: UInt64 = 158_049_329_150_427_136
        let peerID: UInt64 = 158_533_742_254_751_744
        let info = VoiceServerInfo(
            guildID: Snowflake(1), channelID: Snowflake(channelID), userID: Snowflake(ourID),
            sessionID: "ours", token: "our-token", endpoint: address)
        await server.authorize(userID: ourID, sessionID: info.sessionID, token: info.token)
        await server.authorize(userID: peerID, sessionID: "libdave-session", token: "libdave-token")
        let connection = try VoiceConnection(
            eventLoop: group.next(), control: nil, configuration: VoiceConnectionConfiguration(secure: false))
        await connection.voiceServerReady(info)
        try await exchange(
            python: python, script: "dave_voice_peer.py", connection: connection, ourID: ourID, server: server,
            environment: [
                "VOICE_ENDPOINT": address, "VOICE_USER_ID": String(peerID), "VOICE_SESSION_ID": "libdave-session",
                "VOICE_TOKEN": "libdave-token", "VOICE_SERVER_ID": "1", "VOICE_CHANNEL_ID": String(channelID),
            ])
        await connection.close()
        await server.shutdown()
        try await group.shutdownGracefully()
    }

    private static func python() -> URL? {
        let python = VoiceTestSupport.packageRoot.appendingPathComponent(".venv/bin/python")
        guard FileManager.default.isExecutableFile(atPath: python.path) else {
            XCTFail("\(python.path) missing: run `bash scripts/setup.sh --with-peers`")
            return nil
        }
        return python
    }

    /// Runs the peer `script`, waits for its READY, checks the privacy codes and the group, sends our frames while
    /// collecting the peer's, and compares both directions byte-exact against the peer's RESULT.
    private func exchange(
        python: URL, script: String, connection: VoiceConnection, ourID: UInt64, server: SimulatedVoiceServer,
        environment: [String: String]
    ) async throws {
        let process = Process()
        process.executableURL = python
        process.arguments = ["-u", VoiceTestSupport.packageRoot.appendingPathComponent("Tests/peers/\(script)").path]
        process.environment = ProcessInfo.processInfo.environment.merging(
            environment.merging(["PEER_PARTNER_ID": String(ourID), "PEER_FRAMES": String(Self.frames)]) { $1 }
        ) { $1 }
        let output = Pipe()
        let lines = Lines()
        output.fileHandleForReading.readabilityHandler = { handle in
            let data = handle.availableData
            if !data.isEmpty { lines.append(data) }
        }
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
        defer {
            output.fileHandleForReading.readabilityHandler = nil
            if process.isRunning { process.terminate() }
        }

        let ready = try await waitFor("READY ", in: lines, seconds: 90, while: process)
        let peerID = try XCTUnwrap(UInt64(ready["user_id"] as? String ?? ""))
        XCTAssertEqual(ready["mode"] as? String, TransportMode.xchacha20Poly1305.rawValue, "the peer's mode")
        let peerCode = try XCTUnwrap(ready["privacy_code"] as? String)
        var ourCode: String?
        let codeDeadline = Date().addingTimeInterval(20)
        while Date() < codeDeadline {
            ourCode = await connection.privacyCode()
            if ourCode == peerCode { break }
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        XCTAssertEqual(ourCode, peerCode, "the same voice privacy code on both sides")
        let snapshot = await server.snapshot()
        XCTAssertEqual(snapshot?.groupMembers.sorted(), [ourID, peerID].sorted())

        // Our frames, on 20 ms deadlines, while collecting what the peer sends us.
        let ours: [[UInt8]] = (0..<Self.frames).map { (i: Int) -> [UInt8] in
            let body: [UInt8] = (0..<(40 + i % 37)).map { (j: Int) -> UInt8 in UInt8(truncatingIfNeeded: j &* 31 &+ i) }
            return [0xFC, UInt8(i & 0xFF)] + body
        }
        var heard: [[UInt8]] = []
        func drain() {
            connection.received.drainFrames { slot in
                guard slot.userID == peerID else { return }
                heard.append(slot.opus.withUnsafeBytes { Array($0) })
            }
        }
        let start = SystemClock.now()
        for (i, frame) in ours.enumerated() {
            frame.withUnsafeBytes { _ = connection.outgoing.send(opus: $0, stamp: SystemClock.now()) }
            drain()
            let next = start + UInt64(i + 1) * 20_000_000
            let now = SystemClock.now()
            if next > now { try await Task.sleep(nanoseconds: next - now) }
        }
        let resultDeadline = Date().addingTimeInterval(60)
        var result: [String: Any]?
        while Date() < resultDeadline, result == nil {
            drain()
            result = lines.first(prefix: "RESULT ")
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        drain()
        let peer = try XCTUnwrap(result, "no RESULT from the peer:\n\(lines.all)")
        XCTAssertNil(peer["error"], "\(peer)")
        XCTAssertEqual(peer["undecryptable"] as? Int, 0, "\(peer)")
        XCTAssertEqual(peer["privacy_code_after"] as? String, peerCode)

        let decryptedByPeer = (peer["decrypted"] as? [String] ?? []).map(VoiceTestSupport.bytes(hex:))
        XCTAssertEqual(decryptedByPeer.count, Self.frames, "the peer decrypted every frame we sent")
        XCTAssertEqual(decryptedByPeer, ours, "byte-exact, in order")
        let sentByPeer = (peer["sent"] as? [String] ?? []).map(VoiceTestSupport.bytes(hex:))
        XCTAssertEqual(sentByPeer.count, Self.frames)
        XCTAssertEqual(heard, sentByPeer, "we decrypted every frame the peer sent, byte-exact, in order")
        if let status = await connection.status() {
            XCTAssertEqual(status.dave[peerID]?.failed ?? -1, 0, "no DAVE failures for the peer")
        }
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0)
    }
}
