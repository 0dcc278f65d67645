import CAllocCounter
import DiscordVoice
import Nodes
import Realtime
import RouterCore
import XCTest

/// DiscordOut's encode-and-queue path in steady state allocates no more per tick than Gain, the reference node whose
/// release build router-bench measures at zero (a debug build adds its own allocations to both alike).
final class DiscordAllocationTests: XCTestCase {
    override func setUp() { quietLog(self) }

    /// Allocations on this thread during 500 calls of `body`, after 50 to warm up.
    private func allocationsPer500(_ body: (Int) throws -> Void) rethrows -> UInt64 {
        for k in 0..<50 { try body(k) }
        let before = alloc_counter_thread(alloc_counter_gettid())
        for k in 50..<550 { try body(k) }
        return alloc_counter_thread(alloc_counter_gettid()) - before
    }

    func testDiscordOutAllocatesNoMoreThanTheReferenceNode() throws {
        try XCTSkipUnless(alloc_counter_active() == 1, "allocation counter not linked")
        let queue = VoiceSendQueue()
        var resources = SessionResources()
        resources.insert(queue)
        let out = try NodeHarness<DiscordOut>(inputs: ["in": .pcm(.discord)], resources: resources)
        let gain = try NodeHarness<Gain>(inputs: ["in": .pcm(.discord)])
        let speech = Signal.speechLike(rate: 48_000, frames: 48_000, channels: 2)
        func feed(_ lane: PCMLane, _ k: Int) {
            speech.withUnsafeBufferPointer { src in
                lane.write { $0.update(fromContentsOf: src[(k % 49 * 1_920)..<(k % 49 * 1_920 + 1_920)]) }
            }
        }
        let reference = try allocationsPer500 { k in
            feed(gain.pcmInput(), k)
            try gain.tick()
        }
        let discord = try allocationsPer500 { k in
            feed(out.pcmInput(), k)
            try out.tick()
            queue.frames.drain { _ in }
        }
        XCTAssertLessThanOrEqual(discord, reference, "allocations in 500 ticks (Gain: \(reference))")
        XCTAssertEqual(out.node.framesSent, 550)
    }
}

extension DiscordAllocationTests {
    /// Three speakers through DiscordIn's jitter buffers and decoders: its ticks allocate no more than Gain's.
    func testDiscordInAllocatesNoMoreThanTheReferenceNode() throws {
        try XCTSkipUnless(alloc_counter_active() == 1, "allocation counter not linked")
        let queue = VoiceReceiveQueue()
        var resources = SessionResources()
        resources.insert(queue)
        let h = try NodeHarness<DiscordIn>(params: ["rate": "24000", "channels": "1"], resources: resources)
        let gain = try NodeHarness<Gain>(inputs: ["in": .pcm(.discord)])
        let packets = try OpusTalk.speech(seconds: 2)
        var inTicks: UInt64 = 0, inGain: UInt64 = 0
        func counted(_ body: () throws -> Void) rethrows -> UInt64 {
            let before = alloc_counter_thread(alloc_counter_gettid())
            try body()
            return alloc_counter_thread(alloc_counter_gettid()) - before
        }
        for k in 0..<600 {
            for user in UInt64(1)...3 {  // the network side (not counted)
                let header = RTPHeader(sequence: UInt16(k), timestamp: UInt32(k * 960), ssrc: UInt32(user))
                packets[k % packets.count].withUnsafeBytes {
                    _ = queue.push(userID: user, header: header, arrival: h.clock.nowNanoseconds(), opus: $0)
                }
            }
            gain.pcmInput().writeSilence()
            let (a, b) = (try counted { try h.tick() }, try counted { try gain.tick() })
            if k >= 100 { (inTicks, inGain) = (inTicks + a, inGain + b) }
            h.clock.advance(nanoseconds: Tick.nanoseconds)
        }
        XCTAssertEqual(h.streamsOutput().count, 3)
        XCTAssertLessThanOrEqual(inTicks, inGain, "allocations in 500 ticks (Gain: \(inGain))")
    }
}
