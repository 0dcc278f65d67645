import Nodes
import RouterCore
import XCTest

final class GainTests: XCTestCase {
    func testScalesByDecibelsClipsAndPassesSilenceThrough() throws {
        let harness = try NodeHarness<Gain>(params: ["db": "-6"], inputs: ["in": .pcm(.personaPlex)])
        harness.pcmInput().write { $0.update(repeating: 0.5) }
        try harness.tick()
        XCTAssertEqual(harness.pcmOutput().frame?.first ?? 0, 0.2506, accuracy: 0.001)  // 0.5 × 10^(-6/20)
        XCTAssertEqual(harness.pcmOutput().frame?.count, 480)
        try harness.tick()
        XCTAssertNil(harness.pcmOutput().frame, "no input frame, no output frame")

        let boost = try NodeHarness<Gain>(params: ["db": "20"], inputs: ["in": .pcm(.discord)])
        boost.pcmInput().write { $0.update(repeating: -0.5) }
        try boost.tick()
        XCTAssertEqual(boost.pcmOutput().frame?.first, -1, "clipped to full scale")
        boost.endInput()
        try boost.tick()
        try boost.finish()
    }

    func testTheDefaultIsUnityGainAndOutOfRangeIsRefused() throws {
        let unity = try NodeHarness<Gain>(inputs: ["in": .pcm(.discord)])
        unity.pcmInput().write { $0.update(repeating: 0.3) }
        try unity.tick()
        XCTAssertEqual(unity.pcmOutput().frame?.first, 0.3)
        XCTAssertThrowsError(try NodeHarness<Gain>(params: ["db": "40"], inputs: ["in": .pcm(.discord)]))
    }
}
