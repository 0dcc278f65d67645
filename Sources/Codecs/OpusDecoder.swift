import COpus

/// Float-PCM Opus decoder (libopus). Decodes any Opus packet (mono or stereo, any internal rate,
/// up to 120 ms) to the configured output rate and channel count. Not thread-safe.
public final class OpusDecoder {
    /// Output sample rate in Hz.
    public let sampleRate: Int
    /// Output channel count (1 or 2); libopus up/down-mixes packets of the other layout.
    public let channels: Int
    /// Samples per channel in the longest legal packet (120 ms), the minimum output capacity per channel.
    public let maxSamplesPerChannel: Int

    private let state: OpaquePointer

    /// Creates a decoder producing `channels` interleaved channels at `sampleRate`.
    public init(sampleRate: Int = 48_000, channels: Int = 1) throws {
        guard opusSampleRates.contains(sampleRate) else {
            throw CodecError.invalidArgument(
                "Opus sample rate \(sampleRate) Hz; use 8000, 12000, 16000, 24000 or 48000")
        }
        guard channels == 1 || channels == 2 else {
            throw CodecError.invalidArgument("Opus decoder channels \(channels); use 1 or 2")
        }
        var error: Int32 = 0
        guard let created = opus_decoder_create(Int32(sampleRate), Int32(channels), &error), error == OPUS_OK else {
            throw CodecError.opus(operation: "opus_decoder_create", code: error)
        }
        state = created
        self.sampleRate = sampleRate
        self.channels = channels
        self.maxSamplesPerChannel = sampleRate * 120 / 1000
    }

    deinit { opus_decoder_destroy(state) }

    /// Clears decoder history, e.g. at the start of a new logical stream.
    public func reset() { OpusControl.resetDecoder(state) }

    /// Decodes one packet into `output` (interleaved); returns samples per channel written.
    /// Throws `.emptyPacket` for zero bytes and `.opus` (with libopus's message) for invalid packets.
    public func decode(packet: UnsafeRawBufferPointer, into output: UnsafeMutableBufferPointer<Float>) throws -> Int {
        guard packet.count > 0, let data = packet.baseAddress else { throw CodecError.emptyPacket }
        guard let out = output.baseAddress else {
            throw CodecError.bufferTooSmall(needed: maxSamplesPerChannel * channels, available: 0)
        }
        let result = opus_decode_float(
            state, data.assumingMemoryBound(to: UInt8.self), Int32(packet.count),
            out, Int32(output.count / channels), 0)
        if result < 0 {
            if result == OPUS_BUFFER_TOO_SMALL,
                let needed = try? OpusDecoder.sampleCount(packet: packet, sampleRate: sampleRate)
            {
                throw CodecError.bufferTooSmall(needed: needed * channels, available: output.count)
            }
            throw CodecError.opus(operation: "opus_decode_float", code: result)
        }
        return Int(result)
    }

    /// Generates `samplesPerChannel` samples of packet-loss concealment (a multiple of 2.5 ms) into `output`.
    public func concealLoss(samplesPerChannel: Int, into output: UnsafeMutableBufferPointer<Float>) throws -> Int {
        guard samplesPerChannel * channels <= output.count, let out = output.baseAddress else {
            throw CodecError.bufferTooSmall(needed: samplesPerChannel * channels, available: output.count)
        }
        let result = opus_decode_float(state, nil, 0, out, Int32(samplesPerChannel), 0)
        if result < 0 { throw CodecError.opus(operation: "opus_decode_float (PLC)", code: result) }
        return Int(result)
    }

    /// Rebuilds a lost frame of `samplesPerChannel` samples from the in-band FEC data in `nextPacket` (the packet
    /// after the lost one). Without FEC data in it, libopus conceals the frame instead.
    public func decodeFEC(
        nextPacket: UnsafeRawBufferPointer, samplesPerChannel: Int,
        into output: UnsafeMutableBufferPointer<Float>
    ) throws -> Int {
        guard nextPacket.count > 0, let data = nextPacket.baseAddress else { throw CodecError.emptyPacket }
        guard samplesPerChannel * channels <= output.count, let out = output.baseAddress else {
            throw CodecError.bufferTooSmall(needed: samplesPerChannel * channels, available: output.count)
        }
        let result = opus_decode_float(
            state, data.assumingMemoryBound(to: UInt8.self), Int32(nextPacket.count),
            out, Int32(samplesPerChannel), 1)
        if result < 0 { throw CodecError.opus(operation: "opus_decode_float (FEC)", code: result) }
        return Int(result)
    }

    /// Samples per channel the packet decodes to at `sampleRate` (opus_packet_get_nb_samples).
    public static func sampleCount(packet: UnsafeRawBufferPointer, sampleRate: Int = 48_000) throws -> Int {
        guard packet.count > 0, let data = packet.baseAddress else { throw CodecError.emptyPacket }
        let result = opus_packet_get_nb_samples(
            data.assumingMemoryBound(to: UInt8.self), Int32(packet.count),
            Int32(sampleRate))
        if result < 0 { throw CodecError.opus(operation: "opus_packet_get_nb_samples", code: result) }
        return Int(result)
    }
}
