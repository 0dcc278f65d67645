import CAllocCounter
import Discord
import DiscordSimulator
import DiscordVoice
import Foundation
import NIOPosix
import Realtime

/// voice-bench: per-frame costs of the voice transport and DAVE, allocations per packet, and send pacing against
/// the simulator. Build and run in release:
///
///     swift run -c release voice-bench [--iterations N] [--seconds S]
#if canImport(Glibc)
    import Glibc
#endif

let arguments = Array(CommandLine.arguments.dropFirst())
func option(_ name: String, _ fallback: Int) -> Int {
    guard let i = arguments.firstIndex(of: name), i + 1 < arguments.count, let v = Int(arguments[i + 1]) else {
        return fallback
    }
    return v
}
let iterations = option("--iterations", 20_000)
let seconds = option("--seconds", 60)

/// Per-iteration timings in nanoseconds → "mean / p50 / p99 µs".
func summary(_ samples: [UInt64]) -> String {
    let sorted = samples.sorted()
    func pct(_ p: Double) -> Double { Double(sorted[min(sorted.count - 1, Int(Double(sorted.count) * p))]) / 1000 }
    let mean = Double(samples.reduce(0, +)) / Double(samples.count) / 1000
    return String(format: "mean %.2f µs, p50 %.2f µs, p99 %.2f µs", mean, pct(0.5), pct(0.99))
}

/// Runs `body` `count` times after a warm-up; returns timings and heap allocations per call.
func measure(_ count: Int, _ body: () throws -> Void) rethrows -> (timings: [UInt64], allocations: Double) {
    for _ in 0..<min(1000, count) { try body() }
    var timings = [UInt64](repeating: 0, count: count)
    let before = alloc_counter_total()
    for i in 0..<count {
        let start = SystemClock.now()
        try body()
        timings[i] = SystemClock.now() - start
    }
    let allocations = Double(alloc_counter_total() - before) / Double(count)
    return (timings, allocations)
}

#if DEBUG
    let configuration = "DEBUG build: figures are not representative; use -c release"
#else
    let configuration = "release build"
#endif
print(
    "voice-bench (\(configuration)): \(iterations) iterations per case; allocation counter active: "
        + "\(alloc_counter_active() == 1)")
let opus: [UInt8] = [0xFC] + (0..<119).map { _ in UInt8.random(in: 0...255) }  // a 120-byte 20 ms Opus frame
let key = (0..<32).map { _ in UInt8.random(in: 0...255) }
var packet = [UInt8](repeating: 0, count: 2048)

// 1. Transport only, per mode.
for mode in TransportMode.supported {
    let cipher = try TransportCipher(mode: mode, key: key)
    let sealer = VoicePacketSealer(cipher: cipher, ssrc: 7)
    let opener = VoicePacketOpener(cipher: cipher)
    let result = try measure(iterations) {
        let length = try opus.withUnsafeBytes { f in
            try packet.withUnsafeMutableBytes { try sealer.seal(frame: f, into: $0) }
        }
        let kind = packet.withUnsafeBytes {
            opener.open(UnsafeRawBufferPointer(rebasing: $0[0..<length]), isKnown: { _ in true })
        }
        precondition(kind == .audio)
    }
    print(
        "transport encrypt+decrypt \(mode.rawValue): \(summary(result.timings)); "
            + "allocations/packet \(result.allocations)")
}

