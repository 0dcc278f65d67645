import XCTest

@testable import RouterCore

/// The YAML reader under the pipeline parser: duplicate keys kept in order with positions, aliases, limits, errors.
final class YAMLDocumentTests: XCTestCase {
    func testMappingsKeepDuplicateKeysInOrderWithPositions() throws {
        guard case .success(let root?) = YAMLDocument.parse("a: 1\nb: 'x'\na: 2\n", file: "f.yaml"),
            case .mapping(let pairs, _) = root
        else { return XCTFail("not a mapping") }
        XCTAssertEqual(pairs.map { $0.key.string }, ["a", "b", "a"])
        XCTAssertEqual(pairs.map { $0.value.string }, ["1", "x", "2"])
        XCTAssertEqual(pairs[2].key.location.description, "f.yaml:3:1")
        guard case .scalar(let quoted) = pairs[1].value else { return XCTFail("not a scalar") }
        XCTAssertTrue(quoted.isQuoted)
        XCTAssertEqual(quoted.location.column, 4)
    }

    func testAliasesResolveAndAnUnknownAliasIsReported() {
        guard case .success(let root?) = YAMLDocument.parse("a: &v 5\nb: *v\n", file: "f"),
            case .mapping(let pairs, _) = root
        else { return XCTFail("not a mapping") }
        XCTAssertEqual(pairs[1].value.string, "5")
        guard case .failure(let problem) = YAMLDocument.parse("b: *nope\n", file: "f") else {
            return XCTFail("accepted")
        }
        XCTAssertEqual(
            problem.description,
            """
            f:1:4: error: YAML syntax: '*nope' refers to no anchor '&nope' above it
                hint: define '&nope' on a value before using '*nope'
            """)
    }

    func testEmptyFileDeepNestingAndSyntaxErrors() {
        guard case .success(let empty) = YAMLDocument.parse("# only a comment\n", file: "f") else {
            return XCTFail("refused")
        }
        XCTAssertNil(empty)
        let deep = "a: " + String(repeating: "[", count: 100) + String(repeating: "]", count: 100)
        guard case .failure(let tooDeep) = YAMLDocument.parse(deep, file: "f") else { return XCTFail("accepted") }
        XCTAssertEqual(tooDeep.message, "YAML nesting deeper than 64 levels")
        guard case .failure(let syntax) = YAMLDocument.parse("a: [1, 2\n", file: "f") else {
            return XCTFail("accepted")
        }
        XCTAssertTrue(syntax.message.hasPrefix("YAML syntax: "), syntax.message)
        XCTAssertFalse(syntax.hint.isEmpty)
    }
}
