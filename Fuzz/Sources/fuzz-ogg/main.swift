import Codecs
import FuzzSupport

// Ogg Opus stream reader + decoder (what `Decode` runs on PersonaPlex's downlink), fed in chunks the input chooses.
// Layout: [config][4 chunk sizes][Ogg bytes...]. config picks the output rate, channels, pre-skip, frame length and
// a small playout buffer; chunk sizes cycle (1...256 bytes each), and between pushes up to 3 frames are read.
let rates = [8_000, 12_000, 16_000, 24_000, 48_000]
let durations: [OpusFrameDuration] = [.ms20, .ms10, .ms40, .ms2_5, .ms5, .ms60]
let output = UnsafeMutableBufferPointer<Float>.allocate(capacity: 48_000 * 2)  // 1 s stereo: above any frame

FuzzDriver.run { data in
    var input = FuzzInput(data)
    let config = input.byte()
    let sampleRate = rates[Int(config & 7) % rates.count]
    let channels = config & 8 == 0 ? 1 : 2
    let duration = durations[Int(config >> 4) % durations.count]
    let capacity: Int? = config & 0x40 == 0 ? nil : 960
    guard
        let decoder = try? OggOpusDecoder(
            sampleRate: sampleRate, channels: channels, frameDuration: duration,
            applyPreSkip: config & 0x80 == 0, bufferCapacity: capacity)
    else {
        preconditionFailure("a valid decoder configuration was refused")
    }
    let chunks = (0..<4).map { _ in Int(input.byte()) + 1 }
    var index = 0
    var frames = 0
    while !input.isAtEnd {
        let chunk = input.take(chunks[index % chunks.count])
        decoder.push(chunk)
        for _ in 0..<(index % 4) where decoder.readFrame(into: output) { frames += 1 }
        index += 1
        precondition(
            decoder.bufferedSamplesPerChannel <= decoder.bufferCapacity + decoder.samplesPerFrame + 2 * 5760,
            "the decoded backlog stays bounded")
    }
    while decoder.readFrame(into: output) { frames += 1 }
    _ = decoder.readRemainder(into: output)
    _ = decoder.reader.unreadByteCount
    let stats = decoder.reader.statistics
    precondition(stats.packets >= 0 && stats.pages <= data.count / 27 + 1, "page count bounded by the input")
    _ = decoder.lastError.map { "\($0)" }
    _ = decoder.reader.lastError.map { "\($0)" }
}
