import XCTest

@testable import RouterCore

/// Validation rules beyond link syntax: inputs, cycles, formats, pace, and reporting every problem at once.
final class ValidatorTests: XCTestCase {
    func testDataPathOrderFollowsMediaLinksNotDeclarationOrder() throws {
        let yaml = """
            nodes:
              sink: {type: TestSink}
              pass: {type: TestPass}
              src: {type: TestSource}
            links:
              - src -> pass -> sink
            """
        XCTAssertEqual(try validate(yaml).get().nodes.map(\.name), ["src", "pass", "sink"])
    }

    func testEventLinksMayPointBackwards() throws {
        let yaml = """
            nodes:
              src: {type: TestSource}
              pass: {type: TestPass}
              sink: {type: TestSink}
            links:
              - src -> pass -> sink
              - sink.events -> src.control
            """
        let p = try validate(yaml).get()
        XCTAssertEqual(p.nodes.map(\.name), ["src", "pass", "sink"])
        XCTAssertEqual(p.links.last?.kind, .event)
    }

    func testCycleNamesOnlyTheNodesInTheCycle() {
        let yaml = """
            nodes:
              src: {type: TestSource}
              a: {type: TestMerge}
              b: {type: TestPass}
              after: {type: TestSink}
            links:
              - src -> a.a
              - a -> b -> a.a
              - b -> after
            """
        XCTAssertEqual(problems(yaml), ["8:10: the links form a cycle through a, b"])
    }

    func testInputLinkedTwiceAndUnlinkedRequiredInput() {
        let yaml = """
            nodes:
              one: {type: TestSource}
              two: {type: TestSource}
              sink: {type: TestSink}
              lonely: {type: TestPass}
              merge: {type: TestMerge}
            links:
              - one -> sink
              - two -> sink
              - one -> merge.a
              - two -> merge.a
              - merge -> sink.control
            """
        XCTAssertEqual(
            problems(yaml),
            [
                "5:3: required input lonely.in (PCM) is not linked",
                "9:12: input sink.in is linked twice (from one.out at line 8 and from two.out)",
                "12:14: merge.out is 48000 Hz stereo PCM but sink.control needs events",
            ])
    }

    func testKindMismatchSuggestsAConverter() {
        let yaml = """
            nodes:
              src: {type: TestSource}
              text: {type: TestTextSink}
              enc: {type: TestEncoder}
              sink: {type: TestSink}
            links:
              - src -> text
              - src -> enc -> sink
            """
        XCTAssertEqual(
            problems(yaml),
            [
                "7:12: src.out is 48000 Hz stereo PCM but text.in needs text",
                "8:19: enc.out is text but sink.in needs PCM",
            ])
        if case .failure(let e) = validate(yaml) {
            XCTAssertEqual(
                e.diagnostics.map(\.hint), ["insert a TestEncoder node", "no node type converts text to PCM"])
        }
    }

    func testExactFormatMismatch() {
        let yaml = """
            nodes:
              src: {type: TestSource, rate: 48000, channels: 2}
              merge: {type: TestMerge}
              sink: {type: TestSink}
            links:
              - src -> merge.a
              - src -> merge.b
              - merge -> sink
            """
        XCTAssertEqual(
            problems(yaml),
            ["7:12: src.out is 48000 Hz stereo PCM but merge.b needs 16000 Hz mono: insert a Resample node"])
        if case .failure(let e) = validate(yaml) {
            XCTAssertEqual(
                e.diagnostics.first?.hint,
                "- src -> resample -> merge.b with 'resample: {type: Resample, rate: 16000, channels: 1}'")
        }
    }

    func testInputsOfAManyLinkPortMustAgree() throws {
        let yaml = """
            nodes:
              wide: {type: TestSource, rate: 48000, channels: 2}
              narrow: {type: TestSource, rate: 24000, channels: 1}
              merge: {type: TestMerge}
              sink: {type: TestSink}
            links:
              - wide -> merge.a
              - narrow -> merge.a
              - merge -> sink
            """
        XCTAssertEqual(
            problems(yaml),
            [
                "8:15: merge.a gets 48000 Hz stereo PCM from wide but 24000 Hz mono PCM from narrow: insert a Resample node so they match"
            ])
    }

