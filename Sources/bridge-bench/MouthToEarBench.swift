import Bridge
import Codecs
import Demo
import Foundation
import Logging
import RouterCore

/// `mouth-to-ear`: a user speaks into the bridge (bot in this process, the default pipeline, the PersonaPlex
/// stand-in echoing) and records what they hear; the echo's onset minus the speech's onset, minus the stand-in's
/// own delay (it echoes whole 80 ms pages, like the real server's model steps).
struct MouthToEarBench {
    var takes: Int
    var pipeline: String
    var speech: String
    static let peerDelay = 0.080

    func run() async throws {
        let world = try await SimulatedWorld()
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("m2e-\(getpid())").path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let bridge = try BridgePipeline(path: pipeline, environment: PipelineEnvironment([:]))
        try await world.startBot(
            pipeline: bridge, dataDirectory: directory + "/data", logHandler: { _ in SwiftLogNoOpLogHandler() })
        let source = try WAVReader.read(path: speech)
        let speechOnset = onset(source.samples, rate: source.format.sampleRate, channels: source.format.channels)
        var results: [Double] = []
        for take in 0..<takes {
            let human = try await world.humanJoins("take\(take)")
            _ = await world.waitForLive(take: take)
            let path = directory + "/take\(take).wav"
            _ = try await human.run(
                seconds: 7, speak: speech, listenTo: world.simulator.botUserID, record: path)
            await world.humanLeaves(human)
            _ = await SimulatedWorld.waitFor(seconds: 10) { world.summaries.count > take }
            let heard = try WAVReader.read(path: path)
            guard let speechOnset,
                let echo = onset(heard.samples, rate: heard.format.sampleRate, channels: heard.format.channels)
            else { continue }
            let m2e = echo - speechOnset - Self.peerDelay
            results.append(m2e)
            print(String(format: "take %d: mouth-to-ear %.0f ms", take, m2e * 1000))
        }
        results.sort()
        if !results.isEmpty {
            let p50 = results[results.count / 2], p99 = results[min(results.count - 1, results.count * 99 / 100)]
            print(
                String(
                    format:
                        "mouth-to-ear through the router (minus the peer's %.0f ms): p50 %.0f ms, p99 %.0f ms, n=%d",
                    Self.peerDelay * 1000, p50 * 1000, p99 * 1000, results.count))
        }
        await world.shutdown()
    }

    /// The first 10 ms window whose RMS exceeds -34 dBFS, in seconds.
    private func onset(_ samples: [Float], rate: Int, channels: Int) -> Double? {
        let window = rate / 100 * channels
        var start = 0
        while start + window <= samples.count {
            var energy: Float = 0
            for s in samples[start..<(start + window)] { energy += s * s }
            if (energy / Float(window)).squareRoot() > 0.02 { return Double(start / channels) / Double(rate) }
            start += window
        }
        return nil
    }
}

extension SimulatedWorld {
    /// Waits for the stand-in's spoken greeting caption of session `take` (the link is live, the greeting off).
    func waitForLive(take: Int) async -> Bool {
        await SimulatedWorld.waitFor(seconds: 10) {
            self.chat.filter { $0.contains("I repeat what you say") }.count > take
        }
    }
}
