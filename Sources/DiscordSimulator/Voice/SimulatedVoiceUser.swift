import Codecs
import DiscordVoice
import Realtime

#if canImport(Glibc)
    import Glibc
#endif

/// A simulated call member on our own voice stack (`VoiceConnection`, so its DAVE member is ours): speaks a WAV
/// (48 kHz, Opus-encoded in 20 ms frames) and records what it hears, decoded, to a WAV. Runs its own 20 ms loop
/// on the calling thread with absolute deadlines, like the router's tick thread.
public final class SimulatedVoiceUser {
    public let connection: VoiceConnection
    public let userID: UInt64

    /// What one `run` did.
    public struct Report: Sendable {
        public var framesSent = 0
        public var framesHeard = 0
        /// Samples per channel written to the recording.
        public var samplesRecorded = 0
    }

    public init(connection: VoiceConnection, userID: UInt64) {
        self.connection = connection
        self.userID = userID
    }

    /// For `seconds`, sends the WAV at `speak` (mono or stereo 48 kHz; nothing when `nil`; over and over with
    /// `loop`) and writes everything heard from `listenTo` into a mono 48 kHz WAV at `record`.
    public func run(seconds: Double, speak: String?, listenTo: UInt64?, record: String?, loop: Bool = false) throws
        -> Report
    {
        var report = Report()
        var samples: [Float] = []
        var channels = 1
        if let speak {
            let wav = try WAVReader.read(path: speak)
            guard wav.format.sampleRate == 48_000 else {
                throw CodecError.invalidArgument("simulated users speak 48 kHz WAV files")
            }
            samples = wav.samples
            channels = wav.format.channels
        }
        let encoder = try OpusEncoder(sampleRate: 48_000, channels: channels)
        let decoder = try OpusDecoder(sampleRate: 48_000, channels: 1)
        let writer = try record.map {
            try WAVWriter(
                path: $0,
                format: WAVFormat(
                    sampleRate: 48_000, channels: 1,
                    encoding: .pcm16))
        }
        let frameSamples = 960 * channels
        var packet = [UInt8](repeating: 0, count: OpusEncoder.maxPacketBytes)
        var pcm = [Float](repeating: 0, count: 5760)
        var position = 0
        var next = SystemClock.now()
        let frames = Int(seconds * 50)
        for _ in 0..<frames {
            next += 20_000_000
            var ts = timespec(tv_sec: Int(next / 1_000_000_000), tv_nsec: Int(next % 1_000_000_000))
            clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, nil)
            if loop, position + frameSamples > samples.count, samples.count >= frameSamples { position = 0 }
            if position + frameSamples <= samples.count {
                let length = try samples.withUnsafeBufferPointer { all in
                    try packet.withUnsafeMutableBytes {
                        try encoder.encode(
                            UnsafeBufferPointer(rebasing: all[position..<(position + frameSamples)]),
                            into: $0)
                    }
                }
                position += frameSamples
                packet.withUnsafeBytes {
                    if connection.outgoing.send(opus: UnsafeRawBufferPointer(rebasing: $0[0..<length]), stamp: next) {
                        report.framesSent += 1
                    }
                }
            }
            var failure: Error?
            connection.received.drainFrames { slot in
                guard slot.userID == listenTo, failure == nil else { return }
                do {
                    let count = try slot.opus.withUnsafeBytes { frame in
                        try pcm.withUnsafeMutableBufferPointer { try decoder.decode(packet: frame, into: $0) }
                    }
                    report.framesHeard += 1
                    try pcm.withUnsafeBufferPointer { try writer?.write(UnsafeBufferPointer(rebasing: $0[0..<count])) }
                    report.samplesRecorded += count
                } catch { failure = error }
            }
            if let failure { throw failure }
        }
        try writer?.close()
        return report
    }
}
