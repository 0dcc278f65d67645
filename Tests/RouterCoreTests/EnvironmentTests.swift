import Foundation
import XCTest

@testable import RouterCore

/// `${VAR}` interpolation and `.env` parsing.
final class EnvironmentTests: XCTestCase {
    let env = PipelineEnvironment(["HOME_DIR": "/home/x", "EMPTY": "", "N": "3"])

    private func expand(_ text: String) -> String? {
        if case .success(let s) = env.interpolate(text) { return s }
        return nil
    }

    private func problem(_ text: String) -> InterpolationProblem? {
        if case .failure(let p) = env.interpolate(text) { return p }
        return nil
    }

    func testPlainTextIsUnchanged() {
        XCTAssertEqual(expand("out/take.wav"), "out/take.wav")
        XCTAssertEqual(expand("cost $5"), "cost $5", "a lone $ not followed by { or $ stays")
        XCTAssertEqual(expand("ends with $"), "ends with $")
    }

    func testVariables() {
        XCTAssertEqual(expand("${HOME_DIR}/a.wav"), "/home/x/a.wav")
        XCTAssertEqual(expand("${N}${N}"), "33")
        XCTAssertEqual(expand("x${HOME_DIR}y"), "x/home/xy")
    }

    func testDefaults() {
        XCTAssertEqual(expand("${MISSING:-fallback.wav}"), "fallback.wav")
        XCTAssertEqual(expand("${HOME_DIR:-unused}"), "/home/x")
        XCTAssertEqual(expand("${EMPTY:-used}"), "used", "like the shell's :-, an empty value takes the default")
        XCTAssertEqual(expand("${EMPTY}"), "", "set but empty, without default: empty")
        XCTAssertEqual(expand("${MISSING:-}"), "")
        XCTAssertEqual(expand("${MISSING:-a:-b}"), "a:-b", "only the first :- splits")
    }

    func testDollarDollarIsALiteralDollar() {
        XCTAssertEqual(expand("$$"), "$")
        XCTAssertEqual(expand("$${HOME_DIR}"), "${HOME_DIR}", "$$ escapes the reference")
        XCTAssertEqual(expand("a$$$${N}"), "a$${N}")
    }

    func testUnsetVariableWithoutDefault() throws {
        let p = try XCTUnwrap(problem("out/${NOPE}/x"))
        XCTAssertEqual(p.offset, 4, "offset of the '$'")
        XCTAssertEqual(p.message, "environment variable NOPE is not set")
        XCTAssertEqual(p.hint, "set it (in the environment or .env), or give a default: ${NOPE:-value}")
    }

    func testMalformedReferences() throws {
        let open = try XCTUnwrap(problem("ab${NOPE"))
        XCTAssertEqual(open.offset, 2)
        XCTAssertEqual(open.message, "unterminated '${' in 'ab${NOPE'")
        let digit = try XCTUnwrap(problem("${1X}"))
        XCTAssertEqual(digit.offset, 0)
        XCTAssertEqual(digit.message, "'${1X}' is not a valid variable reference")
        XCTAssertEqual(try XCTUnwrap(problem("${}")).message, "'${}' is not a valid variable reference")
        XCTAssertEqual(try XCTUnwrap(problem("${A-B}")).message, "'${A-B}' is not a valid variable reference")
    }

    func testDotEnvParsing() throws {
        let text = """
            # a comment
            PLAIN=value
            export EXPORTED=yes
              SPACED = padded value  \n\
            DOUBLE="quoted # not a comment"
            SINGLE='single'
            MISMATCHED="half'
            EMPTY=
            EQUALS=a=b

            """
        let vars = try PipelineEnvironment.parseDotEnv(text, file: ".env")
        XCTAssertEqual(
            vars,
            [
                "PLAIN": "value", "EXPORTED": "yes", "SPACED": "padded value",
                "DOUBLE": "quoted # not a comment", "SINGLE": "single", "MISMATCHED": "\"half'",
                "EMPTY": "", "EQUALS": "a=b",
            ])
    }

    func testDotEnvWithWindowsLineEndings() throws {
        let vars = try PipelineEnvironment.parseDotEnv("A=1\r\nB=\"two\"\r\n", file: ".env")
        XCTAssertEqual(vars, ["A": "1", "B": "two"])
    }

    func testDotEnvBadLineIsReportedWithItsLine() {
        XCTAssertThrowsError(try PipelineEnvironment.parseDotEnv("A=1\n# ok\nNOT A SETTING\n", file: "x/.env")) {
            error in
            let errors = error as? PipelineErrors
            XCTAssertEqual(
                errors?.description,
                """
                x/.env:3:1: error: expected KEY=VALUE
                    hint: comment the line out with #
                1 error
                """)
        }
    }

    func testProcessEnvironmentWinsOverDotEnv() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("router-env-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent(".env").path
        // PATH is always set in the test process; the file's value must lose to it.
        try "PATH=/from/dotenv\nROUTER_TEST_ONLY_IN_DOTENV=file\n".write(
            toFile: path, atomically: true, encoding: .utf8)
        let env = try PipelineEnvironment.load(dotEnvPath: path)
        XCTAssertEqual(env.variables["ROUTER_TEST_ONLY_IN_DOTENV"], "file")
        XCTAssertEqual(env.variables["PATH"], ProcessInfo.processInfo.environment["PATH"])
        XCTAssertNotEqual(env.variables["PATH"], "/from/dotenv")
        // A missing .env is not an error.
        XCTAssertNil(
            try PipelineEnvironment.load(dotEnvPath: dir.appendingPathComponent("none").path).variables[
                "ROUTER_TEST_ONLY_IN_DOTENV"])
    }

    func testInterpolationInAPipelinePointsAtTheDollar() {
        let yaml = """
            nodes:
              src: {type: TestSource}
              sink:
                type: TestSink
                label: ab${NOPE}
              quoted: {type: TestSink, label: "x${NOPE}"}
            links:
              - src -> sink
              - src -> quoted
            """
        XCTAssertEqual(
            problems(yaml),
            [
                "5:14: environment variable NOPE is not set",
                "6:37: environment variable NOPE is not set",
            ])
        guard case .success(let p) = validate(yaml, env: ["NOPE": "set"]) else { return XCTFail("should validate") }
        XCTAssertEqual(p.node("sink")?.params.string("label"), "abset")
        XCTAssertEqual(p.node("quoted")?.params.string("label"), "xset")
    }
}
