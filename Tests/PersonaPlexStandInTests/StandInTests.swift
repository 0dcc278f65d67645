import Codecs
import Foundation
import PersonaPlex
import PersonaPlexStandIn
import XCTest

/// The stand-in against our PersonaPlex client: the real protocol's gate, echo, captions, lock and errors.
final class StandInTests: XCTestCase {
    private func options(prompt seconds: Double = 0.2) -> PersonaPlexStandIn.Options {
        var options = PersonaPlexStandIn.Options()
        options.promptPhaseSeconds = seconds
        return options
    }

    private func client(_ server: PersonaPlexStandIn, voice: String = "NATF0.pt", voiceDirectory: String? = nil)
        throws -> PersonaPlexClient
    {
        var configuration = try PersonaPlexConfiguration(
            url: server.url, textPrompt: "You are a helpful assistant.", voicePrompt: voice)
        configuration.voiceDirectory = voiceDirectory
        return PersonaPlexClient(configuration: configuration)
    }

    /// 24 kHz mono Ogg Opus pages: `toneFrames` × 20 ms of a 440 Hz tone, then `quietFrames` of silence.
    private func pages(toneFrames: Int, quietFrames: Int) throws -> [[UInt8]] {
        let encoder = try OggOpusEncoder(
            encoder: OpusEncoder(sampleRate: 24_000, channels: 1, application: .voip), serial: 7)
        var out: [[UInt8]] = []
        for i in 0..<(toneFrames + quietFrames) {
            let pcm = (0..<480).map { n in
                i < toneFrames ? Float(sin(Double(i * 480 + n) * 2 * .pi * 440 / 24_000)) * 0.3 : 0
            }
            try pcm.withUnsafeBufferPointer { _ = try encoder.encode($0) }
            encoder.writer.flush()
            encoder.writer.drainPages { out.append(Array($0)) }
        }
        return out
    }

    func testEchoesTheCallersVoiceAndSaysWhatItHeard() async throws {
        let server = try await PersonaPlexStandIn.start(options: options())
        let client = try client(server)
        try await client.connect()
        XCTAssertEqual(client.state, .live)
        for page in try pages(toneFrames: 60, quietFrames: 30) { XCTAssertEqual(client.send(audio: page), .queued) }

        var received: [PersonaPlexMessage] = []
        let deadline = Date().addingTimeInterval(10)
        while Date() < deadline, !received.compactMap(\.text).joined().contains("seconds.") {
            var batch: [PersonaPlexMessage] = []
            client.drainReceived(into: &batch)
            received += batch
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        await client.close()
        let statistics = await server.statistics()
        await server.stop()

        let text = received.compactMap(\.text).joined()
        XCTAssertTrue(text.hasPrefix(" Hello, I am the PersonaPlex stand-in."), text)
        XCTAssertTrue(text.contains(" I heard you speak for 1."), text)  // 60 tone frames = 1.2 s (codec tails vary)
        let audio = received.filter { $0.kind == .audio }
        XCTAssertTrue(audio[0].payload[28...].starts(with: Array("OpusHead".utf8)))
        XCTAssertTrue(audio[1].payload[28...].starts(with: Array("OpusTags".utf8)))
        XCTAssertEqual(Array(audio[0].payload[14..<18]), [42, 0, 0, 0], "serial 42, like the real server")

        // The echo decodes to the tone: loud while the caller spoke.
        let decoder = try OggOpusDecoder(sampleRate: 24_000, channels: 1, frameDuration: .ms20)
        for message in audio { message.payload.withUnsafeBytes { decoder.push($0) } }
        var frame = [Float](repeating: 0, count: 480)
        var loudFrames = 0
        while frame.withUnsafeMutableBufferPointer({ decoder.readFrame(into: $0) }) {
            let rms = (frame.reduce(0) { $0 + $1 * $1 } / 480).squareRoot()
            if rms > 0.1 { loudFrames += 1 }
        }
        XCTAssertGreaterThanOrEqual(loudFrames, 50)
        XCTAssertEqual(statistics.decodeErrors, 0)
        XCTAssertEqual(statistics.earlyMessages, 0)
        XCTAssertEqual(statistics.sessionsLive, 1)
    }

    func testAnUnknownVoiceIsDroppedAfterTheUpgradeWithNoMessage() async throws {
        let server = try await PersonaPlexStandIn.start(options: options())
        // Our client checks voices first; a folder with a voice the server lacks gets the request through.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("standin-voices-\(getpid())")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        FileManager.default.createFile(atPath: folder.appendingPathComponent("Custom.pt").path, contents: Data())
        let client = try client(server, voice: "Custom.pt", voiceDirectory: folder.path)
        do {
            try await client.connect()
            XCTFail("connected with an unknown voice")
        } catch {
            XCTAssertTrue("\(error)".contains("closed"), "\(error)")
        }
        let statistics = await server.statistics()
        await server.stop()
        XCTAssertEqual(statistics.rejected, 1)
        XCTAssertEqual(statistics.sessionsLive, 0)
    }

    func testASecondClientWaitsSilentlyForTheFirstToClose() async throws {
        let server = try await PersonaPlexStandIn.start(options: options(prompt: 0.1))
        let first = try client(server)
        try await first.connect()
        let second = try client(server)
        let connecting = Task { try await second.connect() }
        try await Task.sleep(nanoseconds: 600_000_000)
        XCTAssertNotEqual(second.state, .live, "the lock is held by the first client")
        await first.close()
        try await connecting.value
        XCTAssertEqual(second.state, .live)
        await second.close()
        let statistics = await server.statistics()
        await server.stop()
        XCTAssertEqual(statistics.sessionsLive, 2)
    }
}

/// The stand-in against an independent client: aiohttp + sphn in Python (Tests/peers/personaplex_client_check.py).
final class StandInIndependentClientTests: XCTestCase {
    func testAnAiohttpAndSphnClientGetsTheGateEchoAndText() async throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent()
        let python = root.appendingPathComponent(".venv/bin/python").path
        guard FileManager.default.isExecutableFile(atPath: python) else {
            XCTFail("\(python) missing: run `bash scripts/setup.sh --with-peers`")
            return
        }
        var options = PersonaPlexStandIn.Options()
        options.promptPhaseSeconds = 0.3
        let server = try await PersonaPlexStandIn.start(options: options)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = [root.appendingPathComponent("Tests/peers/personaplex_client_check.py").path, server.url]
        let output = Pipe()
        process.standardOutput = output
        try process.run()
        let data = await Task.detached { output.fileHandleForReading.readDataToEndOfFile() }.value
        process.waitUntilExit()
        let statistics = await server.statistics()
        await server.stop()

        let line = String(decoding: data, as: UTF8.self).split(separator: "\n").last.map(String.init) ?? ""
        let result = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any], line)
        XCTAssertEqual(result["handshake"] as? Bool, true, line)
        XCTAssertGreaterThan(result["pages"] as? Int ?? 0, 20, line)
        XCTAssertGreaterThan(result["samples"] as? Int ?? 0, 24_000, line)  // more than a second of echo
        XCTAssertGreaterThan(result["peak_rms"] as? Double ?? 0, 0.1, line)  // the tone came back
        let text = (result["texts"] as? [String] ?? []).joined()
        XCTAssertTrue(text.contains("stand-in"), text)
        XCTAssertTrue(text.contains("I heard you speak for"), text)
        XCTAssertEqual(statistics.decodeErrors, 0)
        XCTAssertEqual(statistics.earlyMessages, 0)
    }
}
