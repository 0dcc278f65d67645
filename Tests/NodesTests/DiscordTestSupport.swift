import Codecs
import DiscordVoice
import Nodes
import Realtime
import RouterCore
import XCTest

/// A Discord client's microphone: a signal encoded to 20 ms 48 kHz stereo Opus packets with libopus.
enum OpusTalk {
    /// Packets of `seconds` of the speech-like signal.
    static func speech(seconds: Double) throws -> [[UInt8]] {
        try encode(Signal.speechLike(rate: 48_000, frames: Int(seconds * 48_000), channels: 2))
    }

    /// Packets of `seconds` of a sine tone (speakers told apart by their frequency).
    static func tone(_ frequency: Double, seconds: Double) throws -> [[UInt8]] {
        try encode(Signal.tone(frequency, rate: 48_000, frames: Int(seconds * 48_000), channels: 2, amplitude: 0.3))
    }

    /// Packets of a stereo 48 kHz signal, zero-padded to whole 20 ms frames.
    static func encode(_ stereo: [Float], bitrate: Int = 64_000) throws -> [[UInt8]] {
        let encoder = try OpusEncoder(sampleRate: 48_000, channels: 2, application: .audio, bitrate: bitrate)
        var room = [UInt8](repeating: 0, count: OpusEncoder.maxPacketBytes)
        return try frames(of: stereo, samplesPerFrame: 1_920).map { frame in
            let n = try frame.withUnsafeBufferPointer { pcm in
                try room.withUnsafeMutableBytes { try encoder.encode(pcm, into: $0) }
            }
            return Array(room[0..<n])
        }
    }
}

/// Drives DiscordIn on virtual time the way a voice connection feeds it: packets scheduled with arrival times are
/// pushed into the receive queue before the first tick at or after their arrival; the clock moves 20 ms per tick.
/// Records every stream's frames and every event.
final class DiscordInRig {
    struct Packet {
        var arrival: UInt64
        var userID: UInt64
        var header: RTPHeader
        var opus: [UInt8]
    }

    let queue = VoiceReceiveQueue(capacity: 1_024)
    let harness: NodeHarness<DiscordIn>
    private var scheduled: [Packet] = []
    /// Frames per user id, in tick order, and the ticks they were present in.
    private(set) var streams: [UInt64: [[Float]]] = [:]
    private(set) var presentTicks: [UInt64: [Int64]] = [:]
    private(set) var events: [GraphEvent] = []

    init(params: [String: String] = [:]) throws {
        var resources = SessionResources()
        resources.insert(queue)
        harness = try NodeHarness<DiscordIn>(params: params, resources: resources)
    }

    var node: DiscordIn { harness.node }
    var now: UInt64 { harness.clock.nowNanoseconds() }
    var tickIndex: Int64 { harness.tickIndex }

    /// Schedules `packets` from `userID` sent one per 20 ms from `start` (default: now), each arriving after
    /// `delay(index)` more (nil: lost). Sequence numbers and timestamps start at `sequence` / `timestamp`.
    func talk(
        _ packets: [[UInt8]], userID: UInt64, ssrc: UInt32, from start: UInt64? = nil, sequence: UInt16 = 1_000,
        timestamp: UInt32 = 50_000, delay: (Int) -> [UInt64] = { _ in [0] }
    ) {
        let t0 = start ?? now
        for (k, opus) in packets.enumerated() {
            let header = RTPHeader(
                sequence: sequence &+ UInt16(truncatingIfNeeded: k),
                timestamp: timestamp &+ UInt32(truncatingIfNeeded: k) &* 960, ssrc: ssrc)
            for d in delay(k) {
                scheduled.append(
                    Packet(arrival: t0 + UInt64(k) * Tick.nanoseconds + d, userID: userID, header: header, opus: opus))
            }
        }
        scheduled.sort { $0.arrival < $1.arrival }
    }

    func speakerEvent(_ event: VoiceSpeakerEvent) { queue.events.push(event) }

    /// Runs `count` ticks: delivers the packets due, ticks, records the outputs, advances the clock 20 ms.
    func tick(_ count: Int = 1) throws {
        for _ in 0..<count {
            while let first = scheduled.first, first.arrival <= now {
                scheduled.removeFirst()
                first.opus.withUnsafeBytes {
                    _ = queue.push(userID: first.userID, header: first.header, arrival: first.arrival, opus: $0)
                }
            }
            let index = harness.tickIndex
            try harness.tick()
            let lane = harness.streamsOutput()
            for i in 0..<lane.count {
                streams[lane.id(at: i), default: []].append(Array(lane.frame(at: i)))
                presentTicks[lane.id(at: i), default: []].append(index)
            }
            events += harness.eventOutput("events").events
            harness.clock.advance(nanoseconds: Tick.nanoseconds)
        }
    }

    /// One user's output as one interleaved signal.
    func signal(of userID: UInt64) -> [Float] { (streams[userID] ?? []).flatMap { $0 } }

    /// True when `userID` had a frame in every tick from their first to their last.
    func isContinuous(_ userID: UInt64) -> Bool {
        guard let ticks = presentTicks[userID], let first = ticks.first, let last = ticks.last else { return false }
        return ticks.count == Int(last - first + 1)
    }
}
