import Foundation
import Nodes
import RouterCore
import XCTest

/// `pipelines/personaplex-file.yaml` exactly as shipped, loaded like `router run` loads it, against the sphn peer.
final class ShippedPipelineTests: BridgeTestCase {
    /// The peer warms up for ~1 s (100 prompt steps): the input must not start before the link is live (WavIn
    /// `start: on-live`), so the echo correlates with the whole input, its first second included; the captions
    /// file gets whole sentences.
    func testShippedPipelineEchoesTheWholeInputAndWritesCaptions() throws {
        let peer = try SphnPeer(["--prompt-steps", "100"])
        let input = "\(dir!)/speech.wav", output = "\(dir!)/reply.wav", captions = "\(dir!)/captions.txt"
        try writeSpeechLikeWAV(input, seconds: 4)
        let environment = PipelineEnvironment([
            "PERSONAPLEX_URL": peer.url, "INPUT_WAV": input, "OUTPUT_WAV": output, "CAPTIONS_FILE": captions,
            "TAIL": "1s",
        ])
        let pipeline = try PipelineValidator(registry: .standard).load(
            path: Repo.pipeline.path, environment: environment)
        let s = Session(graph: try Graph(pipeline))
        XCTAssertEqual(run(s, seconds: 25), .completed, "the run ends once the input and its tail have been played")

        let stats = try XCTUnwrap(peer.waitForStats(1).first)
        XCTAssertEqual(stat(stats, "reader_errors"), 0, "\(stats)")
        XCTAssertEqual(stat(stats, "early_messages"), 0, "\(stats)")
        let (sent, sentRate) = try readMono(input)
        let (reply, replyRate) = try readMono(output)
        XCTAssertEqual(sentRate, 48_000)
        XCTAssertEqual(replyRate, 48_000)
        let a = envelope(sent, window: 480), b = envelope(reply, window: 480)
        // The reply holds the greeting (warm-up), then the echo; allow up to 4 s before the echo starts.
        let whole = bestCorrelation(a, b, maxLag: 400, minOverlap: 300)
        XCTAssertGreaterThan(whole.value, 0.85, "echo envelope vs input \(whole)")
        let firstSecond = bestCorrelation(Array(a.prefix(100)), b, maxLag: 400, minOverlap: 90)
        XCTAssertGreaterThan(
            firstSecond.value, 0.85, "the input's first second is missing from the echo \(firstSecond)")
        XCTAssertLessThanOrEqual(abs(firstSecond.lag - whole.lag), 2, "the first second is echoed in place")

        let text = try String(contentsOfFile: captions, encoding: .utf8)
        let lines = text.split(separator: "\n")
        XCTAssertGreaterThan(lines.count, 2, text)
        XCTAssertTrue(lines.dropLast().allSatisfy { $0.hasSuffix("] Hello world.") }, text)
        print(
            "shipped pipeline: echo correlation \(whole.value) at \(whole.lag * 10) ms; "
                + MetricsReport.renderLatencies(s.graph))
    }
}

/// RMS over `window`-sample windows.
func envelope(_ x: [Float], window: Int) -> [Float] {
    stride(from: 0, to: max(0, x.count - window), by: window).map { i in
        var acc: Float = 0
        for j in i..<(i + window) { acc += x[j] * x[j] }
        return (acc / Float(window)).squareRoot()
    }
}
