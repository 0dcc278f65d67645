import NIOCore
import Realtime
import XCTest

@testable import PersonaPlex

/// The client's timers and state machine in virtual time: the real pipeline on an `EmbeddedEventLoop` against a
/// server played by the test (`EmbeddedServer`), with a `ManualClock`. No socket, no sleep.
final class VirtualTimeTests: XCTestCase {
    /// A port of its own per test: the process-wide registry of open sessions is keyed by authority.
    private static let ports = Locked(47_000)
    private func server(_ configure: (inout PersonaPlexConfiguration) -> Void = { _ in }) -> EmbeddedServer {
        EmbeddedServer(
            port: Self.ports.withLock {
                $0 += 1
                return $0
            }, configure: configure)
    }

    /// Silence after the upgrade is reported as "busy or warming up" at `waitingNotice` (12 s by default), not a
    /// millisecond earlier; `0x00` then makes the session live, and the tick thread reads the same state sequence
    /// from the client's ring as `onStateChange` saw.
    func testBusyNoticeComesAtTwelveSecondsThenHandshakeGoesLive() throws {
        let server = server()
        let connected = try server.connectAndUpgrade()
        XCTAssertEqual(server.client.state, .upgraded)
        server.advance(milliseconds: 11_999)
        XCTAssertEqual(server.client.state, .upgraded)
        XCTAssertEqual(server.client.send(audio: [0x4F]), .notLive)
        server.advance(milliseconds: 1)
        XCTAssertEqual(server.client.state, .waitingForServer(.serverBusyOrWarmingUp))
        try server.sendServerMessage(kind: 0x00)
        XCTAssertEqual(server.client.state, .live)
        XCTAssertNoThrow(try XCTUnwrap(server.outcome(connected), "connect pending").get())
        let expected: [PersonaPlexState] = [.connecting, .upgraded, .waitingForServer(.serverBusyOrWarmingUp), .live]
        XCTAssertEqual(server.recorder.states.current, expected)
        XCTAssertEqual(server.drainedStates(), expected)
        XCTAssertEqual(server.drainedStates(), [], "a state change is read once")
        XCTAssertEqual(server.client.counters.sendsWhileNotLive, 1)
    }

    /// No `0x00` within `handshake_timeout` (60 s by default) fails the session at exactly that time, and the
    /// connect future fails with the same error.
    func testHandshakeTimeoutFiresAtSixtySecondsOfVirtualTime() throws {
        let server = server()
        let connected = try server.connectAndUpgrade()
        server.advance(milliseconds: 59_999)
        XCTAssertEqual(server.client.state, .waitingForServer(.serverBusyOrWarmingUp))
        server.advance(milliseconds: 1)
        XCTAssertEqual(server.client.state, .failed(.handshakeTimeout(seconds: 60)))
        XCTAssertThrowsError(try XCTUnwrap(server.outcome(connected), "connect pending").get()) { error in
            XCTAssertEqual(error as? PersonaPlexError, .handshakeTimeout(seconds: 60))
        }
        XCTAssertFalse(try server.channel.isActive, "the socket is closed, releasing the server's lock")
        XCTAssertEqual(server.drainedStates().last, .failed(.handshakeTimeout(seconds: 60)))
    }

    /// A handshake timeout set shorter than the busy notice fails the session before any notice.
    func testShortHandshakeTimeoutFailsBeforeTheBusyNotice() throws {
        let server = server { $0.handshakeTimeout = 5 }
        _ = try server.connectAndUpgrade()
        server.advance(milliseconds: 4_999)
        XCTAssertEqual(server.client.state, .upgraded)
        server.advance(milliseconds: 1)
        XCTAssertEqual(
            server.recorder.states.current, [.connecting, .upgraded, .failed(.handshakeTimeout(seconds: 5))])
    }

    /// A live session whose server went quiet fails with `serverSilent` once audio was written `silence_timeout`
    /// after the last server message — measured on the injected clock — and not while the server still talks.
    func testSilentServerFailsTheSessionOnTheInjectedClock() throws {
        let server = server { $0.silenceTimeout = 10 }
        _ = try server.connectAndUpgrade()
        try server.sendServerMessage(kind: 0x00)
        XCTAssertEqual(server.client.state, .live)
        let page: [UInt8] = Array("OggS".utf8) + [UInt8](repeating: 7, count: 40)

        // 9 s after the last server message: still fine.
        server.advance(milliseconds: 9_000)
        XCTAssertEqual(server.client.send(audio: page), .queued)
        server.loop.run()
        let frame = try server.readOutboundBytes()
        XCTAssertEqual(frame.count, 2 + 4 + 1 + page.count, "one masked binary frame: header, key, kind, page")
        XCTAssertEqual(frame.first, 0x82)
        server.advance(milliseconds: 1_000)
        XCTAssertEqual(server.client.state, .live)

        // 11 s after the last server message (the page above is acknowledged once NIO let go of it).
        server.advance(milliseconds: 1_000)
        XCTAssertEqual(server.client.send(audio: page), .queued)
        server.loop.run()
        _ = try server.readOutboundBytes()
        server.advance(milliseconds: 1_000)
        XCTAssertEqual(server.client.state, .failed(.serverSilent(seconds: 10)))
        XCTAssertEqual(server.client.counters.audioSent, 2)
        var timings: [PersonaPlexSendTiming] = []
        server.client.drainSendTimings(into: &timings)
        XCTAssertEqual(timings.count, 2)
        XCTAssertTrue(timings.allSatisfy { $0.writtenAtNanos >= $0.requestedAtNanos })
    }

