import Foundation
import NIOCore
import NIOWebSocket
import Synchronization
import XCTest

@testable import Discord

/// Heartbeat rules in virtual time.
final class HeartbeatTests: XCTestCase {
    func testFirstBeatAfterJitteredIntervalThenEveryInterval() {
        var schedule = HeartbeatSchedule(helloAt: 1_000, intervalMillis: 40_000, jitter: 0.25)
        XCTAssertEqual(schedule.nextBeatAt, 1_000 + 10_000_000_000)
        XCTAssertEqual(schedule.due(now: 1_000 + 9_999_999_999), .none)
        XCTAssertEqual(schedule.due(now: 1_000 + 10_000_000_000), .sendHeartbeat)
        schedule.acknowledged(now: 1_000 + 10_050_000_000)
        XCTAssertEqual(schedule.latencyNanos, 50_000_000)
        XCTAssertEqual(schedule.nextBeatAt, 1_000 + 50_000_000_000)
        // A late timer does not shift the cadence.
        XCTAssertEqual(schedule.due(now: 1_000 + 50_300_000_000), .sendHeartbeat)
        XCTAssertEqual(schedule.nextBeatAt, 1_000 + 90_000_000_000)
    }

    func testNoAckBetweenTwoBeatsIsZombie() {
        var schedule = HeartbeatSchedule(helloAt: 0, intervalMillis: 1_000, jitter: 0)
        XCTAssertEqual(schedule.due(now: 0), .sendHeartbeat)
        XCTAssertEqual(schedule.due(now: 1_000_000_000), .zombie)
    }

    func testServerRequestCountsAsABeatAwaitingAck() {
        var schedule = HeartbeatSchedule(helloAt: 0, intervalMillis: 1_000, jitter: 0.5)
        schedule.serverRequested(now: 100)
        XCTAssertEqual(schedule.due(now: 500_000_000), .zombie, "the server's op 1 beat was never acknowledged")
        var acked = HeartbeatSchedule(helloAt: 0, intervalMillis: 1_000, jitter: 0.5)
        acked.serverRequested(now: 100)
        acked.acknowledged(now: 200)
        XCTAssertEqual(acked.due(now: 500_000_000), .sendHeartbeat)
    }

    /// The timer task driven by a manual scheduler: beats at jitter × interval, then each interval; a missing ACK
    /// stops the timer with `.zombie`.
    func testTimerInVirtualTime() async throws {
        let scheduler = ManualScheduler()
        let start = scheduler.manual.nowNanoseconds()
        let shared = SharedHeartbeat(HeartbeatSchedule(helloAt: start, intervalMillis: 1_000, jitter: 0.3))
        let actions = Mutex<[(HeartbeatSchedule.Action, UInt64)]>([])
        let ackEachBeat = Mutex(true)
        let timer = Task {
            await HeartbeatTimer.run(schedule: shared, scheduler: scheduler) { action in
                let now = scheduler.manual.nowNanoseconds()
                actions.withLock { $0.append((action, now - start)) }
                if action == .sendHeartbeat, ackEachBeat.withLock({ $0 }) { shared.acknowledged(now: now) }
                return action != .zombie
            }
        }
        func waitForSleeper() async {
            for _ in 0..<1_000 where scheduler.sleeperCount == 0 { await Task.yield() }
        }
        await waitForSleeper()
        scheduler.advance(milliseconds: 299)
        await waitForSleeper()
        XCTAssertEqual(actions.withLock { $0.count }, 0)
        scheduler.advance(milliseconds: 1)
        await waitForSleeper()
        scheduler.advance(milliseconds: 1_000)
        await waitForSleeper()
        ackEachBeat.withLock { $0 = false }
        scheduler.advance(milliseconds: 1_000)
        await waitForSleeper()
        scheduler.advance(milliseconds: 1_000)
        await timer.value
        let recorded = actions.withLock { $0 }
        XCTAssertEqual(recorded.map(\.0), [.sendHeartbeat, .sendHeartbeat, .sendHeartbeat, .zombie])
        XCTAssertEqual(recorded.map(\.1), [300_000_000, 1_300_000_000, 2_300_000_000, 3_300_000_000])
    }
}

final class SendBudgetTests: XCTestCase {
    func testOrdinarySendsWaitAfter110InAWindowHeartbeatsCount() {
        var budget = SendBudget()
        for index in 0..<108 {
            XCTAssertEqual(budget.delayBeforeSend(now: UInt64(index) * 1_000_000), 0)
            budget.record(now: UInt64(index) * 1_000_000)
        }
        // Two heartbeats (never delayed) fill the budget.
        budget.record(now: 200_000_000)
        budget.record(now: 300_000_000)
        XCTAssertEqual(budget.count(now: 300_000_000), 110)
        XCTAssertEqual(
            budget.delayBeforeSend(now: 1_000_000_000), 59_000_000_000,
            "the oldest send leaves the window at 60 s")
        XCTAssertEqual(budget.delayBeforeSend(now: 60_000_000_000), 0)
    }
}

