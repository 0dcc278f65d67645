import Foundation
import Nodes
import RouterCore
import XCTest

@testable import router

/// `router graph`, `router nodes` and `router run`, through the built binary.
final class CommandTests: XCTestCase {
    /// The shipped pipeline used for graph output; validated in process to compare with the binary's rendering.
    private let shipped = "pipelines/file-roundtrip.yaml"

    private func shippedPipeline() throws -> ValidatedPipeline {
        let previous = FileManager.default.currentDirectoryPath
        _ = FileManager.default.changeCurrentDirectoryPath(RouterBinary.repoRoot.path)
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        return try PipelineValidator(registry: .standard).load(path: shipped, environment: PipelineEnvironment([:]))
    }

    func testGraphFormats() throws {
        let pipeline = try shippedPipeline()
        for format in ["ascii", "dot", "mermaid"] {
            let result = try RouterBinary.run(["graph", "--env-file", "no-such.env", "--format", format, shipped])
            XCTAssertEqual(result.status, 0, result.stderr)
            XCTAssertEqual(
                result.stdout, GraphPrinter.render(pipeline, as: GraphPrinter.Format(rawValue: format)!) + "\n")
        }
        let ascii = try RouterBinary.run(["graph", shipped]).stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(ascii.first, "file-roundtrip: 9 nodes, 8 links, fast pace")
        XCTAssertTrue(
            ascii.contains { $0.hasPrefix("  source (WavIn)") && $0.contains(".out ─▶ down.in, level_in.in   [") })
        XCTAssertTrue(ascii.contains { $0.hasPrefix("  sink (WavOut)") && $0.hasSuffix("(sink)") })
        let dot = try RouterBinary.run(["graph", "--format", "dot", shipped]).stdout
        XCTAssertTrue(dot.hasPrefix("digraph \"file-roundtrip\" {\n  rankdir=LR;\n"))
        XCTAssertTrue(dot.contains("  \"encode\" -> \"decode\" [label=\"out→in\\nOgg Opus\"];\n"), dot)
        let mermaid = try RouterBinary.run(["graph", "--format", "mermaid", shipped]).stdout
        XCTAssertTrue(mermaid.hasPrefix("flowchart LR\n"))
        XCTAssertTrue(mermaid.contains("  down -->|\"out→in: 24000 Hz mono PCM\"| encode\n"), mermaid)
    }

    func testGraphRejectsAnUnknownFormat() throws {
        let result = try RouterBinary.run(["graph", "--format", "svg", shipped])
        XCTAssertEqual(result.status, 64, "ArgumentParser's usage error status")
        XCTAssertTrue(result.stderr.hasPrefix("Error: --format must be ascii, dot or mermaid\n"), result.stderr)
        XCTAssertEqual(result.stdout, "")
    }

    func testGraphOfAnInvalidPipelinePrintsDiagnostics() throws {
        let result = try RouterBinary.run(
            ["graph", "--env-file", "no-such.env", "bad-choice.yaml"], in: RouterBinary.corpus)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(
            result.stderr,
            try String(contentsOf: RouterBinary.corpus.appendingPathComponent("bad-choice.expected"), encoding: .utf8))
    }

    func testNodesListsEveryRegisteredType() throws {
        let result = try RouterBinary.run(["nodes"])
        XCTAssertEqual(result.status, 0, result.stderr)
        let registry = NodeRegistry.standard
        XCTAssertEqual(result.stdout, registry.catalogue())
        let headers = result.stdout.split(separator: "\n").filter { !$0.hasPrefix(" ") }.map {
            String($0.split(separator: " ")[0])
        }
        XCTAssertEqual(headers, registry.typeNames)
        for shippedType in [
            "WavIn", "Greeting", "Mixer", "Resample", "OpusOggEncode", "Decode", "WavOut", "WavTap", "OggTap", "Meter",
            "LogTap",
        ] {
            XCTAssertTrue(headers.contains(shippedType), shippedType)
        }
    }

