import Foundation
import XCTest

/// `router check` on the malformed-pipeline corpus: every `Tests/fixtures/bad-pipelines/NAME.yaml` must fail with
/// exit status 1, print nothing on stdout, and print exactly `NAME.expected` on stderr.
final class CorpusTests: XCTestCase {
    private func corpusFiles() throws -> [String] {
        try FileManager.default.contentsOfDirectory(atPath: RouterBinary.corpus.path).filter { $0.hasSuffix(".yaml") }
            .sorted()
    }

    /// Checks one corpus file in the corpus folder (so messages carry the bare file name), with no `.env`.
    private func check(_ file: String) throws -> RouterBinary.Result {
        try RouterBinary.run(["check", "--env-file", "no-such.env", file], in: RouterBinary.corpus)
    }

    func testCorpusIsLargeAndEveryFileHasItsExpectation() throws {
        let files = try corpusFiles()
        XCTAssertGreaterThanOrEqual(files.count, 40)
        for file in files {
            let expected = RouterBinary.corpus.appendingPathComponent(
                file.replacingOccurrences(of: ".yaml", with: ".expected"))
            XCTAssertTrue(FileManager.default.fileExists(atPath: expected.path), "\(file) has no .expected file")
        }
    }

    func testEveryCorpusFileFailsWithExactlyTheExpectedDiagnostics() throws {
        for file in try corpusFiles() {
            let expectedURL = RouterBinary.corpus.appendingPathComponent(
                file.replacingOccurrences(of: ".yaml", with: ".expected"))
            guard let expected = try? String(contentsOf: expectedURL, encoding: .utf8) else { continue }
            let result = try check(file)
            XCTAssertEqual(result.status, 1, "\(file): exit status")
            XCTAssertEqual(result.stdout, "", "\(file): stdout")
            XCTAssertEqual(result.stderr, expected, "\(file): diagnostics differ")
            // Every error line names this file with a line and column, and the count line matches.
            let errorLines = result.stderr.split(separator: "\n").filter { $0.contains(": error: ") }
            XCTAssertTrue(errorLines.allSatisfy { $0.hasPrefix("\(file):") }, "\(file): \(errorLines)")
            let n = errorLines.count
            XCTAssertTrue(result.stderr.hasSuffix("\n\(n) error\(n == 1 ? "" : "s")\n"), "\(file): count line")
            // Every error comes with a fix hint on the next line.
            let lines = result.stderr.split(separator: "\n", omittingEmptySubsequences: false)
            for (i, line) in lines.enumerated() where line.contains(": error: ") {
                let hint = i + 1 < lines.count ? lines[i + 1] : ""
                XCTAssertTrue(hint.hasPrefix("    hint: ") && hint.count > 16, "\(file): no hint after '\(line)'")
            }
        }
    }

    /// Several files in one call: each is reported, in argument order, and the status is still 1.
    func testSeveralFilesInOneCall() throws {
        let good = try temporaryDirectory(self).appendingPathComponent("good.yaml")
        try "nodes:\n  greet: {type: Greeting}\n  sink: {type: WavOut, path: out.wav}\nlinks:\n  - greet -> sink\n"
            .write(to: good, atomically: true, encoding: .utf8)
        let result = try RouterBinary.run(
            ["check", "--env-file", "no-such.env", "cycle.yaml", good.path, "bad-choice.yaml"],
            in: RouterBinary.corpus)
        XCTAssertEqual(result.status, 1)
        let cycle = try String(
            contentsOf: RouterBinary.corpus.appendingPathComponent("cycle.expected"), encoding: .utf8)
        let choice = try String(
            contentsOf: RouterBinary.corpus.appendingPathComponent("bad-choice.expected"), encoding: .utf8)
        XCTAssertEqual(result.stderr, cycle + choice)
        XCTAssertTrue(result.stdout.hasPrefix("ok: \(good.path) (2 nodes, 1 links) checked in "), result.stdout)
    }

    /// Positions in the corpus checked against the file text by hand: the column must land on the named token.
    func testPositionsPointAtTheOffendingText() throws {
        let cases: [(file: String, line: Int, column: Int, text: String)] = [
            ("unknown-node-type.yaml", 3, 15, "Mixr"),
            ("unknown-param.yaml", 5, 5, "chanels"),
            ("bad-choice.yaml", 3, 28, "avrage"),
            ("unknown-node-in-link.yaml", 6, 14, "mixx"),
            ("unknown-port.yaml", 6, 18, "inn"),
            ("empty-element.yaml", 6, 14, "-> sink"),
            ("env-unset.yaml", 5, 15, "${ROUTER_TEST_UNSET_DIR}"),
            ("env-unset.yaml", 6, 30, "${ROUTER_TEST_UNSET_TAP}"),
            ("format-mismatch.yaml", 7, 21, "encode"),
            ("unknown-session-key.yaml", 8, 3, "metric_interval"),
        ]
        for c in cases {
            let lines = try String(contentsOf: RouterBinary.corpus.appendingPathComponent(c.file), encoding: .utf8)
                .split(separator: "\n", omittingEmptySubsequences: false)
            let line = Array(lines[c.line - 1])
            XCTAssertEqual(
                String(line[(c.column - 1)...].prefix(c.text.count)), c.text, "\(c.file):\(c.line):\(c.column)")
            let expected = try String(
                contentsOf: RouterBinary.corpus.appendingPathComponent(
                    c.file.replacingOccurrences(of: ".yaml", with: ".expected")), encoding: .utf8)
            XCTAssertTrue(
                expected.contains("\(c.file):\(c.line):\(c.column): error: "),
                "\(c.file):\(c.line):\(c.column) not in its expectation")
        }
    }

