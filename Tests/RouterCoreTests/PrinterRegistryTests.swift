import XCTest

@testable import RouterCore

/// GraphPrinter output, the registry catalogue, and did-you-mean suggestions.
final class PrinterRegistryTests: XCTestCase {
    private let small = """
        name: small
        nodes:
          src: {type: TestSource, rate: 16000, channels: 1}
          split: {type: TestSplit}
          sink-a: {type: TestSink}
          b: {type: TestSink}
        links:
          - src -> split
          - split.left -> sink-a
          - split.right -> b
          - b.events -> src.control
        """

    func testASCII() throws {
        let p = try validate(small).get()
        XCTAssertEqual(
            GraphPrinter.render(p, as: .ascii),
            """
            small: 4 nodes, 4 links, real-time pace
              src (TestSource)   .out ─▶ split.in   [16000 Hz mono PCM]
              split (TestSplit)  .left ─▶ sink-a.in   [16000 Hz mono PCM]
              split (TestSplit)  .right ─▶ b.in   [16000 Hz mono PCM]
              sink-a (TestSink)   (outputs not linked)
              b (TestSink)       .events ┄▶ src.control   [events]
            """)
    }

    func testDOT() throws {
        let p = try validate(small).get()
        XCTAssertEqual(
            GraphPrinter.render(p, as: .dot),
            #"""
            digraph "small" {
              rankdir=LR;
              node [shape=box, style=rounded];
              "src" [label="src\nTestSource"];
              "split" [label="split\nTestSplit"];
              "sink-a" [label="sink-a\nTestSink"];
              "b" [label="b\nTestSink"];
              "src" -> "split" [label="out→in\n16000 Hz mono PCM"];
              "split" -> "sink-a" [label="left→in\n16000 Hz mono PCM"];
              "split" -> "b" [label="right→in\n16000 Hz mono PCM"];
              "b" -> "src" [label="events→control\nevents", style=dashed];
            }
            """#)
    }

    func testMermaid() throws {
        let p = try validate(small).get()
        XCTAssertEqual(
            GraphPrinter.render(p, as: .mermaid),
            """
            flowchart LR
              src["src<br/>TestSource"]
              split["split<br/>TestSplit"]
              sink_a["sink-a<br/>TestSink"]
              b["b<br/>TestSink"]
              src -->|"out→in: 16000 Hz mono PCM"| split
              split -->|"left→in: 16000 Hz mono PCM"| sink_a
              split -->|"right→in: 16000 Hz mono PCM"| b
              b -.->|"events→control: events"| src
            """)
    }

    func testNodeWithUnlinkedOutputsIsNotCalledASink() throws {
        let p = try validate(
            "nodes:\n  src: {type: TestSource}\n  pass: {type: TestPass}\n  text: {type: TestTextSink}\n  enc: {type: TestEncoder}\nlinks: [src -> pass, src -> enc -> text]\n"
        ).get()
        XCTAssertEqual(
            GraphPrinter.render(p, as: .ascii),
            """
            t.yaml: 4 nodes, 3 links, real-time pace
              src (TestSource)     .out ─▶ pass.in, enc.in   [48000 Hz stereo PCM]
              pass (TestPass)       (outputs not linked)
              enc (TestEncoder)    .out ─▶ text.in   [text]
              text (TestTextSink)   (sink)
            """)
    }

    func testUnnamedPipelineUsesTheFileName() throws {
        let p = try validate(
            "nodes:\n  src: {type: TestSource, pace: fast}\n  sink: {type: TestSink}\nlinks: [src -> sink]\n"
        ).get()
        XCTAssertEqual(
            GraphPrinter.render(p, as: .ascii).split(separator: "\n").first, "t.yaml: 2 nodes, 1 links, fast pace")
        XCTAssertTrue(GraphPrinter.render(p, as: .dot).hasPrefix("digraph \"pipeline\" {"))
    }

    func testRegistryLookupAndNames() {
        XCTAssertEqual(
            testRegistry.typeNames,
            [
                "TestEncoder", "TestEventTap", "TestMerge", "TestPass", "TestSink", "TestSource", "TestSplit",
                "TestTextSink",
            ])
        XCTAssertTrue(testRegistry.type(named: "TestPass") == TestPass.self)
        XCTAssertNil(testRegistry.type(named: "testpass"), "type names are case-sensitive")
        XCTAssertEqual(testRegistry.all.map { $0.typeName }, testRegistry.typeNames)
        let defaults = NodeRegistry.defaults(of: TestSource.self)
        XCTAssertEqual(defaults.int("frames"), 3)
        XCTAssertEqual(defaults.string("pace"), "indifferent")
        XCTAssertNil(NodeRegistry.defaults(of: TestSink.self)["label"], "optional without default stays unset")
    }

    func testConverters() {
        XCTAssertEqual(
            testRegistry.converters(from: .pcm, to: .text), ["TestEncoder"], "an optional event input does not count")
        XCTAssertEqual(testRegistry.converters(from: .pcm, to: .pcm), ["TestPass"], "TestMerge has no default input")
        XCTAssertEqual(testRegistry.converters(from: .text, to: .pcm), [])
    }

    func testCatalogue() {
        XCTAssertEqual(
            testRegistry.catalogue(only: "TestMerge"),
            """
            TestMerge — Test node with two inputs.
              in  a: any-rate PCM (required, many links) — Any PCM, many links.
              in  b: 16000 Hz mono PCM (optional) — 16 kHz mono.
              out out: PCM, same format as a — Same as a.

            """)
        XCTAssertEqual(
            testRegistry.catalogue(only: "TestSink"),
            """
            TestSink — Test sink that records frames.
              in  in: any-rate PCM (required) — Any PCM.
              in  control: events (optional) — Events to record.
              out events: events — One warning per tick.
              param label: string (optional) — Free text.

            """)
        let all = testRegistry.catalogue()
        XCTAssertEqual(
            all.split(separator: "\n").filter { !$0.hasPrefix(" ") }.map { String($0.split(separator: " ")[0]) },
            testRegistry.typeNames)
        XCTAssertTrue(
            all.contains("  param frames: integer 0...1000000 (default 3) — Frames before the end (0: never ends).\n"))
        XCTAssertTrue(
            all.contains("  param pace: indifferent|realtime|fast (default indifferent) — Pacing preference.\n"))
        XCTAssertEqual(testRegistry.catalogue(only: "Nope"), "")
    }

    func testDidYouMean() {
        let types = ["Mixer", "Resample", "WavIn", "WavOut", "Decode", "OpusOggEncode"]
        XCTAssertEqual(Spelling.suggestion(for: "Mixr", among: types), "Mixer")
        XCTAssertEqual(Spelling.suggestion(for: "mixer", among: types), "Mixer", "case-insensitive")
        XCTAssertEqual(
            Spelling.suggestion(for: "Resampel", among: types), "Resample", "a transposition is two edits; 8/3 allows 2"
        )
        XCTAssertEqual(Spelling.suggestion(for: "WavOt", among: types), "WavOut")
        XCTAssertEqual(Spelling.suggestion(for: "wavin", among: types), "WavIn")
        XCTAssertNil(Spelling.suggestion(for: "Blender", among: types))
        XCTAssertNil(Spelling.suggestion(for: "Dcd", among: types), "three edits is too many for a six-letter name")
        XCTAssertEqual(Spelling.suggestion(for: "OpusEncode", among: types), "OpusOggEncode", "13/3 allows 3 edits")
        XCTAssertEqual(Spelling.didYouMean("Mixr", among: types), " Did you mean 'Mixer'?")
        XCTAssertEqual(Spelling.didYouMean("zzz", among: types), "")
        XCTAssertEqual(Spelling.suggestion(for: "in", among: ["in", "out"]), "in")
        XCTAssertEqual(Spelling.suggestion(for: "ot", among: ["in", "out"]), "out", "short names allow one edit")
        XCTAssertEqual(Spelling.editDistance("kitten", "sitting"), 3)
        XCTAssertEqual(Spelling.editDistance("", "abc"), 3)
    }

    func testDiagnosticRendering() {
        let a = PipelineDiagnostic(SourceLocation(file: "p.yaml", line: 9, column: 2), "second", hint: "fix it")
        let b = PipelineDiagnostic(SourceLocation(file: "p.yaml", line: 3, column: 14), "first", hint: "do this")
        let c = PipelineDiagnostic(SourceLocation(file: "p.yaml", line: 3, column: 5), "zeroth", hint: "or that")
        XCTAssertEqual(
            PipelineErrors([a, b, c]).description,
            """
            p.yaml:3:5: error: zeroth
                hint: or that
            p.yaml:3:14: error: first
                hint: do this
            p.yaml:9:2: error: second
                hint: fix it
            3 errors
            """)
        XCTAssertEqual(PipelineErrors([a]).description, "p.yaml:9:2: error: second\n    hint: fix it\n1 error")
        XCTAssertEqual(SourceLocation(file: "f", line: 1, column: 1).advanced(by: 4).description, "f:1:5")
    }
}
