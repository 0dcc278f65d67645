import Codecs
import DiscordSimulator
import DiscordVoice
import Foundation
import Realtime

#if canImport(Glibc)
    import Glibc
#endif

/// CPU time of `clock` (process or calling thread) in nanoseconds.
func cpuNanos(_ clock: clockid_t) -> Int64 {
    var ts = timespec()
    clock_gettime(clock, &ts)
    return Int64(ts.tv_sec) * 1_000_000_000 + Int64(ts.tv_nsec)
}

/// The bare library work of one bridged call-frame, in this thread's CPU nanoseconds per 20 ms: the speaker's Opus
/// decoded straight to 24 kHz mono, Ogg Opus encoded (24 kHz mono, 32 kb/s, complexity 5 as the pipeline's
/// `encode`) and decoded back, resampled to 48 kHz stereo, Opus encoded (64 kb/s, complexity 10 as DiscordOut), and the transport + DAVE crypto of one packet each way. No graph, no
/// rings, no network: what the router adds is the difference.
struct LibraryFloor {
    var decodeOpus = 0.0
    var oggEncode = 0.0
    var oggDecode = 0.0
    var resample = 0.0
    var encodeOpus = 0.0
    var crypto = 0.0
    var total: Double { decodeOpus + oggEncode + oggDecode + resample + encodeOpus + crypto }

    static func measure(speech: [Float], frames: Int) throws -> LibraryFloor {
        var floor = LibraryFloor()
        // The speaker's packets, as DiscordIn receives them (48 kHz mono speech, 20 ms).
        let speakerEncoder = try OpusEncoder(sampleRate: 48_000, channels: 1, bitrate: 64_000)
        var packets: [[UInt8]] = []
        var scratch = [UInt8](repeating: 0, count: OpusEncoder.maxPacketBytes)
        try speech.withUnsafeBufferPointer { all in
            for i in 0..<frames {
                let start = (i * 960) % (all.count - 960)
                let n = try scratch.withUnsafeMutableBytes {
                    try speakerEncoder.encode(UnsafeBufferPointer(rebasing: all[start..<(start + 960)]), into: $0)
                }
                packets.append(Array(scratch[0..<n]))
            }
        }
        let mono24 = UnsafeMutableBufferPointer<Float>.allocate(capacity: 5760)
        let stereo48 = UnsafeMutableBufferPointer<Float>.allocate(capacity: 4 * 1920)
        defer {
            mono24.deallocate()
            stereo48.deallocate()
        }
        let decoder = try OpusDecoder(sampleRate: 24_000, channels: 1)
        let oggWriter = try OggOpusEncoder(
            encoder: try OpusEncoder(sampleRate: 24_000, channels: 1, bitrate: 32_000, complexity: 5), serial: 42)
        let oggReader = try OggOpusDecoder(sampleRate: 24_000, channels: 1, bufferCapacity: 24_000 * 600)
        let resampler = try Resampler(inputRate: 24_000, inputChannels: 1, outputRate: 48_000, outputChannels: 2)
        let discordEncoder = try OpusEncoder(sampleRate: 48_000, channels: 2, bitrate: 64_000)
        var decoded: [[Float]] = []
        var t = cpuNanos(CLOCK_THREAD_CPUTIME_ID)
        for packet in packets {
            let n = try packet.withUnsafeBytes { try decoder.decode(packet: $0, into: mono24) }
            decoded.append(Array(mono24[0..<n]))
        }
        floor.decodeOpus = lap(&t, frames)
        for frame in decoded { _ = try frame.withUnsafeBufferPointer { try oggWriter.encode($0) } }
        var ogg: [UInt8] = []
        oggWriter.writer.flush()
        oggWriter.writer.drainPages { ogg.append(contentsOf: $0) }
        floor.oggEncode = lap(&t, frames)
        ogg.withUnsafeBytes { oggReader.push($0) }
        while oggReader.readFrame(into: mono24) {}
        floor.oggDecode = lap(&t, frames)
        for frame in decoded {
            _ = frame.withUnsafeBufferPointer { resampler.process(input: $0, output: stereo48) }
        }
        floor.resample = lap(&t, frames)
        for _ in 0..<frames {
            _ = try scratch.withUnsafeMutableBytes {
                try discordEncoder.encode(UnsafeBufferPointer(rebasing: stereo48[0..<1920]), into: $0)
            }
        }
        floor.encodeOpus = lap(&t, frames)
        floor.crypto = try cryptoPerFrame(packet: packets[packets.count / 2], frames: frames)
        return floor
    }

    /// DAVE encrypt + transport seal (send) and transport open + DAVE decrypt (receive) of one packet.
    private static func cryptoPerFrame(packet opus: [UInt8], frames: Int) throws -> Double {
        let call = try InMemoryDAVECall(clock: SystemClock.shared)
        try call.join(1)
        try call.join(2)
        guard let alice = call.members[1], let bob = call.members[2] else { throw BenchError("no DAVE group") }
        let cipher = try TransportCipher(mode: .aes256GCM, key: (0..<32).map { UInt8($0) })
        let sealer = VoicePacketSealer(cipher: cipher, ssrc: 7)
        let opener = VoicePacketOpener(cipher: cipher)
        var buffer = [UInt8](repeating: 0, count: 2048)
        var t = cpuNanos(CLOCK_THREAD_CPUTIME_ID)
        for _ in 0..<frames {
            try opus.withUnsafeBytes { try alice.encrypt(opus: $0) }
            let length = try alice.withEncrypted { f in
                try buffer.withUnsafeMutableBytes { try sealer.seal(frame: f, into: $0) }
            }
            _ = buffer.withUnsafeBytes {
                opener.open(UnsafeRawBufferPointer(rebasing: $0[0..<length]), isKnown: { _ in true })
            }
            guard case .opus = bob.decrypt(userID: 1, frame: opener.payload) else { throw BenchError("DAVE failed") }
        }
        return lap(&t, frames)
    }

    private static func lap(_ t: inout Int64, _ frames: Int) -> Double {
        let now = cpuNanos(CLOCK_THREAD_CPUTIME_ID)
        defer { t = now }
        return Double(now - t) / Double(frames)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}
