import Foundation
import XCTest

/// `router run` end to end through the binary: the issue's own command line, and graceful shutdown on signals.
final class RunLifecycleTests: XCTestCase {
    /// The command from the issue, from the repository root: `INPUT_WAV=… OUTPUT_WAV=… router run pipelines/file-roundtrip.yaml`.
    /// (OGG_TAP only keeps the pipeline's Ogg tap out of the working tree.)
    func testIssueCommandRunsTheFileRoundTrip() throws {
        let dir = try temporaryDirectory(self)
        let input = dir.appendingPathComponent("me.wav"), output = dir.appendingPathComponent("out.wav")
        let samples = try writeTestWAV(to: input, sampleRate: 48_000, channels: 2, framesPerChannel: 48_000)
        let result = try RouterBinary.run(
            ["run", "pipelines/file-roundtrip.yaml"],
            env: [
                "INPUT_WAV": input.path, "OUTPUT_WAV": output.path,
                "OGG_TAP": dir.appendingPathComponent("uplink.opus").path,
            ], timeout: 60)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("session completed after"), result.stderr)
        let decoded = try readPCM16WAV(output)
        XCTAssertEqual(decoded.sampleRate, 48_000)
        XCTAssertEqual(decoded.channels, 2)
        XCTAssertLessThanOrEqual(
            abs(decoded.samples.count - samples.count), 2 * 960 * 2,
            "the round trip keeps the length (within two 20 ms frames)")
        XCTAssertGreaterThan(
            decoded.samples.map { abs(Int($0)) }.max() ?? 0, 2_000, "the output carries the signal, not silence")
        let header = try WAVHeaderSizes(output)
        XCTAssertEqual(header.riffSize, header.fileSize - 8)
        XCTAssertEqual(header.dataSize, header.dataBytesPresent)
    }

    func testSIGTERMStopsARealTimeRunGracefully() throws {
        try assertGracefulStop(on: SIGTERM)
    }

    func testSIGINTStopsARealTimeRunGracefully() throws {
        try assertGracefulStop(on: SIGINT)
    }

    /// A 60 s file played in real time is stopped by `signal` after about a second: exit 0, the stop is logged, and
    /// the WAV written so far has a header patched to the data actually written.
    private func assertGracefulStop(on signal: Int32, file: StaticString = #filePath, line: UInt = #line) throws {
        let dir = try temporaryDirectory(self)
        try writeTestWAV(
            to: dir.appendingPathComponent("long.wav"), sampleRate: 8_000, channels: 1, framesPerChannel: 8_000 * 60)
        try """
        name: live
        nodes:
          src: {type: WavIn, path: long.wav, pace: realtime}
          sink: {type: WavOut, path: out/live.wav}
        links:
          - src -> sink
        """.write(to: dir.appendingPathComponent("live.yaml"), atomically: true, encoding: .utf8)
        let router = try RouterBinary.start(["run", "--env-file", "no-such.env", "live.yaml"], in: dir)
        XCTAssertTrue(
            router.waitForLog("running live: 2 nodes, real-time", timeout: 20), router.stderr, file: file, line: line)
        Thread.sleep(forTimeInterval: 1)
        XCTAssertTrue(
            router.process.isRunning, "a 60 s real-time file is still playing: \(router.stderr)", file: file, line: line
        )
        kill(router.process.processIdentifier, signal)
        let status = router.waitForExit(timeout: 10)
        let log = router.stderr
        XCTAssertEqual(status, 0, log, file: file, line: line)
        XCTAssertEqual(
            router.process.terminationReason, .exit, "ended by exit, not by the signal", file: file, line: line)
        XCTAssertTrue(log.contains("[info] router: signal \(signal): stopping"), log, file: file, line: line)
        XCTAssertTrue(log.contains("[info] router: session stopped after "), log, file: file, line: line)
        XCTAssertFalse(log.contains("session completed"), log, file: file, line: line)
        let wav = dir.appendingPathComponent("out/live.wav")
        let header = try WAVHeaderSizes(wav)
        XCTAssertEqual(header.riffSize, header.fileSize - 8, "RIFF size patched", file: file, line: line)
        XCTAssertEqual(header.dataSize, header.dataBytesPresent, "data size patched", file: file, line: line)
        XCTAssertEqual(header.dataSize % 320, 0, "whole 20 ms frames of 8 kHz mono PCM16", file: file, line: line)
        XCTAssertGreaterThanOrEqual(header.dataSize, 320 * 25, "about a second was written", file: file, line: line)
        XCTAssertLessThan(
            header.dataSize, 320 * 50 * 30, "stopped long before the end of the file", file: file, line: line)
        let decoded = try readPCM16WAV(wav)
        XCTAssertEqual(decoded.sampleRate, 8_000, file: file, line: line)
        XCTAssertEqual(decoded.samples.count * 2, header.dataSize, file: file, line: line)
    }
}
