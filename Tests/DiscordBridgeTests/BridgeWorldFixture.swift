import Bridge
import Codecs
import Demo
import DiscordSimulator
import Foundation
import Logging
import RouterCore
import XCTest

/// Paths of this repository.
enum Repo {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent()
    static let defaultPipeline = root.appendingPathComponent("pipelines/personaplex.yaml").path
    static let speech = root.appendingPathComponent("samples/speech-like.wav").path
}

/// A simulated world running the shipped default pipeline, with quiet logs and a temporary data directory.
func makeWorld(
    personaPlexURL: String? = nil, voiceOptions: SimulatedVoiceOptions = .discordLike,
    pipelinePath: String = Repo.defaultPipeline, environment: [String: String] = [:]
) async throws -> (SimulatedWorld, String) {
    let directory = FileManager.default.temporaryDirectory
        .appendingPathComponent("bridge-\(UUID().uuidString)").path
    try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    let world = try await SimulatedWorld(personaPlexURL: personaPlexURL, voiceOptions: voiceOptions)
    let pipeline = try BridgePipeline(path: pipelinePath, environment: PipelineEnvironment(environment))
    try await world.startBot(
        pipeline: pipeline, environment: environment, dataDirectory: directory + "/data",
        logHandler: { _ in SwiftLogNoOpLogHandler() })
    return (world, directory)
}

/// Root mean square of a WAV's samples from `start` seconds on.
func rms(ofWAV path: String, from start: Double = 0) throws -> Float {
    let wav = try WAVReader.read(path: path)
    let first = min(wav.samples.count, Int(start * Double(wav.format.sampleRate)) * wav.format.channels)
    let tail = wav.samples[first...]
    guard !tail.isEmpty else { return 0 }
    return (tail.reduce(0) { $0 + $1 * $1 } / Float(tail.count)).squareRoot()
}

extension SimulatedWorld {
    /// Waits until the bot posted a message containing `text`; returns when (nil on timeout).
    func waitForChat(_ text: String, seconds: Double = 15) async -> ContinuousClock.Instant? {
        let found = await SimulatedWorld.waitFor(seconds: seconds) { self.chat.contains { $0.contains(text) } }
        return found ? .now : nil
    }
}
