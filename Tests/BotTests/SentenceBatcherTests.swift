import Bot
import XCTest

final class SentenceBatcherTests: XCTestCase {
    let second: UInt64 = 1_000_000_000

    func testFirstSentenceGoesAtOnceThenBatchedPerInterval() {
        var batcher = SentenceBatcher(minimumInterval: second, maximumLength: 100)
        batcher.add("Hello there.")
        XCTAssertEqual(batcher.take(now: 5 * second), "Hello there.")
        batcher.add("How are you?")
        batcher.add("  ")
        batcher.add("Nice day.")
        XCTAssertNil(batcher.take(now: 5 * second + second / 2), "rate limited")
        XCTAssertEqual(batcher.nextDeadline(), 6 * second)
        XCTAssertEqual(batcher.take(now: 6 * second), "How are you? Nice day.")
        XCTAssertTrue(batcher.isEmpty)
        XCTAssertNil(batcher.nextDeadline())
    }

    func testMessagesStayUnderTheLength() {
        var batcher = SentenceBatcher(minimumInterval: 0, maximumLength: 20)
        batcher.add("one two three four five six seven")
        batcher.add("eight")
        var messages: [String] = []
        var now: UInt64 = 0
        while let message = batcher.take(now: now) {
            messages.append(message)
            now += 1
        }
        XCTAssertTrue(messages.allSatisfy { $0.count <= 20 }, "\(messages)")
        XCTAssertEqual(messages.joined(separator: " ").split(separator: " ").count, 8)
    }
}