    /// Received pages cross to the tick thread through the inbox ring with their receive stamps from the clock;
    /// a close while live sends the close frame and ends `closed` once the server answers with its own.
    func testReceivedPagesCarryClockStampsAndCloseWaitsForTheServersCloseFrame() throws {
        let server = server()
        _ = try server.connectAndUpgrade()
        try server.sendServerMessage(kind: 0x00)
        server.advance(milliseconds: 80)
        let stamp = server.clock.nowNanoseconds()
        try server.sendServerMessage(kind: 0x01, payload: Array("OggS".utf8))
        try server.sendServerMessage(kind: 0x02, payload: Array(" Hi".utf8))
        var received: [(PersonaPlexMessage.Kind, [UInt8], UInt64)] = []
        XCTAssertEqual(server.client.drainReceived { received.append(($0, Array($1), $2)) }, 2)
        XCTAssertEqual(received.map(\.0), [.audio, .text])
        XCTAssertEqual(received.map(\.1), [Array("OggS".utf8), Array(" Hi".utf8)])
        XCTAssertEqual(received.map(\.2), [stamp, stamp])

        let closed = server.client.startClosing()
        server.loop.run()
        XCTAssertEqual(server.client.state, .closing)
        XCTAssertEqual(server.client.send(audio: [1]), .notLive)
        XCTAssertEqual(try server.readOutboundBytes().first, 0x88, "a close frame")
        XCTAssertNil(server.outcome(closed), "closing waits for the server's close frame")
        try server.sendServerFrame(opcode: 0x8, [0x03, 0xE8])
        XCTAssertNoThrow(try XCTUnwrap(server.outcome(closed), "close pending").get())
        XCTAssertEqual(server.client.state, .closed)
        XCTAssertEqual(server.drainedStates(), [.connecting, .upgraded, .live, .closing, .closed])
    }

    /// Without the server's close frame, a close while live drops the socket after `closeGracePeriod`.
    func testCloseGivesUpOnTheServerAfterTheGracePeriod() throws {
        let server = server()
        _ = try server.connectAndUpgrade()
        try server.sendServerMessage(kind: 0x00)
        let closed = server.client.startClosing()
        server.advance(milliseconds: 999)
        XCTAssertEqual(server.client.state, .closing)
        server.advance(milliseconds: 1)
        XCTAssertNotNil(server.outcome(closed))
        XCTAssertEqual(server.client.state, .closed)
    }

    /// With a `sendPeriod` (the router's tick), the first page wakes the loop and later pages do not: the loop drains
    /// `sendDrainDelay` after each batch's stamp on its own timer. When the sender is late, the empty drain hands the
    /// wake-up back, and the late page is written at once.
    func testPeriodicSenderIsDrainedOnItsScheduleWithoutWakingTheLoop() throws {
        let server = server {
            $0.sendPeriod = 0.02
            $0.sendDrainDelay = 0.001
        }
        _ = try server.connectAndUpgrade()
        try server.sendServerMessage(kind: 0x00)
        let page: [UInt8] = Array("OggS".utf8) + [UInt8](repeating: 1, count: 20)
        func send() -> PersonaPlexSendResult {
            page.withUnsafeBytes { server.client.send(audio: $0, originNanos: server.clock.nowNanoseconds()) }
        }

        // (The test thread is the embedded loop's thread, so a wake-up drains inline: a written page shows it.)
        XCTAssertEqual(send(), .queued)
        server.loop.run()
        XCTAssertEqual(try server.readOutboundBytes().count, 2 + 4 + 1 + page.count, "the first page wakes the loop")
        XCTAssertTrue(server.client.drainArmed.load(ordering: .relaxed))

        // One page every 20 ms, each drained 1 ms after its stamp by the loop's own timer.
        for batch in 1...3 {
            server.advance(milliseconds: batch == 1 ? 20 : 19)
            XCTAssertEqual(send(), .queued)
            server.loop.run()
            XCTAssertEqual(try server.readOutboundBytes(), [], "no wake-up: the page waits for the armed drain")
            server.advance(milliseconds: 1)
            XCTAssertEqual(try server.readOutboundBytes().count, 2 + 4 + 1 + page.count, "drained 1 ms after its stamp")
        }

        // The sender is late: the armed drain finds nothing and the flag comes down, so the late page wakes the loop.
        server.advance(milliseconds: 19)
        XCTAssertTrue(server.client.drainArmed.load(ordering: .relaxed))
        XCTAssertEqual(server.client.counters.emptyDrains, 0)
        server.advance(milliseconds: 1)
        XCTAssertFalse(server.client.drainArmed.load(ordering: .relaxed))
        XCTAssertEqual(server.client.counters.emptyDrains, 1)
        XCTAssertEqual(send(), .queued)
        server.loop.run()
        XCTAssertEqual(try server.readOutboundBytes().count, 2 + 4 + 1 + page.count, "written at once when late")
        server.advance(milliseconds: 2)
        XCTAssertEqual(server.client.counters.audioSent, 5)
        XCTAssertEqual(server.client.counters.sendFailures, 0)
    }

