import XCTest

@testable import RouterCore

/// `${session.NAME}`: the documented example while a file is checked, the session's value when a host starts one,
/// and a specific error for a name that does not exist.
final class SessionValuesTests: XCTestCase {
    let values = SessionValues(
        id: "s7", guildID: "11", voiceChannelID: "12", textChannelID: "13", userID: "14", userName: "ana",
        textPrompt: "Talk like a pirate.", voice: "NATM1.pt", backendURL: "ws://gpu:8998/api/chat")

    private func expand(_ text: String, session: SessionValues?) -> Result<String, InterpolationProblem> {
        PipelineEnvironment(["VOICE": "NATF2.pt"], session: session).interpolate(text)
    }

    func testCheckingWithoutASessionReadsTheExamples() throws {
        XCTAssertEqual(try expand("${session.voice}", session: nil).get(), "NATF0.pt")
        XCTAssertEqual(try expand("${session.backend_url}", session: nil).get(), "ws://localhost:8998/api/chat")
        XCTAssertEqual(Set(SessionValues.names), Set(values.values.keys), "every name has a value and an example")
    }

    func testASessionSuppliesItsValuesBesideEnvironmentVariables() throws {
        XCTAssertEqual(try expand("${session.text_prompt}", session: values).get(), "Talk like a pirate.")
        XCTAssertEqual(try expand("out/${session.id}-${session.user_id}.wav", session: values).get(), "out/s7-14.wav")
        XCTAssertEqual(try expand("${VOICE} ${session.voice}", session: values).get(), "NATF2.pt NATM1.pt")
    }

    func testAMisspelledNameIsAnErrorWithTheNearestName() {
        guard case .failure(let problem) = expand("x${session.text_promt}", session: values) else {
            return XCTFail("a misspelled session value must not expand")
        }
        XCTAssertEqual(problem.offset, 1)
        XCTAssertEqual(
            problem.message, "'session.text_promt' is not a session value. Did you mean 'session.text_prompt'?")
        XCTAssertTrue(problem.hint.contains("session.backend_url"), problem.hint)
    }

    func testTheValidatorPointsAtTheReference() throws {
        let yaml = "nodes:\n  a: {type: TestSource, pace: \"${session.nope}\"}\n"
        XCTAssertThrowsError(
            try PipelineValidator(registry: testRegistry).validate(
                yaml: yaml, file: "p.yaml", environment: PipelineEnvironment([:]))
        ) { error in
            XCTAssertTrue("\(error)".contains("p.yaml:2:"), "\(error)")
            XCTAssertTrue("\(error)".contains("'session.nope' is not a session value"), "\(error)")
        }
    }
}