    func testPassThroughFormatFollowsItsInput() throws {
        let yaml = """
            nodes:
              src: {type: TestSource, rate: 16000, channels: 1}
              pass: {type: TestPass}
              merge: {type: TestMerge}
              sink: {type: TestSink}
            links:
              - src -> pass -> merge.b
              - src -> merge.a
              - merge -> sink
            """
        let p = try validate(yaml).get()
        XCTAssertEqual(p.node("pass")?.outputFormats["out"], .pcm(PCMFormat(sampleRate: 16_000, channels: 1)))
    }

    func testPassThroughWithoutInputHasNoFormat() {
        let yaml = """
            nodes:
              split: {type: TestSplit}
              sink: {type: TestSink}
            links:
              - split.left -> sink
            """
        XCTAssertEqual(
            problems(yaml),
            [
                "2:3: required input split.in (PCM) is not linked"
            ])
    }

    func testPace() throws {
        func pace(_ source: String, _ session: String = "") -> Result<ValidatedPipeline, PipelineErrors> {
            validate(
                "nodes:\n  src: {type: TestSource, \(source)}\n  sink: {type: TestSink}\nlinks:\n  - src -> sink\n\(session)"
            )
        }
        XCTAssertEqual(try pace("pace: fast").get().runsFast, true, "auto: a node that wants fast and none real time")
        XCTAssertEqual(try pace("pace: indifferent").get().runsFast, false, "auto with no preference: real time")
        XCTAssertEqual(try pace("pace: realtime").get().runsFast, false)
        XCTAssertEqual(try pace("pace: fast", "session: {pace: realtime}").get().runsFast, false)
        XCTAssertEqual(try pace("pace: indifferent", "session: {pace: fast}").get().runsFast, true)
        guard case .failure(let e) = pace("pace: realtime", "session:\n  pace: fast") else {
            return XCTFail("fast with a real-time node")
        }
        XCTAssertEqual(
            e.description,
            """
            t.yaml:7:9: error: session pace 'fast' is impossible: src needs real time
                hint: use pace: realtime or auto
            1 error
            """)
    }

    func testSessionSettings() throws {
        let ok = try validate(
            "nodes:\n  src: {type: TestSource}\n  sink: {type: TestSink}\nlinks: [src -> sink]\nsession: {metrics_interval: 1500ms}\n"
        ).get()
        XCTAssertEqual(ok.spec.session.metricsInterval, 1.5)
        XCTAssertEqual(
            problems(
                "nodes:\n  src: {type: TestSource}\n  sink: {type: TestSink}\nlinks: [src -> sink]\nsession:\n  pace: quick\n  metrics_intervall: 2s\n"
            ),
            [
                "6:9: session pace must be auto, realtime or fast, not 'quick'",
                "7:3: unknown session setting 'metrics_intervall'. Did you mean 'metrics_interval'?",
            ])
    }

    func testParameterErrors() {
        let yaml = """
            nodes:
              src: {type: TestSource, frames: many, rate: 1000, channels: 2.5, pace: fas, fail_start: maybe}
              pass: {type: TestPass, slow: 3}
              sink: {type: TestSink}
            links:
              - src -> pass -> sink
            """
        XCTAssertEqual(
            problems(yaml),
            [
                "2:35: node 'src': 'frames' must be an integer, not 'many'",
                "2:47: node 'src': 'rate' must be in 8000...192000, not 1000",
                "2:63: node 'src': 'channels' must be an integer, not '2.5'",
                "2:74: node 'src': 'pace' must be one of indifferent, realtime, fast, not 'fas'. Did you mean 'fast'?",
                "2:91: node 'src': 'fail_start' must be true or false, not 'maybe'",
                "3:26: TestPass has no parameter 'slow'.",
            ])
    }