    func testShippedPipelinesPass() throws {
        let dir = RouterBinary.repoRoot.appendingPathComponent("pipelines")
        let files = try FileManager.default.contentsOfDirectory(atPath: dir.path).filter { $0.hasSuffix(".yaml") }
            .sorted()
        XCTAssertFalse(files.isEmpty)
        let result = try RouterBinary.run(["check", "--env-file", "no-such.env"] + files.map { "pipelines/\($0)" })
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertEqual(result.stderr, "")
        let lines = result.stdout.split(separator: "\n")
        XCTAssertEqual(lines.count, files.count)
        for (line, file) in zip(lines, files) {
            XCTAssertTrue(line.hasPrefix("ok: pipelines/\(file) ("), String(line))
            XCTAssertTrue(line.hasSuffix(" ms"), String(line))
        }
    }

    func testMissingPipelineFile() throws {
        let result = try RouterBinary.run(["check", "--env-file", "no-such.env", "nope.yaml"], in: RouterBinary.corpus)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(
            result.stderr,
            """
            nope.yaml:1:1: error: cannot read pipeline file (does it exist?)
                hint: check the path; relative paths start at the current folder
            1 error

            """)
    }

    func testBadDotEnvIsReported() throws {
        let dir = try temporaryDirectory(self)
        try "GOOD=1\nthis is not a setting\n".write(
            to: dir.appendingPathComponent(".env"), atomically: true, encoding: .utf8)
        try FileManager.default.copyItem(
            at: RouterBinary.corpus.appendingPathComponent("bad-choice.yaml"),
            to: dir.appendingPathComponent("p.yaml"))
        let result = try RouterBinary.run(["check", "p.yaml"], in: dir)
        XCTAssertEqual(result.status, 1)
        XCTAssertEqual(
            result.stderr, ".env:2:1: error: expected KEY=VALUE\n    hint: comment the line out with #\n1 error\n")
    }

    func testDotEnvFeedsInterpolationAndTheEnvironmentWins() throws {
        let dir = try temporaryDirectory(self)
        try "export ROUTER_TEST_MODE='sum'\n".write(
            to: dir.appendingPathComponent("vars.env"), atomically: true, encoding: .utf8)
        try """
        nodes:
          greet: {type: Greeting}
          mix: {type: Mixer, mode: "${ROUTER_TEST_MODE}"}
          sink: {type: WavOut, path: out.wav}
        links:
          - greet -> mix -> sink
        """.write(to: dir.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
        let fromFile = try RouterBinary.run(["check", "--env-file", "vars.env", "p.yaml"], in: dir)
        XCTAssertEqual(fromFile.status, 0, fromFile.stderr)
        let fromEnv = try RouterBinary.run(
            ["check", "--env-file", "vars.env", "p.yaml"], in: dir, env: ["ROUTER_TEST_MODE": "loud"])
        XCTAssertEqual(fromEnv.status, 1)
        XCTAssertEqual(
            fromEnv.stderr,
            """
            p.yaml:3:28: error: node 'mix': 'mode' must be one of average, sum, not 'loud'.
                hint: expected average|sum
            1 error

            """)
        let unset = try RouterBinary.run(["check", "p.yaml"], in: dir)
        XCTAssertEqual(unset.status, 1)
        XCTAssertTrue(
            unset.stderr.hasPrefix("p.yaml:3:29: error: environment variable ROUTER_TEST_MODE is not set\n"),
            unset.stderr)
    }

    /// A port named on both sides in the middle of a chain (`ai.audio`) is where the link enters and where it leaves.
    func testPortOnBothSidesInTheMiddleOfAChain() throws {
        let dir = try temporaryDirectory(self)
        try """
        nodes:
          greet: {type: Greeting, rate: 24000, channels: 1}
          encode: {type: OpusOggEncode}
          ai: {type: PersonaPlexLink, url: "wss://localhost:8998/api/chat", text_prompt: "Hi"}
          decode: {type: Decode}
          sink: {type: WavOut, path: out.wav}
        links:
          - greet -> encode -> ai.audio -> decode -> sink
        """.write(to: dir.appendingPathComponent("p.yaml"), atomically: true, encoding: .utf8)
        let result = try RouterBinary.run(["graph", "--env-file", "no-such.env", "--format", "dot", "p.yaml"], in: dir)
        XCTAssertEqual(result.status, 0, result.stderr)
        XCTAssertTrue(result.stdout.contains(#""encode" -> "ai" [label="out→audio\nOgg Opus"];"#), result.stdout)
        XCTAssertTrue(result.stdout.contains(#""ai" -> "decode" [label="audio→in\nOgg Opus"];"#), result.stdout)
    }
}
