import Bridge
import Demo
import Foundation
import Logging
import RouterCore
import XCTest

/// The demo `router run pipelines/personaplex.yaml` runs without a DISCORD_TOKEN: the shipped pipeline, the real
/// bot, the simulator and the PersonaPlex stand-in, end to end.
final class BridgeDemoTests: XCTestCase {
    func testTheDemoRunsAWholeSessionWellUnderAMinute() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("demo-\(UUID().uuidString)")
        var script = BridgeDemo.Script()
        script.speech = Repo.speech
        script.outputDirectory = directory.path
        let pipeline = try BridgePipeline(path: Repo.defaultPipeline, environment: PipelineEnvironment([:]))
        let started = ContinuousClock.now
        let report = try await BridgeDemo.run(
            pipeline: pipeline, script: script, logHandler: { _ in SwiftLogNoOpLogHandler() }, say: { _ in })
        XCTAssertLessThan(started.duration(to: .now), .seconds(45))
        XCTAssertEqual(report.exitCode, 0)
        XCTAssertEqual(report.summaries.count, 1, "one session, summarised when it ended")
        XCTAssertTrue(report.chat.contains { $0.contains("Voice session started") }, "\(report.chat)")
        XCTAssertTrue(report.chat.contains { $0.contains("I heard you speak for") }, "captions: \(report.chat)")
        XCTAssertTrue(report.chat.contains { $0.contains("ended after") && $0.contains("everyone left") })
        XCTAssertEqual(report.framesSent, 200, "4 s of speech")
        XCTAssertGreaterThan(report.framesHeard, 250, "the greeting, then the echo")
        XCTAssertGreaterThan(try rms(ofWAV: report.greetingWAV), 0.005, "the greeting is heard while warming up")
        XCTAssertGreaterThan(try rms(ofWAV: report.replyWAV, from: 1), 0.005, "the echo is heard")
        let speakers = try XCTUnwrap(report.summaries.first?.speakers)
        XCTAssertEqual(speakers.count, 1)
        XCTAssertGreaterThan(speakers.first?.decoded ?? 0, 150)
    }
}
