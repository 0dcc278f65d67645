import Foundation
import Realtime
import XCTest

@testable import RouterCore

/// `Session.run(realtime: true)`: absolute-deadline pacing and stopping from another thread. These use the wall clock,
/// so tolerances allow for a loaded machine; each run is about half a second.
final class RealtimeTests: XCTestCase {
    private func session(_ passParams: String = "") throws -> Session {
        let yaml =
            "nodes:\n  src: {type: TestSource, frames: 0}\n  pass: {type: TestPass\(passParams)}\n  sink: {type: TestSink}\nlinks: [src -> pass -> sink]\n"
        return Session(graph: try Graph(try validate(yaml).get()))
    }

    private func seconds(_ body: () -> Void) -> Double {
        let t0 = SystemClock.now()
        body()
        return Double(SystemClock.now() - t0) / 1e9
    }

    /// n ticks take (n - 1) × 20 ms: the first runs at once, then each waits for its deadline.
    func testPacesTicksAt20Milliseconds() throws {
        let s = try session()
        var outcome: SessionOutcome?
        let elapsed = seconds { outcome = s.run(realtime: true, maxTicks: 25) }
        XCTAssertEqual(outcome, .stopped)
        XCTAssertEqual(s.tickIndex, 25)
        XCTAssertEqual(elapsed, 0.480, accuracy: 0.060, "25 ticks ≈ 24 × 20 ms")
        XCTAssertLessThanOrEqual(s.lateTicks, 2, "on time, give or take a scheduling hiccup")
    }

    /// A slow tick makes later ticks catch up instead of shifting every deadline after it.
    func testASlowTickDoesNotShiftLaterDeadlines() throws {
        let s = try session(", slow_tick: 3, slow_ms: 150")
        var outcome: SessionOutcome?
        let elapsed = seconds { outcome = s.run(realtime: true, maxTicks: 25) }
        XCTAssertEqual(outcome, .stopped)
        // Deadlines re-based on "now" would end near 0.48 + 0.15 = 0.63 s.
        XCTAssertEqual(elapsed, 0.480, accuracy: 0.070)
        XCTAssertLessThan(elapsed, 0.58)
        XCTAssertGreaterThanOrEqual(s.lateTicks, 5, "the slow tick and the ones run back to back after it were late")
        XCTAssertLessThanOrEqual(s.lateTicks, 12)
    }

    func testFastRunDoesNotSleep() throws {
        let s = try session()
        let elapsed = seconds { _ = s.run(realtime: false, maxTicks: 200) }
        XCTAssertEqual(s.tickIndex, 200)
        XCTAssertLessThan(elapsed, 1.0, "200 ticks in real time would take 4 s")
    }

    func testRequestStopFromAnotherThread() throws {
        let s = try session()
        let stopper = Thread {
            usleep(150_000)
            s.requestStop()
        }
        var outcome: SessionOutcome?
        let elapsed = seconds {
            stopper.start()
            outcome = s.run(realtime: true)
        }
        XCTAssertEqual(outcome, .stopped)
        XCTAssertEqual(elapsed, 0.15, accuracy: 0.08)
        XCTAssertEqual(Double(s.tickIndex), 8, accuracy: 3, "about 150 ms of 20 ms ticks")
        let nodes = ["src", "pass", "sink"].map { s.graph.node(named: $0) }
        XCTAssertEqual((nodes[0] as? TestSource)?.stopCount, 1)
        XCTAssertEqual((nodes[1] as? TestPass)?.stopCount, 1)
        XCTAssertEqual((nodes[2] as? TestSink)?.stopCount, 1)
    }

    func testRunOnThreadFromAsyncCode() async throws {
        let s = try session()
        let outcome = await s.runOnThread(realtime: true, maxTicks: 5)
        XCTAssertEqual(outcome, .stopped)
        XCTAssertEqual(s.tickIndex, 5)
    }

    func testSleepUntilAnAbsoluteDeadline() {
        let start = SystemClock.now()
        sleepUntil(start + 30_000_000)
        let waited = SystemClock.now() - start
        XCTAssertGreaterThanOrEqual(waited, 30_000_000)
        XCTAssertLessThan(waited, 80_000_000)
        let again = SystemClock.now()
        sleepUntil(start)  // in the past: returns at once
        XCTAssertLessThan(SystemClock.now() - again, 10_000_000)
    }
}
