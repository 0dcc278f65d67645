import Codecs
import Foundation

/// The stand-in's "model": decodes the caller's Ogg Opus (24 kHz mono), echoes it back as an Ogg Opus stream of its
/// own shaped like the real server's (serial 42, one page per message, 80 ms per page), and describes each
/// utterance it heard in text pieces. One per session; runs on the server's event loop.
final class StandInVoice {
    static let sampleRate = 24_000
    static let frameSamples = 480  // 20 ms
    /// An utterance is at least this many 20 ms frames above the speech level, closed by `quietToEnd` quiet frames.
    static let minimumSpeechFrames = 10
    static let quietToEnd = 20
    /// -40 dBFS RMS.
    static let speechLevel: Float = 0.01

    private let decoder: OggOpusDecoder
    private let encoder: OggOpusEncoder
    private var frame = [Float](repeating: 0, count: StandInVoice.frameSamples)
    /// Four 20 ms frames gathered into one 80 ms step.
    private var step = [Float](repeating: 0, count: 4 * StandInVoice.frameSamples)
    private var stepFill = 0
    private var speechFrames = 0
    private var quietFrames = 0
    private(set) var framesDecoded = 0
    private var errorsSeen = 0

    init() throws {
        decoder = try OggOpusDecoder(sampleRate: Self.sampleRate, channels: 1, frameDuration: .ms20)
        // One 80 ms packet per page, one page per message, like the real server (sphn's writer, one model step).
        let opus = try OpusEncoder(sampleRate: Self.sampleRate, channels: 1, application: .voip, frameDuration: .ms80)
        encoder = try OggOpusEncoder(encoder: opus, serial: 42, packetsPerPage: 1)
    }

    /// The stream's two header pages and any audio pages ready, one `0x01` message each.
    func drainPages(_ send: (UnsafeRawBufferPointer) -> Void) {
        encoder.writer.drainPages { send($0) }
    }

    /// Takes one `0x01` payload (Ogg bytes); returns what to say about a finished utterance, if one just ended.
    func receive(_ ogg: UnsafeRawBufferPointer) -> String? {
        decoder.push(ogg)
        var said: String?
        while frame.withUnsafeMutableBufferPointer({ decoder.readFrame(into: $0) }) {
            framesDecoded += 1
            if let sentence = listen() { said = sentence }
            step.replaceSubrange(stepFill..<stepFill + frame.count, with: frame)
            stepFill += frame.count
            if stepFill == step.count {
                stepFill = 0
                _ = try? step.withUnsafeBufferPointer { try encoder.encode($0) }
            }
        }
        return said
    }

    /// Pages or packets of the caller's stream that failed since the last call.
    func takeNewErrors() -> Int {
        let total = decoder.decodeErrors + decoder.reader.statistics.corruptPages
        defer { errorsSeen = total }
        return total - errorsSeen
    }

    private func listen() -> String? {
        var energy: Float = 0
        for v in frame { energy += v * v }
        let loud = (energy / Float(frame.count)).squareRoot() >= Self.speechLevel
        if loud {
            speechFrames += 1
            quietFrames = 0
            return nil
        }
        guard speechFrames > 0 else { return nil }
        quietFrames += 1
        guard quietFrames >= Self.quietToEnd else { return nil }
        defer { speechFrames = 0 }
        guard speechFrames >= Self.minimumSpeechFrames else { return nil }
        let seconds = Double(speechFrames) * 0.02
        return String(format: " I heard you speak for %.1f seconds.", seconds)
    }

    /// Splits a sentence into the word pieces the real server streams (each word keeps its leading space).
    static func pieces(_ sentence: String) -> [String] {
        var out: [String] = []
        var current = ""
        for ch in sentence {
            if ch == " ", !current.isEmpty {
                out.append(current)
                current = ""
            }
            current.append(ch)
        }
        if !current.isEmpty { out.append(current) }
        return out
    }
}