    func testNodesShowsOneType() throws {
        let result = try RouterBinary.run(["nodes", "Mixer"])
        XCTAssertEqual(result.status, 0)
        let lines = result.stdout.split(separator: "\n").map(String.init)
        XCTAssertEqual(
            lines.first, "Mixer — Mix any number of PCM inputs and per-speaker streams (average or sum, soft limiter).")
        XCTAssertTrue(
            lines.contains(
                "  in  in: PCM (rate, channels from params; default 48000 Hz stereo) (optional, many links) — PCM inputs; a tick without a frame is an inactive input."
            ), result.stdout)
        XCTAssertTrue(
            lines.contains {
                $0.hasPrefix("  param rate: sample rate in Hz (8000...192000, a multiple of 50) (default 48000) — ")
            }, result.stdout)
        XCTAssertTrue(lines.contains { $0.hasPrefix("  param mode: average|sum (default average) — ") }, result.stdout)
        XCTAssertFalse(result.stdout.contains("Resample —"))
    }

    /// Formats that follow parameters or a file are labelled so, not shown with one type's default values.
    func testNodesLabelsFormatsThatDependOnParametersOrTheFile() throws {
        func lines(_ type: String) throws -> [String] {
            let result = try RouterBinary.run(["nodes", type])
            XCTAssertEqual(result.status, 0, result.stderr)
            return result.stdout.split(separator: "\n").map(String.init)
        }
        XCTAssertTrue(
            try lines("WavIn").contains(
                "  out out: PCM (rate and channels of the file in 'path') — The file's audio in its own rate and channel count."
            ))
        XCTAssertTrue(
            try lines("Resample").contains(
                "  out out: PCM (rate, channels from params) — PCM in the configured format."))
        XCTAssertTrue(
            try lines("Greeting").contains {
                $0.hasPrefix("  out out: PCM (rate, channels from params; default 48000 Hz stereo) — ")
            })
        XCTAssertTrue(
            try lines("OpusOggEncode").contains {
                $0.hasPrefix("  in  in: PCM (rate, channels from params; default 24000 Hz mono) (required) — ")
            })
        XCTAssertTrue(
            try lines("Decode").contains {
                $0.hasPrefix("  out out: PCM (rate, channels from params; default 24000 Hz mono) — ")
            })
        // DiscordOut's input is fixed by Discord (48 kHz stereo), not a parameter's default: the one exception.
        let catalogue = try RouterBinary.run(["nodes"]).stdout.split(separator: "\n")
            .filter { !$0.contains("48000 Hz stereo PCM (required) — What the channel hears") }
            .joined(separator: "\n")
        XCTAssertFalse(catalogue.contains(" Hz stereo PCM"), "no port shows a bare default format:\n\(catalogue)")
        XCTAssertFalse(catalogue.contains(" Hz mono PCM"), "no port shows a bare default format:\n\(catalogue)")
    }

    /// The README's pipeline example is the shipped file, verbatim, so the two cannot drift apart.
    func testReadmeShowsTheShippedFileRoundTrip() throws {
        let readme = try String(contentsOf: RouterBinary.repoRoot.appendingPathComponent("README.md"), encoding: .utf8)
        let pipeline = try String(contentsOf: RouterBinary.repoRoot.appendingPathComponent(shipped), encoding: .utf8)
        XCTAssertTrue(readme.contains("```yaml\n" + pipeline + "```\n"), "README.md must quote \(shipped) exactly")
    }

