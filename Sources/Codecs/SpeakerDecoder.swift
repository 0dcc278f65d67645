/// One speaker's receive path after the network: RTP packets in (any order), one PCM frame per 20 ms tick out at the
/// rate and channel count the graph wants (Opus decodes straight to them: 24 kHz mono costs less than 48 kHz stereo
/// and a resample). Losses are concealed with Opus FEC when the next packet carries it, else with packet-loss
/// concealment; undecodable packets are concealed too and counted, never passed on as noise.
/// Tick thread only; no allocation after `init`.
public final class SpeakerDecoder {
    /// The jitter buffer in front of the decoder (its counters: late, lost, concealed, reordered, depth, …).
    public let jitter: RTPJitterBuffer
    /// Output sample rate and channels.
    public let sampleRate: Int
    public let channels: Int
    /// Samples per channel in each output frame (20 ms).
    public let samplesPerFrame: Int
    /// Packets libopus rejected (concealed instead).
    public private(set) var decodeErrors = 0
    /// Frames decoded from packets (not concealed).
    public private(set) var framesDecoded = 0

    private let decoder: OpusDecoder
    /// Room for the longest packet libopus may produce (120 ms); only the first 20 ms is played, the rest dropped.
    private let scratch: UnsafeMutableBufferPointer<Float>
    /// Whether the previous tick produced audio (silence after a spurt resets the decoder's state).
    private var wasPlaying = false

    public init(sampleRate: Int, channels: Int, jitter: RTPJitterBuffer.Configuration = .init()) throws {
        decoder = try OpusDecoder(sampleRate: sampleRate, channels: channels)
        self.jitter = RTPJitterBuffer(configuration: jitter)
        self.sampleRate = sampleRate
        self.channels = channels
        samplesPerFrame = sampleRate / 50
        scratch = .allocate(capacity: decoder.maxSamplesPerChannel * channels)
        scratch.initialize(repeating: 0)
    }

    deinit { scratch.deallocate() }

    /// Adds one received Opus packet.
    public func insert(sequence: UInt16, timestamp: UInt32, arrivalNanoseconds: UInt64, opus: UnsafeRawBufferPointer) {
        jitter.insert(sequence: sequence, timestamp: timestamp, arrivalNanoseconds: arrivalNanoseconds, payload: opus)
    }

    /// Writes this tick's frame (`samplesPerFrame × channels` samples) into `output`; returns `false` when there is
    /// nothing to play (between talk spurts): `output` is then untouched.
    public func decodeFrame(nowNanoseconds: UInt64, into output: UnsafeMutableBufferPointer<Float>) -> Bool {
        precondition(output.count >= samplesPerFrame * channels, "output holds less than one frame")
        let playout = jitter.next(nowNanoseconds: nowNanoseconds)
        var produced = 0
        switch playout {
        case .silence:
            if wasPlaying { decoder.reset() }
            wasPlaying = false
            return false
        case .packet:
            produced = jitter.withPayload { packet in
                (try? decoder.decode(packet: packet, into: scratch)) ?? -1
            }
            if produced < 0 {
                decodeErrors += 1
                produced = conceal()
            } else {
                framesDecoded += 1
            }
        case .concealWithNext:
            produced = jitter.withPayload { next in
                (try? decoder.decodeFEC(nextPacket: next, samplesPerChannel: samplesPerFrame, into: scratch)) ?? -1
            }
            if produced < 0 { produced = conceal() }
        case .conceal:
            produced = conceal()
        }
        wasPlaying = true
        let n = min(max(produced, 0), samplesPerFrame) * channels
        output.baseAddress!.update(from: scratch.baseAddress!, count: n)
        if n < samplesPerFrame * channels {
            // A packet shorter than 20 ms (legal, rare): pad the frame with silence rather than stretch time.
            output.baseAddress!.advanced(by: n).update(repeating: 0, count: samplesPerFrame * channels - n)
        }
        return true
    }

    private func conceal() -> Int {
        (try? decoder.concealLoss(samplesPerChannel: samplesPerFrame, into: scratch)) ?? 0
    }
}