final class GatewaySenderTests: XCTestCase {
    func testPayloadOver4096BytesIsRefusedBeforeSending() async throws {
        let (writer, sink) = NIOAsyncChannelOutboundWriter<WebSocketFrame>.makeTestingWriter()
        let sender = GatewaySender(outbound: writer, scheduler: SystemScheduler())
        do {
            try await sender.send(Array(repeating: UInt8(ascii: "x"), count: 4097))
            XCTFail("a 4097-byte payload was sent")
        } catch let error as DiscordError {
            XCTAssertEqual(error, .payloadTooLarge(bytes: 4097))
        }
        try await sender.send(Array(repeating: UInt8(ascii: "x"), count: 4096))
        writer.finish()
        var frames = 0
        for await frame in sink {
            XCTAssertEqual(frame.data.readableBytes, 4096)
            XCTAssertNotNil(frame.maskKey, "client frames are masked")
            frames += 1
        }
        XCTAssertEqual(frames, 1)
    }
}

final class IdentifyGateTests: XCTestCase {
    func limit(remaining: Int, concurrency: Int) -> GatewayBotInfo.SessionStartLimit {
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        return try! decoder.decode(
            GatewayBotInfo.SessionStartLimit.self,
            from: Data(
                """
                {"total": 1000, "remaining": \(remaining), "reset_after": 86400000, "max_concurrency": \(concurrency)}
                """.utf8))
    }

    /// One Identify per `max_concurrency` bucket per 5 s, in virtual time; a warning when few starts are left.
    func testPacingByMaxConcurrencyAndLowRemainingWarning() async throws {
        let scheduler = ManualScheduler()
        let log = CapturedLog()
        let gate = IdentifyGate(
            limit: limit(remaining: 12, concurrency: 2), scheduler: scheduler,
            logger: log.logger())
        let passed = SharedList()
        let tasks = (0..<4).map { shard in
            Task {
                try await gate.waitTurn(shardID: shard)
                passed.append(shard)
            }
        }
        for _ in 0..<2_000 where passed.values.count < 2 || scheduler.sleeperCount < 2 { await Task.yield() }
        XCTAssertEqual(Set(passed.values), [0, 1], "shards 0 and 1 use different buckets")
        scheduler.advance(milliseconds: 4_999)
        for _ in 0..<200 { await Task.yield() }
        XCTAssertEqual(passed.values.count, 2)
        scheduler.advance(milliseconds: 1)
        for task in tasks { try await task.value }
        XCTAssertEqual(Set(passed.values), [0, 1, 2, 3])
        XCTAssertTrue(log.text.contains("few Discord session starts left"), log.text)
    }
}

extension IdentifyGateTests {
    /// A turn whose connection failed before Hello is given back: the retry need not wait 5 s nor spend a start,
    /// unless another shard's turn in the bucket came after it.
    func testReleasedTurnIsGivenBackOnlyWhileNoLaterGrantDependsOnIt() async throws {
        let scheduler = ManualScheduler()
        let gate = IdentifyGate(
            limit: limit(remaining: 500, concurrency: 1), scheduler: scheduler, logger: CapturedLog().logger())
        try await gate.waitTurn(shardID: 0)
        await gate.release(shardID: 0)
        try await gate.waitTurn(shardID: 0)  // immediate: would wait 5 s in virtual time without the release
        let second = Task { try await gate.waitTurn(shardID: 1) }
        for _ in 0..<2_000 where scheduler.sleeperCount == 0 { await Task.yield() }
        XCTAssertEqual(scheduler.sleeperCount, 1, "shard 1 waits for the bucket's next slot")
        await gate.release(shardID: 0)
        let third = Task { try await gate.waitTurn(shardID: 2) }
        for _ in 0..<2_000 where scheduler.sleeperCount < 2 { await Task.yield() }
        XCTAssertEqual(scheduler.sleeperCount, 2, "shard 0's release did not free the slot shard 1 holds")
        scheduler.advance(milliseconds: 5_000)
        try await second.value
        scheduler.advance(milliseconds: 5_000)
        try await third.value
    }
}

final class SharedList: Sendable {
    private let list = Mutex<[Int]>([])
    func append(_ value: Int) { list.withLock { $0.append(value) } }
    var values: [Int] { list.withLock { $0 } }
}
