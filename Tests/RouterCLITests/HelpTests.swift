import ArgumentParser
import Foundation
import XCTest

@testable import router
@testable import router_bench

/// Help text of every command, frozen from the real output after review (as swift-argument-parser tests its own
/// help). A change here is a change users see: update the expectation deliberately.
final class HelpTests: XCTestCase {
    /// The binary at 100 columns must print exactly `expected`, and the in-process help must agree with it.
    private func assertHelp(
        _ arguments: [String], _ command: ParsableCommand.Type, _ expected: String,
        binary: String = "router", root: ParsableCommand.Type = RouterCommand.self,
        file: StaticString = #filePath, line: UInt = #line
    ) throws {
        let result = try RouterBinary.run(arguments + ["--help"], binary: binary)
        XCTAssertEqual(result.status, 0, file: file, line: line)
        XCTAssertEqual(result.stderr, "", file: file, line: line)
        XCTAssertEqual(result.stdout, expected, file: file, line: line)
        func trimmed(_ s: String) -> Substring { s.dropLast(s.reversed().prefix { $0 == "\n" }.count) }
        XCTAssertEqual(
            trimmed(root.helpMessage(for: command, columns: 100)), trimmed(expected), "in-process help",
            file: file, line: line)
    }

    func testRootHelp() throws {
        try assertHelp(
            [], RouterCommand.self,
            #"""
            OVERVIEW: A voice router: audio graphs declared in YAML pipeline files.

            Pipelines name nodes and link them: '- source -> mix -> encode -> ai.audio'.
            ${VAR} and ${VAR:-default} in a pipeline are taken from the environment and from .env.

            USAGE: router <subcommand>

            OPTIONS:
              -h, --help              Show help information.

            SUBCOMMANDS:
              run                     Run a pipeline.
              check                   Validate pipeline files without running them.
              graph                   Print a pipeline's graph as ASCII, Graphviz DOT or Mermaid.
              nodes                   List the node types with their ports, formats and parameters.

              See 'router help <subcommand>' for detailed help.

            """#)
    }

    func testRunHelp() throws {
        try assertHelp(
            ["run"], RunCommand.self,
            #"""
            OVERVIEW: Run a pipeline.

            Ends by itself when every source has ended (exit 0); Ctrl-C stops it gracefully (exit 0); a node
            failure exits 1. A pipeline with DiscordIn or DiscordOut runs the Discord bot, one graph per voice
            session (without DISCORD_TOKEN: the demo against the built-in simulator and PersonaPlex stand-in).

            USAGE: router run <file> [--env-file <env-file>] [--metrics] [--metrics-interval <metrics-interval>] [--max-duration <max-duration>] [--log-level <log-level>]

            ARGUMENTS:
              <file>                  The pipeline file (YAML).

            OPTIONS:
              --env-file <env-file>   Variables for ${VAR} interpolation (the environment wins). (default: .env)
              --metrics               Print per-node metrics when the run ends.
              --metrics-interval <metrics-interval>
                                      Also log metrics every N seconds.
              --max-duration <max-duration>
                                      Stop after this many seconds of session time.
              --log-level <log-level> debug, info, warning or error (default info).
              -h, --help              Show help information.


            """#)
    }

    func testCheckHelp() throws {
        try assertHelp(
            ["check"], CheckCommand.self,
            #"""
            OVERVIEW: Validate pipeline files without running them.

            Prints every problem as file:line:column: error: message, with a hint; exits 1 if any file has
            errors.

            USAGE: router check <files> ... [--env-file <env-file>]

            ARGUMENTS:
              <files>                 Pipeline files (YAML).

            OPTIONS:
              --env-file <env-file>   Variables for ${VAR} interpolation (the environment wins). (default: .env)
              -h, --help              Show help information.


            """#)
    }

    func testGraphHelp() throws {
        try assertHelp(
            ["graph"], GraphCommand.self,
            #"""
            OVERVIEW: Print a pipeline's graph as ASCII, Graphviz DOT or Mermaid.

            USAGE: router graph <file> [--env-file <env-file>] [--format <format>]

            ARGUMENTS:
              <file>                  The pipeline file (YAML).

            OPTIONS:
              --env-file <env-file>   Variables for ${VAR} interpolation (the environment wins). (default: .env)
              --format <format>       ascii, dot or mermaid. (default: ascii)
              -h, --help              Show help information.


            """#)
    }

    func testNodesHelp() throws {
        try assertHelp(
            ["nodes"], NodesCommand.self,
            #"""
            OVERVIEW: List the node types with their ports, formats and parameters.

            USAGE: router nodes [<type>]

            ARGUMENTS:
              <type>                  Show only this node type.

            OPTIONS:
              -h, --help              Show help information.


            """#)
    }

    /// The benchmarks are a separate binary (the shipped router carries neither them nor the malloc interposer).
    func testBenchRootHelp() throws {
        try assertHelp(
            [], BenchRootCommand.self,
            #"""
            OVERVIEW: Benchmarks of the voice router: per-node engine cost and a live PersonaPlex link.

            Build with -c release for meaningful numbers (make bench, make bench-link).

            USAGE: router-bench <subcommand>

            OPTIONS:
              -h, --help              Show help information.

            SUBCOMMANDS:
              nodes                   Measure per-node cost against the bare library calls, and allocations per
                                      frame.
              link                    Measure CPU per live PersonaPlex link frame against bare libopus, and the
                                      link's latencies.

              See 'router-bench help <subcommand>' for detailed help.

            """#, binary: "router-bench", root: BenchRootCommand.self)
    }

    func testBenchHelp() throws {
        try assertHelp(
            ["nodes"], BenchCommand.self,
            #"""
            OVERVIEW: Measure per-node cost against the bare library calls, and allocations per frame.

            Build with -c release for meaningful numbers: swift build -c release --product router-bench &&
            .build/release/router-bench nodes (or make bench)

            USAGE: router-bench nodes [--frames <frames>] [--pipelines <pipelines> ...]

            OPTIONS:
              --frames <frames>       Frames (20 ms each) measured per case. (default: 3000)
              --pipelines <pipelines> Pipeline files whose `router check` time is measured too.
              -h, --help              Show help information.


            """#, binary: "router-bench", root: BenchRootCommand.self)
    }

    func testBenchLinkHelp() throws {
        try assertHelp(
            ["link"], LinkBenchCommand.self,
            #"""
            OVERVIEW: Measure CPU per live PersonaPlex link frame against bare libopus, and the link's
            latencies.

            Runs feed -> OpusOggEncode -> PersonaPlexLink -> Decode -> sink in real time for --seconds after
            the link went live. Build with -c release. Example: bash scripts/bench-link.sh 30

            USAGE: router-bench link --url <url> [--seconds <seconds>] [--prebuffer <prebuffer>] [--text-prompt <text-prompt>]

            OPTIONS:
              --url <url>             PersonaPlex URL (ws:// or wss://).
              --seconds <seconds>     Seconds of live audio to measure. (default: 30.0)
              --prebuffer <prebuffer> Decode prebuffer in seconds (0 measures what the router adds; the shipped
                                      pipeline uses 0.1). (default: 0.0)
              --text-prompt <text-prompt>
                                      The persona prompt sent to the server. (default: You are a benchmark.)
              -h, --help              Show help information.


            """#, binary: "router-bench", root: BenchRootCommand.self)
    }

    /// `bench` and `bench-link` moved to router-bench: the shipped router does not know them.
    func testTheRouterHasNoBenchmarks() throws {
        for old in ["bench", "bench-link"] {
            let result = try RouterBinary.run([old])
            XCTAssertEqual(result.status, 64, old)
            XCTAssertTrue(result.stderr.contains("Unexpected argument '\(old)'"), result.stderr)
            XCTAssertThrowsError(try RouterCommand.parseAsRoot([old]))
        }
        XCTAssertNoThrow(try BenchRootCommand.parseAsRoot(["nodes", "--frames", "10"]))
    }

    func testCheckWithoutFilesIsAUsageError() throws {
        let result = try RouterBinary.run(["check"])
        XCTAssertEqual(result.status, 64)
        XCTAssertTrue(result.stderr.hasPrefix("Error: Missing expected argument '<files> ...'\n"), result.stderr)
        XCTAssertTrue(
            result.stderr.contains("Usage: router check <files> ... [--env-file <env-file>]\n"), result.stderr)
    }

    func testParsingInProcess() throws {
        let check = try XCTUnwrap(
            try RouterCommand.parseAsRoot(["check", "a.yaml", "b.yaml", "--env-file", "x.env"]) as? CheckCommand)
        XCTAssertEqual(check.files, ["a.yaml", "b.yaml"])
        XCTAssertEqual(check.envFile, "x.env")
        let graph = try XCTUnwrap(try RouterCommand.parseAsRoot(["graph", "p.yaml"]) as? GraphCommand)
        XCTAssertEqual(graph.format, "ascii")
        XCTAssertEqual(graph.pipeline.envFile, ".env")
        let run = try XCTUnwrap(
            try RouterCommand.parseAsRoot(["run", "p.yaml", "--max-duration", "2.5", "--metrics"]) as? RunCommand)
        XCTAssertEqual(run.maxDuration, 2.5)
        XCTAssertTrue(run.metrics)
        XCTAssertNil(run.logLevel, "info unless given (the demo then shows only warnings from nodes)")
        XCTAssertThrowsError(try RouterCommand.parseAsRoot(["frobnicate"]))
        XCTAssertThrowsError(try RouterCommand.parseAsRoot(["run", "p.yaml", "--max-duration", "soon"]))
    }
}
