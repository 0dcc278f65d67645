import Foundation
import RouterCore
import Synchronization
import XCTest

/// The router log from the audio thread: lines are queued (the thread never waits), written in order, all flushed
/// when the session's scope ends, and a full queue drops lines with a count instead of blocking.
final class LogQueueTests: XCTestCase {
    final class Lines: Sendable {
        private let all = Mutex<[String]>([])
        func append(_ line: String) { all.withLock { $0.append(line) } }
        var snapshot: [String] { all.withLock { $0 } }
    }

    func testQueuedLinesAreAllWrittenInOrderWhenTheScopeEnds() {
        let log = RouterLog(queueCapacity: 64)
        let lines = Lines()
        log.setSink { lines.append($0) }
        log.queueingLines {
            for i in 0..<50 { log.log(.info, "audio", "line \(i)") }
        }
        XCTAssertEqual(lines.snapshot, (0..<50).map { "[info] audio: line \($0)" })
        XCTAssertEqual(log.droppedLines, 0)
    }

    /// While the writer is stuck in a slow sink, the audio thread keeps going: 64 lines fit in the queue, the rest are
    /// dropped and counted, and the count is reported when the scope ends.
    func testAFullQueueDropsAndCountsInsteadOfWaiting() {
        let log = RouterLog(queueCapacity: 64)
        let lines = Lines()
        let inSink = DispatchSemaphore(value: 0), release = DispatchSemaphore(value: 0)
        log.setSink { line in
            if line == "[info] audio: line 0" {
                inSink.signal()
                release.wait()
            }
            lines.append(line)
        }
        var elapsed = 0.0
        log.queueingLines {
            log.log(.info, "audio", "line 0")
            inSink.wait()  // the writer thread now holds the log, blocked in the sink
            let start = Date()
            for i in 1...200 { log.log(.info, "audio", "line \(i)") }
            elapsed = Date().timeIntervalSince(start)
            release.signal()
        }
        XCTAssertLessThan(elapsed, 0.5, "logging never waited for the blocked writer")
        XCTAssertEqual(log.droppedLines, 136)
        XCTAssertEqual(
            lines.snapshot,
            (0...64).map { "[info] audio: line \($0)" }
                + ["[warning] log: 136 line(s) dropped: the audio thread's log queue was full"])
    }

    /// A line written directly by another thread comes after the lines the audio thread queued before it.
    func testDirectLinesFollowQueuedOnes() {
        let log = RouterLog(queueCapacity: 64)
        let lines = Lines()
        log.setSink { lines.append($0) }
        let queued = DispatchSemaphore(value: 0), done = DispatchSemaphore(value: 0)
        Thread {
            log.queueingLines {
                for i in 0..<20 { log.log(.info, "audio", "line \(i)") }
                queued.signal()
                done.wait()
            }
        }.start()
        queued.wait()
        log.log(.warning, "main", "direct")
        XCTAssertEqual(lines.snapshot, (0..<20).map { "[info] audio: line \($0)" } + ["[warning] main: direct"])
        done.signal()
    }

    /// Below the minimum level nothing is queued or written.
    func testLevelFiltersQueuedLines() {
        let log = RouterLog(queueCapacity: 8)
        let lines = Lines()
        log.setSink { lines.append($0) }
        log.level = .warning
        log.queueingLines {
            for _ in 0..<100 { log.log(.info, "audio", "chatter") }
            log.log(.error, "audio", "kept")
        }
        XCTAssertEqual(lines.snapshot, ["[error] audio: kept"])
        XCTAssertEqual(log.droppedLines, 0)
    }
}