    /// A sender with batches (the router's tick) queues pages with `enqueue` and wakes the loop once per batch with
    /// `wakeIfQueued()`: queued pages wait for it, a batch of several pages costs one wake-up, and a batch without
    /// pages costs none.
    func testEnqueuedPagesWaitForOneWakeUpPerBatchAndEmptyBatchesWakeNothing() throws {
        let server = server()
        _ = try server.connectAndUpgrade()
        try server.sendServerMessage(kind: 0x00)
        let page: [UInt8] = Array("OggS".utf8) + [UInt8](repeating: 3, count: 30)
        let frameBytes = 2 + 4 + 1 + page.count
        XCTAssertFalse(server.client.wakeIfQueued(), "nothing queued yet")

        // (The test thread is the embedded loop's thread, so a wake-up drains inline: a written page shows it.)
        var wakeUps = 0, pagesSent = 0
        for (tick, pages) in [2, 0, 1, 3, 0, 0, 1].enumerated() {
            for _ in 0..<pages {
                let result = page.withUnsafeBytes {
                    server.client.enqueue(audio: $0, originNanos: server.clock.nowNanoseconds())
                }
                XCTAssertEqual(result, .queued)
            }
            server.loop.run()
            XCTAssertEqual(try server.readOutboundBytes(), [], "tick \(tick): queued pages wait for the wake-up")
            XCTAssertEqual(server.client.wakeIfQueued(), pages > 0, "tick \(tick): a wake-up only for pages")
            XCTAssertFalse(server.client.wakeIfQueued(), "tick \(tick): one wake-up per batch")
            server.loop.run()
            XCTAssertEqual(try server.readOutboundBytes().count, pages * frameBytes, "tick \(tick): the whole batch")
            wakeUps += pages > 0 ? 1 : 0
            pagesSent += pages
            XCTAssertEqual(server.client.counters.wakeUps, wakeUps, "tick \(tick)")
            server.advance(milliseconds: 20)
        }
        XCTAssertEqual(server.client.counters.audioSent, pagesSent)
        XCTAssertEqual(server.client.counters.sendFailures, 0)

        // `send(audio:)` is `enqueue` plus the wake-up: one per call.
        XCTAssertEqual(server.client.send(audio: page), .queued)
        server.loop.run()
        XCTAssertEqual(try server.readOutboundBytes().count, frameBytes)
        XCTAssertEqual(server.client.counters.wakeUps, wakeUps + 1)
        XCTAssertFalse(server.client.wakeIfQueued(), "send(audio:) woke the loop already")
    }

    /// The transition table: the documented order holds, final states never change, and skipping a step is refused.
    func testTransitionTableAllowsOnlyTheDocumentedOrder() {
        let order: [PersonaPlexState] = [
            .idle, .connecting, .waitingForServer(.heldByThisProcess), .upgraded,
            .waitingForServer(.serverBusyOrWarmingUp), .live, .closing, .closed,
        ]
        for (from, to) in zip(order, order.dropFirst()) { XCTAssertTrue(from.canMove(to: to), "\(from) -> \(to)") }
        XCTAssertFalse(PersonaPlexState.idle.canMove(to: .live))
        XCTAssertFalse(PersonaPlexState.connecting.canMove(to: .live), "no audio before the upgrade")
        XCTAssertFalse(PersonaPlexState.live.canMove(to: .upgraded))
        XCTAssertFalse(PersonaPlexState.closing.canMove(to: .live))
        XCTAssertTrue(PersonaPlexState.live.canMove(to: .failed(.serverSilent(seconds: 1))))
        for final in [PersonaPlexState.closed, .failed(.cancelled)] {
            for next in order + [.failed(.cancelled)] { XCTAssertFalse(final.canMove(to: next), "\(final) -> \(next)") }
        }
    }
}
