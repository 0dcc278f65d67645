import XCTest

@testable import RouterCore

/// Link chains: elements with their columns, default ports, and the diagnostics for chains that do not resolve.
final class LinkParsingTests: XCTestCase {
    private func chain(_ text: String, column: Int = 5) -> (LinkChain?, [PipelineDiagnostic]) {
        var diagnostics: [PipelineDiagnostic] = []
        let base = SourceLocation(file: "t.yaml", line: 7, column: column)
        let c = PipelineSpec.parseChain(text, at: base, diagnostics: &diagnostics)
        return (c, diagnostics)
    }

    func testElementsAndColumns() throws {
        let (c, d) = chain("src -> mix.in2 ->   sink")
        XCTAssertEqual(d, [])
        let endpoints = try XCTUnwrap(c).endpoints
        XCTAssertEqual(endpoints.map(\.text), ["src", "mix.in2", "sink"])
        XCTAssertEqual(endpoints.map(\.node), ["src", "mix", "sink"])
        XCTAssertEqual(endpoints.map(\.port), [nil, "in2", nil])
        XCTAssertEqual(endpoints.map(\.location.column), [5, 12, 25])
        XCTAssertEqual(endpoints.map(\.location.line), [7, 7, 7])
    }

    func testNoSpacesAroundArrows() throws {
        let (c, d) = chain("a->b.x->c", column: 1)
        XCTAssertEqual(d, [])
        XCTAssertEqual(try XCTUnwrap(c).endpoints.map(\.location.column), [1, 4, 9])
    }

    func testSingleElement() {
        let (c, d) = chain("lonely")
        XCTAssertNil(c)
        XCTAssertEqual(
            d.map(\.description),
            [
                "t.yaml:7:5: error: link 'lonely' needs at least two nodes joined by '->'\n    hint: write 'source -> sink'"
            ])
    }

    func testEmptyElementPointsAtTheGap() {
        let (c, d) = chain("a -> -> b")
        XCTAssertNil(c)
        XCTAssertEqual(d.map(\.location.column), [10], "the second '->', where a node name is missing")
        XCTAssertEqual(d.map(\.message), ["missing node name in link 'a -> -> b'"])
        XCTAssertEqual(chain("a -> b ->").1.map(\.location.column), [14], "a trailing arrow points past its end")
    }

    func testThreePartEndpoint() {
        let (c, d) = chain("a.b.c -> d")
        XCTAssertNil(c)
        XCTAssertEqual(d.map(\.message), ["'a.b.c' is not a node or node.port"])
        XCTAssertEqual(d.map(\.location.column), [5])
        XCTAssertEqual(chain("a -> b. -> c").1.map(\.message), ["'b.' is not a node or node.port"])
        XCTAssertEqual(chain("a -> 9b").1.map(\.message), ["'9b' is not a node or node.port"])
    }

    func testLinkColumnsInAFile() throws {
        let yaml = """
            nodes:
              src: {type: TestSource}
              sink: {type: TestSink}
            links:
              - src -> sink
              - "sink ->  src.control"
            """
        let p = try validate(yaml).get()
        let locations = p.links.map { "\($0.toNode).\($0.toPort)@\($0.location.line):\($0.location.column)" }
        XCTAssertEqual(locations, ["sink.in@5:12", "src.control@6:15"])
    }

    func testDefaultPorts() throws {
        let yaml = """
            nodes:
              src: {type: TestSource}
              pass: {type: TestPass}
              sink: {type: TestSink}
              split: {type: TestSplit}
              merge: {type: TestMerge}
              s2: {type: TestSink}
            links:
              - src -> pass -> split.in
              - split.left -> merge.a
              - merge -> sink
              - split.right -> s2
              - sink -> src
            """
        let p = try validate(yaml).get()
        // `in`/`out` when a node has them, otherwise its only port (sink's only output, src's only input).
        XCTAssertEqual(
            p.links.map { "\($0.fromNode).\($0.fromPort)->\($0.toNode).\($0.toPort)" },
            [
                "src.out->pass.in", "pass.out->split.in", "split.left->merge.a", "merge.out->sink.in",
                "split.right->s2.in",
                "sink.events->src.control",
            ])
    }

    func testAmbiguousDefaultPorts() {
        let yaml = """
            nodes:
              src: {type: TestSource}
              split: {type: TestSplit}
              merge: {type: TestMerge}
              sink: {type: TestSink}
            links:
              - src -> split -> sink
              - src -> merge
            """
        XCTAssertEqual(
            problems(yaml),
            [
                "7:12: TestSplit node 'split' has several outputs (left, right)",
                "8:12: TestMerge node 'merge' has several inputs (a, b)",
            ])
        if case .failure(let e) = validate(yaml) { XCTAssertEqual(e.diagnostics[0].hint, "name one: 'split.left'") }
    }

    func testSourceLastAndSinkFirst() {
        let yaml = """
            nodes:
              src: {type: TestSource}
              text: {type: TestTextSink}
              pass: {type: TestPass}
            links:
              - text -> pass
              - pass -> src.out
            """
        XCTAssertEqual(
            problems(yaml),
            [
                "3:3: required input text.in (text) is not linked",
                "6:5: TestTextSink node 'text' has no outputs",
                "7:17: TestSource node 'src' has no input 'out'.",
            ])
    }

    func testUnknownPortSuggestsAndLists() {
        let yaml = """
            nodes:
              src: {type: TestSource}
              split: {type: TestSplit}
              sink: {type: TestSink}
            links:
              - src -> split
              - split.lefft -> sink
              - split.right -> sink.contrl
            """
        XCTAssertEqual(
            problems(yaml),
            [
                "7:11: TestSplit node 'split' has no output 'lefft'. Did you mean 'left'?",
                "8:25: TestSink node 'sink' has no input 'contrl'. Did you mean 'control'?",
            ])
        if case .failure(let e) = validate(yaml) {
            XCTAssertEqual(e.diagnostics.map(\.hint), ["its outputs: left, right", "its inputs: in, control"])
        }
    }

    /// A port named in the middle of a chain: an input is where the link enters, an output is where it leaves.
    func testPortInTheMiddleOfAChain() throws {
        let yaml = """
            nodes:
              src: {type: TestSource}
              split: {type: TestSplit}
              a: {type: TestSink}
              b: {type: TestSink}
            links:
              - src -> split.right -> a
              - split.left -> b
            """
        let p = try validate(yaml).get()
        XCTAssertEqual(
            p.links.map { "\($0.fromNode).\($0.fromPort)->\($0.toNode).\($0.toPort)" },
            ["src.out->split.in", "split.right->a.in", "split.left->b.in"])
    }

    func testInputInTheMiddleOfAChainNeedsADefaultOutput() {
        let yaml = """
            nodes:
              src: {type: TestSource}
              split: {type: TestSplit}
              sink: {type: TestSink}
            links:
              - src -> split.in -> sink
            """
        XCTAssertEqual(problems(yaml), ["6:12: TestSplit node 'split' has several outputs (left, right)"])
    }
}