// 2. DAVE + transport, and 3. the receive path, with two members in one DAVE group.
let call = try InMemoryDAVECall(clock: SystemClock.shared)
try call.join(1)
try call.join(2)
guard let alice = call.members[1], let bob = call.members[2] else { fatalError("no DAVE group") }
let receive = VoiceReceiveQueue(capacity: 64)
for mode in TransportMode.supported {
    let cipher = try TransportCipher(mode: mode, key: key)
    let sealer = VoicePacketSealer(cipher: cipher, ssrc: 7)
    let opener = VoicePacketOpener(cipher: cipher)
    var sendAllocations = 0.0
    let both = try measure(iterations) {
        try opus.withUnsafeBytes { try alice.encrypt(opus: $0) }
        let length = try alice.withEncrypted { f in
            try packet.withUnsafeMutableBytes { try sealer.seal(frame: f, into: $0) }
        }
        _ = packet.withUnsafeBytes {
            opener.open(UnsafeRawBufferPointer(rebasing: $0[0..<length]), isKnown: { _ in true })
        }
        guard case .opus = bob.decrypt(userID: 1, frame: opener.payload) else { fatalError("DAVE decrypt failed") }
    }
    print(
        "DAVE + transport encrypt+decrypt \(mode.rawValue): \(summary(both.timings)); "
            + "allocations/frame \(both.allocations)")
    let send = try measure(iterations) {
        try opus.withUnsafeBytes { try alice.encrypt(opus: $0) }
        _ = try alice.withEncrypted { f in try packet.withUnsafeMutableBytes { try sealer.seal(frame: f, into: $0) } }
    }
    sendAllocations = send.allocations
    // Receive path: packet in → transport open → padding/extension strip → DAVE decrypt → ring (drained).
    // DAVE refuses replays, so each iteration needs a fresh DAVE frame: prepare them outside the timed loop.
    var frames: [[UInt8]] = []
    for _ in 0..<(iterations + 1000) {
        try opus.withUnsafeBytes { try alice.encrypt(opus: $0) }
        frames.append(
            try RTPPacketBuilder.packet(
                cipher: cipher, sequence: 1, timestamp: 960, ssrc: 7,
                extensionBody: [0x10, 1, 0, 0],
                payload: alice.withEncrypted { Array($0) }, padding: 4, nonce: 1))
    }
    var index = 0
    let receivePath = measure(iterations) {
        let now = SystemClock.now()
        frames[index].withUnsafeBytes { raw in
            guard opener.open(raw, isKnown: { $0 == 7 }) == .audio,
                case .opus = bob.decrypt(userID: 1, frame: opener.payload)
            else { fatalError("receive failed") }
            bob.withDecrypted { _ = receive.push(userID: 1, header: opener.header, arrival: now, opus: $0) }
        }
        receive.drainFrames { _ in }
        index += 1
    }
    print(
        "receive path (packet in → Opus frame out, \(mode.rawValue)): \(summary(receivePath.timings)); "
            + "allocations/packet \(receivePath.allocations); "
            + "send path (DAVE + seal) allocations/packet \(sendAllocations)")
}

// 4. Pacing against the simulator: two connections, 20 ms frames from a tick thread on absolute deadlines.
/// Two connections in one DAVE call on the simulator; a tick thread queues one frame per 20 ms on absolute
/// deadlines; the sender's pacer reports its lateness and deficits.
func pacing(seconds: Int, opus: [UInt8]) async throws {
    let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
    let server = try SimulatedVoiceServer(eventLoop: group.next(), channelID: 42)
    let endpoint = try await server.start()
    var connections: [VoiceConnection] = []
    for user in [11, 12] as [UInt64] {
        let info = VoiceServerInfo(
            guildID: Snowflake(1), channelID: Snowflake(42), userID: Snowflake(user),
            sessionID: "s\(user)", token: "t\(user)", endpoint: endpoint)
        await server.authorize(userID: user, sessionID: info.sessionID, token: info.token)
        let connection = try VoiceConnection(
            eventLoop: group.next(), control: nil,
            configuration: VoiceConnectionConfiguration(secure: false))
        await connection.voiceServerReady(info)
        connections.append(connection)
    }
    let deadline = Date().addingTimeInterval(20)
    while Date() < deadline {
        let codes = await [connections[0].privacyCode(), connections[1].privacyCode()]
        if let first = codes[0], codes[1] == first { break }
        try await Task.sleep(nanoseconds: 50_000_000)
    }
    let sender = connections[0]
    let receiver = connections[1]
    let frames = seconds * 50
    let tick = Thread {
        var next = SystemClock.now()
        var received = 0
        for _ in 0..<frames {
            next += 20_000_000
            var ts = timespec(tv_sec: Int(next / 1_000_000_000), tv_nsec: Int(next % 1_000_000_000))
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil)
            opus.withUnsafeBytes { _ = sender.outgoing.send(opus: $0, stamp: SystemClock.now()) }
            received += receiver.received.drainFrames { _ in }
        }
        print("tick thread: \(frames) frames queued, \(received) frames drained by the receiver")
    }
    tick.start()
    try await Task.sleep(nanoseconds: UInt64(seconds) * 1_000_000_000 + 500_000_000)
    if let status = await sender.status() {
        let s = status.send
        print(
            String(
                format: "pacing over %d s: lateness p99 %.2f ms, worst %.2f ms; sent %d, silence %d, "
                    + "deficit %d, late(>2 ms) %d, overflow %d", seconds,
                Double(status.pacingLatenessP99) / 1e6, Double(s.worstLateness) / 1e6, s.sent, s.silence,
                s.deficit, s.late, s.overflow))
    }
    if let status = await receiver.status() {
        print(
            "receiver: audio packets \(status.receive.audio), DAVE failures "
                + "\(status.dave.values.map(\.failed).reduce(0, +)), ring drops \(status.receiveRingDrops)")
    }
    for connection in connections { await connection.close() }
    await server.shutdown()
    try await group.shutdownGracefully()
}

if seconds > 0 { try await pacing(seconds: seconds, opus: opus) }