    /// Without a Swift toolchain, set-up stops at once and says what to install.
    func testSetupExplainsAMissingSwiftToolchain() throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [RouterBinary.repoRoot.appendingPathComponent("scripts/setup.sh").path]
        process.environment = ["PATH": "/usr/bin:/bin", "SWIFT": "no-such-swift-toolchain"]
        let err = Pipe()
        process.standardError = err
        process.standardOutput = FileHandle.nullDevice
        try process.run()
        let message = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 1, message)
        XCTAssertTrue(
            message.hasPrefix("setup: 'no-such-swift-toolchain' is not on the PATH. Install a Swift 6.x toolchain"),
            message)
    }

    func testNodesWithAMisspeltTypeSuggests() throws {
        let result = try RouterBinary.run(["nodes", "Mixr"])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(
            result.stderr.hasPrefix("Error: unknown node type 'Mixr'. Did you mean 'Mixer'?\n"), result.stderr)
        XCTAssertEqual(result.stdout, "")
        var parsed = try RouterCommand.parseAsRoot(["nodes", "Mixr"])
        XCTAssertThrowsError(try parsed.run()) { error in
            XCTAssertEqual(RouterCommand.message(for: error), "unknown node type 'Mixr'. Did you mean 'Mixer'?")
        }
    }

    func testRunCopiesATinyWAVAndExitsByItself() throws {
        let dir = try temporaryDirectory(self)
        let input = try writeTestWAV(
            to: dir.appendingPathComponent("in.wav"), sampleRate: 16_000, channels: 1,
            framesPerChannel: 16_000 / 50 * 10)
        try """
        name: tiny
        nodes:
          src: {type: WavIn, path: in.wav, pace: fast}
          sink: {type: WavOut, path: out/copy.wav}
        links:
          - src -> sink
        """.write(to: dir.appendingPathComponent("tiny.yaml"), atomically: true, encoding: .utf8)
        let started = Date()
        let result = try RouterBinary.run(
            ["run", "--env-file", "no-such.env", "--metrics", "tiny.yaml"], in: dir, timeout: 20)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "fast pace: far quicker than real time would matter")
        XCTAssertTrue(result.stderr.contains("[info] router: running tiny: 2 nodes, fast"), result.stderr)
        XCTAssertTrue(result.stderr.contains("[info] router: session completed after 0.22 s of audio"), result.stderr)
        XCTAssertTrue(
            result.stdout.hasPrefix("node  type    in  out  drops  errors  queue  p50 µs  p99 µs  max µs\n"),
            result.stdout)
        let output = try readPCM16WAV(dir.appendingPathComponent("out/copy.wav"))
        XCTAssertEqual(output.channels, 1)
        XCTAssertEqual(output.sampleRate, 16_000)
        XCTAssertEqual(output.samples.count, input.count)
        let worst = zip(output.samples, input).map { abs(Int($0) - Int($1)) }.max() ?? 0
        XCTAssertLessThanOrEqual(worst, 1, "PCM16 → Float → PCM16 is exact to within one step")
    }

    func testRunWithAnUnwritableOutputFailsCleanly() throws {
        let dir = try temporaryDirectory(self)
        try writeTestWAV(
            to: dir.appendingPathComponent("in.wav"), sampleRate: 48_000, channels: 2, framesPerChannel: 960 * 5)
        try """
        nodes:
          src: {type: WavIn, path: in.wav, pace: fast}
          sink: {type: WavOut, path: /proc/router-cannot-write-here/out.wav}
        links:
          - src -> sink
        """.write(to: dir.appendingPathComponent("bad-out.yaml"), atomically: true, encoding: .utf8)
        let result = try RouterBinary.run(["run", "--env-file", "no-such.env", "bad-out.yaml"], in: dir)
        XCTAssertEqual(result.status, 1, "a clean failure, not a crash (a signal would give another status)")
        let lines = result.stderr.split(separator: "\n")
        XCTAssertEqual(lines.count, 2, result.stderr)
        XCTAssertTrue(lines.first?.hasPrefix("[info] src: playing in.wav") == true, result.stderr)
        XCTAssertTrue(
            lines.last?.hasPrefix(
                "error: node 'sink' (WavOut) failed: cannot create folder '/proc/router-cannot-write-here' for '/proc/router-cannot-write-here/out.wav': "
            ) == true,
            result.stderr)
        XCTAssertFalse(result.stderr.contains("Fatal error"))
    }

    func testRunOfAnInvalidPipelineExits1WithDiagnostics() throws {
        let result = try RouterBinary.run(["run", "--env-file", "no-such.env", "cycle.yaml"], in: RouterBinary.corpus)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(
            result.stderr,
            try String(contentsOf: RouterBinary.corpus.appendingPathComponent("cycle.expected"), encoding: .utf8))
    }

    func testRunRejectsABadLogLevel() throws {
        let result = try RouterBinary.run(["run", "--log-level", "loud", shipped])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(
            result.stderr.hasPrefix("Error: --log-level must be debug, info, warning or error\n"), result.stderr)
    }

    func testRunStopsAtMaxDuration() throws {
        let dir = try temporaryDirectory(self)
        try """
        nodes:
          greet: {type: Greeting, rate: 48000, channels: 2}
          sink: {type: WavOut, path: g.wav}
        links:
          - greet -> sink
        """.write(to: dir.appendingPathComponent("g.yaml"), atomically: true, encoding: .utf8)
        let result = try RouterBinary.run(
            ["run", "--env-file", "no-such.env", "--max-duration", "0.2", "g.yaml"], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stderr.contains("session stopped after 0.20 s of audio"), result.stderr)
        XCTAssertEqual(try readPCM16WAV(dir.appendingPathComponent("g.wav")).samples.count, 10 * 960 * 2)
    }
}