    func testDurations() throws {
        let spec = ParameterSpec.optional("wait", .duration, default: nil, "")
        func parsed(_ text: String) -> String {
            switch spec.parse(text) {
            case .success(let v): return "\(v)"
            case .failure(let p): return p.message
            }
        }
        XCTAssertEqual(parsed("1.5"), "1.5")
        XCTAssertEqual(parsed("1.5s"), "1.5")
        XCTAssertEqual(parsed("200ms"), "0.2")
        XCTAssertEqual(parsed("2min"), "120.0")
        XCTAssertEqual(parsed("0"), "0.0")
        XCTAssertEqual(parsed("-1s"), "'wait' must be a duration such as 1.5s or 200ms, not '-1s'")
        XCTAssertEqual(parsed("inf"), "'wait' must be a duration such as 1.5s or 200ms, not 'inf'")
        XCTAssertEqual(parsed("nan"), "'wait' must be a duration such as 1.5s or 200ms, not 'nan'")
        XCTAssertEqual(parsed("1e300"), "'wait' must be at most 1000000 s, not '1e300'")
        XCTAssertEqual(parsed("1000000s"), "1000000.0")
    }

    func testSeveralErrorsAreSortedByPosition() throws {
        let yaml = """
            nodes:
              sink: {type: TestSnk}
              src: {type: TestSource, frames: -5}
            links:
              - src -> sinc
            sesion: {pace: fast}
            """
        guard case .failure(let e) = validate(yaml) else { return XCTFail("invalid") }
        XCTAssertEqual(
            e.description,
            """
            t.yaml:2:16: error: unknown node type 'TestSnk'. Did you mean 'TestSink'?
                hint: `router nodes` lists the available types
            t.yaml:3:35: error: node 'src': 'frames' must be in 0...1000000, not -5
                hint: expected integer 0...1000000
            t.yaml:5:12: error: unknown node 'sinc' in link. Did you mean 'sink'?
                hint: declare it under 'nodes:' or fix the name
            t.yaml:6:1: error: unknown top-level key 'sesion'. Did you mean 'session'?
                hint: top-level keys are name, description, nodes, links, session
            4 errors
            """)
    }

    /// A value that failed interpolation is reported once, not again as a missing parameter or a missing type.
    func testFailedInterpolationDoesNotCascade() {
        let yaml = """
            nodes:
              src: {type: "${SRC_TYPE}"}
              sink: {type: TestSink, label: "${LABEL}"}
            links:
              - src -> sink
            """
        XCTAssertEqual(
            problems(yaml),
            [
                "2:16: environment variable SRC_TYPE is not set",
                "3:34: environment variable LABEL is not set",
            ])
    }

    /// A PCM output linked into an event input must fail even when the producer comes later in data-path order.
    func testKindMismatchIntoAnEventInputWhateverTheOrder() {
        let yaml = """
            nodes:
              src: {type: TestSource}
              sink: {type: TestSink}
              p1: {type: TestPass}
              late: {type: TestPass}
            links:
              - src -> sink
              - src -> p1 -> late
              - late -> sink.control
            """
        XCTAssertEqual(problems(yaml), ["9:13: late.out is 48000 Hz stereo PCM but sink.control needs events"])
    }

    /// An event output fed back into a PCM input is a kind mismatch, not a cycle.
    func testEventIntoAPCMInputIsAMismatchNotACycle() {
        let yaml = """
            nodes:
              src: {type: TestSource}
              merge: {type: TestMerge}
              sink: {type: TestSink}
            links:
              - src -> merge.a
              - merge -> sink
              - sink.events -> merge.a
            """
        XCTAssertEqual(problems(yaml), ["8:20: sink.events is events but merge.a needs PCM"])
    }

