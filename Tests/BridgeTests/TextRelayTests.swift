import Foundation
import Nodes
import RouterCore
import XCTest

/// TextRelay on virtual time: one tick is 20 ms, so a 1.2 s pause is 60 ticks.
final class TextRelayTests: BridgeTestCase {
    private func relay(_ params: [String: String] = [:]) throws -> NodeHarness<TextRelay> {
        try NodeHarness<TextRelay>(
            params: ["timestamps": "false"].merging(params) { $1 }, inputs: ["in": MediaFormat(.text)])
    }

    /// Feeds one piece per tick, then returns the sentences the out port carried during those ticks.
    @discardableResult
    private func feed(_ harness: NodeHarness<TextRelay>, _ pieces: [String]) throws -> [String] {
        var out: [String] = []
        for piece in pieces {
            harness.packetInput().append(Array(piece.utf8))
            try harness.tick()
            out += sentences(harness)
        }
        return out
    }

    private func sentences(_ harness: NodeHarness<TextRelay>) -> [String] {
        let lane = harness.packetOutput()
        return (0..<lane.count).map { String(decoding: lane[$0], as: UTF8.self) }
    }

    func testFlushesOnSentenceEndingPunctuationAndTrims() throws {
        let h = try relay()
        let out = try feed(h, [" Hello", " there", ".", " Is", " it", " you", "?", " Yes", "!", " Next"])
        XCTAssertEqual(out, ["Hello there.", "Is it you?", "Yes!"])
        XCTAssertEqual(h.node.sentences, ["Hello there.", "Is it you?", "Yes!"])
    }

    func testFlushesAfterAPauseWithoutPieces() throws {
        let h = try relay()
        try feed(h, [" Hmm", " well"])
        for _ in 0..<59 {
            try h.tick()
            XCTAssertEqual(sentences(h), [], "flushed before 1.2 s without a piece")
        }
        try h.tick()
        XCTAssertEqual(sentences(h), ["Hmm well"], "flushed 1.2 s (60 ticks) after the last piece")
        let custom = try relay(["flush_after": "200ms"])
        try feed(custom, [" Short"])
        for _ in 0..<9 { try custom.tick() }
        XCTAssertEqual(custom.node.sentences, [])
        try custom.tick()
        XCTAssertEqual(custom.node.sentences, ["Short"])
    }

    /// Pieces that never end a sentence nor pause (a hostile or broken server) are delivered in bounded sentences.
    func testEndlessSentenceIsDeliveredInBoundedPieces() throws {
        let h = try relay()
        let piece = " " + String(repeating: "a", count: 99)
        let out = try feed(h, Array(repeating: piece, count: 100))
        XCTAssertEqual(out.count, 2, "100 pieces of 100 bytes: flushed at 4096 bytes, twice")
        XCTAssertTrue(out.allSatisfy { $0.utf8.count >= TextRelay.maxSentenceBytes - 100 && $0.utf8.count <= 4200 })
        try feed(h, ["."])
        XCTAssertEqual(h.node.sentences.count, 3, "the rest is still delivered when the sentence ends")
    }

    func testDropsMarkupPieces() throws {
        let h = try relay()
        let out = try feed(h, ["<s>", " Good", "<0xE2>", " day", " </s>", "."])
        XCTAssertEqual(out, ["Good day."])
    }

    func testFileSinkAppendsOneLinePerSentenceWithPrefixAndTimestamps() throws {
        let path = "\(dir!)/sub/captions.txt"
        let h = try relay(["sink": "file", "path": path, "timestamps": "true", "prefix": "AI: "])
        for _ in 0..<150 { try h.tick() }  // 3 s of silence first: the stamp is the sentence's start
        try feed(h, [" One", " two."])
        try feed(h, [" Three."])
        try h.finish()
        let text = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertEqual(text, "[00:03.00] AI: One two.\n[00:03.04] AI: Three.\n")
    }

    func testLogSinkLogsEachSentence() throws {
        let lines = LineCollector()
        RouterLog.shared.setSink { lines.append(Data(($0 + "\n").utf8)) }
        defer { RouterLog.shared.setSink { FileHandle.standardError.write(Data(($0 + "\n").utf8)) } }
        let h = try relay(["sink": "log"])
        try feed(h, [" Logged", " line."])
        XCTAssertEqual(lines.all.filter { $0.contains("Logged") }, ["[info] textrelay: Logged line."])
        let quiet = try relay(["sink": "none"])
        try feed(quiet, [" Not", " logged."])
        XCTAssertEqual(quiet.node.sentences, ["Not logged."])
        XCTAssertTrue(lines.all.allSatisfy { !$0.contains("Not logged") })
    }

    func testEndOfInputFlushesTheRest() throws {
        let h = try relay()
        try feed(h, [" Unfinished"])
        h.endInput()
        try h.tick()
        XCTAssertEqual(sentences(h), ["Unfinished"])
    }
}