    func testDuplicateKeysPointAtTheSecondOneInTheSameMapping() {
        let yaml = """
            nodes:
              a: {type: TestSink, label: x}
              b:
                type: TestSink
                label: y
                label: z
            links: []
            """
        // The rest of the file is still checked (here: the sinks' inputs are not linked).
        XCTAssertEqual(
            problems(yaml),
            [
                "2:3: required input a.in (PCM) is not linked", "3:3: required input b.in (PCM) is not linked",
                "6:5: duplicate parameter 'label' of node 'b' (first at line 5, column 5)",
            ])
        XCTAssertEqual(
            problems("nodes:\n  a: {type: TestSink, label: x, label: y}\n"),
            [
                "2:3: required input a.in (PCM) is not linked",
                "2:33: duplicate parameter 'label' of node 'a' (first at line 2, column 23)",
            ])
    }

    /// A duplicate node name is found while reading the mapping, so the rest of the file is still checked.
    func testDuplicateNodeNameDoesNotHideOtherErrors() {
        let yaml = """
            nodes:
              src: {type: TestSource}
              sink: {type: TestSink, labl: x}
              src: {type: TestSource, frames: 2}
            links:
              - src -> sink
              - src -> nowhere
            session: {pace: fast}
            session: {pace: realtime}
            """
        XCTAssertEqual(
            problems(yaml),
            [
                "3:26: TestSink has no parameter 'labl'. Did you mean 'label'?",
                "4:3: duplicate node name 'src' (first at line 2, column 3)",
                "7:12: unknown node 'nowhere' in link.",
                "9:1: duplicate top-level key 'session' (first at line 8, column 1)",
            ])
        if case .failure(let e) = validate(yaml) {
            XCTAssertEqual(e.diagnostics[1].hint, "node names must be unique: rename one 'src' (links use the name)")
        }
    }

    /// A cycle does not stop the format and pace checks of the rest of the graph.
    func testCycleStillChecksFormatsAndPace() {
        let yaml = """
            nodes:
              src: {type: TestSource, pace: realtime}
              a: {type: TestMerge}
              b: {type: TestPass}
              m2: {type: TestMerge}
            links:
              - src -> a.a
              - a -> b -> a.a
              - src -> m2.a
              - src -> m2.b
            session: {pace: fast}
            """
        XCTAssertEqual(
            problems(yaml),
            [
                "8:10: the links form a cycle through a, b",
                "10:12: src.out is 48000 Hz stereo PCM but m2.b needs 16000 Hz mono: insert a Resample node",
                "11:17: session pace 'fast' is impossible: src needs real time",
            ])
    }

    func testSampleRatesMustSplitIntoWholeFrames() {
        let spec = ParameterSpec.required("rate", .sampleRate, "Rate.")
        XCTAssertEqual(try spec.parse("44100").get(), .int(44_100))
        XCTAssertEqual(try spec.parse("8000").get(), .int(8_000))
        for bad in ["11025", "44101", "7950", "192050", "fast", "48000.5"] {
            guard case .failure(let problem) = spec.parse(bad) else {
                XCTFail("\(bad) accepted")
                continue
            }
            XCTAssertTrue(problem.message.hasPrefix("'rate' must be a sample rate: "), problem.message)
            XCTAssertEqual(
                problem.hint,
                "use a multiple of 50 Hz in 8000...192000, e.g. 8000, 16000, 22050, 24000, 32000, 44100, 48000, 96000")
        }
        if case .failure(let p) = spec.parse("11025") {
            XCTAssertEqual(p.message, "'rate' must be a sample rate: 11025 Hz does not split into whole 20 ms frames")
        }
    }

    func testEmptyNodesSection() {
        XCTAssertEqual(problems("nodes: {}\nlinks: []\n"), ["1:8: 'nodes' is empty"])
        XCTAssertEqual(
            problems("nodes:\n  - a\nlinks:\n  - a -> b\n"),
            ["2:3: 'nodes' must be a mapping of node names to their settings"], "links are not checked against no nodes"
        )
    }
}
