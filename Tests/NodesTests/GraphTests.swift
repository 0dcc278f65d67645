import Codecs
import Foundation
import Nodes
import RouterCore
import XCTest

/// Whole pipelines driven tick by tick: the file round trip (the independent check), taps that never disturb
/// the flow, and sessions that finish by themselves.
final class GraphTests: XCTestCase {
    override func setUp() { quietLog(self) }

    private func pipeline(_ name: String) throws -> String {
        try String(contentsOf: TestFiles.repositoryRoot.appendingPathComponent("pipelines/\(name)"), encoding: .utf8)
    }

    /// 3 s of speech-like 48 kHz stereo (a whole number of 20 ms frames), written as 16-bit WAV.
    private func speechInput(_ dir: URL, seconds: Double = 3) throws -> (path: String, mono: [Float]) {
        let frames = Int(seconds * 48_000)
        let mono = Signal.speechLike(rate: 48_000, frames: frames).map { Float(Int16(($0 * 32767).rounded())) / 32768 }
        var stereo = [Float](repeating: 0, count: frames * 2)
        for i in 0..<frames {
            stereo[2 * i] = mono[i]
            stereo[2 * i + 1] = mono[i]
        }
        let path = dir.appendingPathComponent("speech.wav").path
        try TestFiles.writeWAV(path, stereo, rate: 48_000, channels: 2)
        return (path, mono)
    }

    /// pipelines/file-roundtrip.yaml as shipped: output length == input length, aligned (lag 0), correlation > 0.9;
    /// the OggTap recording passes opusinfo and opusdec of it matches the input too.
    func testFileRoundTripPipeline() throws {
        let dir = try TestFiles.directory(self)
        let (input, mono) = try speechInput(dir)
        let output = dir.appendingPathComponent("out/roundtrip.wav").path
        let ogg = dir.appendingPathComponent("uplink.opus").path
        let env = PipelineEnvironment(["INPUT_WAV": input, "OUTPUT_WAV": output, "OGG_TAP": ogg])
        let session = try EmbeddedSession(
            yaml: try pipeline("file-roundtrip.yaml"), registry: NodeRegistry.standard,
            environment: env, file: "file-roundtrip.yaml")
        XCTAssertTrue(session.pipeline.runsFast)
        let ticks = try session.runUntilFinished(maxTicks: 1_000)
        session.stop()
        XCTAssertLessThanOrEqual(ticks, 160, "finishes by itself shortly after the 150-frame input")

        let (format, out) = try TestFiles.readWAV(output)
        XCTAssertEqual(format.sampleRate, 48_000)
        XCTAssertEqual(format.channels, 2)
        let left = Analysis.channel(out, 0, of: 2), right = Analysis.channel(out, 1, of: 2)
        XCTAssertEqual(left.count, mono.count, "output length == input length")
        XCTAssertEqual(left, right)
        let best = Analysis.bestLag(mono, left, in: -480...480, windowLength: 48_000)
        XCTAssertEqual(best.lag, 0, "round trip aligned")
        XCTAssertGreaterThan(best.correlation, 0.9)
        let whole = Analysis.correlation(mono, left)
        XCTAssertGreaterThan(whole, 0.9, "whole-file correlation")
        print(
            "file-roundtrip: length \(left.count)/\(mono.count), best lag \(best.lag), correlation (1 s window) "
                + String(format: "%.4f", best.correlation) + ", whole file " + String(format: "%.4f", whole))

        // The independent check: the uplink as recorded by the tap.
        try Tools.assertOpusinfoClean(ogg)
        let (channels, decoded) = try Tools.opusdec(ogg, rate: 48_000, in: dir)
        XCTAssertEqual(channels, 1)
        XCTAssertEqual(decoded.count, mono.count, "opusdec length == input length")
        let bestDec = Analysis.bestLag(mono, decoded, in: -480...480, windowLength: 48_000)
        XCTAssertEqual(bestDec.lag, 0, "opusdec output aligned with the input")
        XCTAssertGreaterThan(bestDec.correlation, 0.9)
        print(
            "file-roundtrip uplink via opusdec: best lag \(bestDec.lag), correlation "
                + String(format: "%.4f", bestDec.correlation)
                + ", whole file " + String(format: "%.4f", Analysis.correlation(mono, decoded)))
    }

    /// The same round trip on a sox-synthesised input (an independent generator).
    func testFileRoundTripOnSoxSignal() throws {
        let dir = try TestFiles.directory(self)
        let input = dir.appendingPathComponent("sox.wav").path
        let (status, log) = try Tools.run(
            "sox",
            [
                "-n", "-r", "48000", "-c", "2", "-b", "16", input,
                "synth", "2", "sawtooth", "110-220", "synth", "2", "sine", "amod", "4", "vol", "0.4",
            ])
        XCTAssertEqual(status, 0, log)
        let (inFormat, inSamples) = try TestFiles.readWAV(input)
        XCTAssertEqual(inFormat.sampleRate, 48_000)
        let inLeft = Analysis.channel(inSamples, 0, of: 2)
        XCTAssertEqual(inLeft.count, 96_000)
        let output = dir.appendingPathComponent("out.wav").path
        let env = PipelineEnvironment([
            "INPUT_WAV": input, "OUTPUT_WAV": output, "OGG_TAP": dir.appendingPathComponent("t.opus").path,
        ])
        let session = try EmbeddedSession(
            yaml: try pipeline("file-roundtrip.yaml"), registry: NodeRegistry.standard, environment: env)
        try session.runUntilFinished(maxTicks: 1_000)
        session.stop()
        let left = Analysis.channel(try TestFiles.readWAV(output).samples, 0, of: 2)
        XCTAssertEqual(left.count, inLeft.count)
        // The sawtooth reaches 12 kHz (above 24 kHz mono's band), so compare the low band: smooth both.
        func lowpass(_ x: [Float]) -> [Float] {
            var y = x, state: Float = 0
            for i in 0..<y.count {
                state += 0.08 * (x[i] - state)
                y[i] = state
            }
            return y
        }
        let best = Analysis.bestLag(lowpass(inLeft), lowpass(left), in: -480...480, windowLength: 48_000)
        XCTAssertEqual(best.lag, 0)
        XCTAssertGreaterThan(best.correlation, 0.9)
        print("sox round trip: lag \(best.lag), low-band correlation " + String(format: "%.4f", best.correlation))
    }

    /// Taps on every edge (Meter, WavTap, LogTap on PCM; OggTap, LogTap on Ogg) leave the output byte-identical.
    func testTapsNeverDisturbTheFlow() throws {
        let dir = try TestFiles.directory(self)
        let (input, mono) = try speechInput(dir, seconds: 2)
        let chain = """
            nodes:
              source: {type: WavIn, path: "\(input)", pace: fast}
              down:   {type: Resample, rate: 24000, channels: 1}
              encode: {type: OpusOggEncode, rate: 24000, channels: 1, serial: 1234}
              decode: {type: Decode, rate: 24000, channels: 1}
              up:     {type: Resample, rate: 48000, channels: 2}
              sink:   {type: WavOut, path: "${OUT}"}
            """
        let links = "links:\n  - source -> down -> encode -> decode -> up -> sink\n"
        var tapNodes = ""
        var tapLinks = ""
        for edge in ["source", "down", "decode", "up"] {
            tapNodes += "  m_\(edge): {type: Meter, interval: 200ms}\n"
            tapNodes += "  w_\(edge): {type: WavTap, path: \"\(dir.path)/tap-\(edge).wav\", encoding: float32}\n"
            tapNodes += "  l_\(edge): {type: LogTap, kind: pcm, max_per_second: 1000}\n"
            tapLinks += "  - \(edge) -> m_\(edge)\n  - \(edge) -> w_\(edge)\n  - \(edge) -> l_\(edge)\n"
        }
        tapNodes +=
            "  o_encode: {type: OggTap, path: \"\(dir.path)/tap-encode.opus\"}\n  l_encode: {type: LogTap, kind: ogg}\n"
        tapLinks += "  - encode -> o_encode\n  - encode -> l_encode\n"

        var outputs: [[UInt8]] = []
        for (name, yaml) in [("plain", chain + "\n" + links), ("tapped", chain + "\n" + tapNodes + links + tapLinks)] {
            let out = dir.appendingPathComponent("\(name).wav").path
            let session = try EmbeddedSession(
                yaml: yaml, registry: NodeRegistry.standard, environment: PipelineEnvironment(["OUT": out]))
            try session.runUntilFinished(maxTicks: 1_000)
            session.stop()
            outputs.append(try TestFiles.bytes(out))
            if name == "tapped" {
                let meter = session.session.graph.node(named: "m_source") as! Meter
                let expectedDB = Meter.dBFS(Double(Analysis.rms(mono[(mono.count - 9_600)...])))
                XCTAssertEqual(
                    try XCTUnwrap(meter.lastReading).rms, expectedDB, accuracy: 0.1, "the meter measures the edge")
                let log = session.session.graph.node(named: "l_encode") as! LogTap
                XCTAssertGreaterThan(log.written, 0)
            }
        }
        XCTAssertGreaterThan(outputs[0].count, 100_000)
        XCTAssertEqual(outputs[0], outputs[1], "the output WAV is byte-identical with and without taps")
        // The taps recorded their edges: the source edge is the input itself; the Ogg edge is a valid stream.
        let sourceTap = Analysis.channel(try TestFiles.readWAV("\(dir.path)/tap-source.wav").samples, 0, of: 2)
        XCTAssertEqual(sourceTap, mono)
        let pages = Ogg.pages(try TestFiles.bytes("\(dir.path)/tap-encode.opus"))
        XCTAssertTrue(pages.allSatisfy { $0.storedCRC == $0.computedCRC && $0.serial == 1234 })
        XCTAssertTrue(pages.last?.isEOS == true)
        let decodedTap = Analysis.channel(try TestFiles.readWAV("\(dir.path)/tap-decode.wav").samples, 0, of: 1)
        XCTAssertEqual(decodedTap.count % 480, 0, "the tap writes whole frames, gaps as silence")
        XCTAssertTrue(
            (mono.count / 2...(mono.count / 2 + 4 * 480)).contains(decodedTap.count),
            "the tap keeps the session timeline: \(decodedTap.count) samples for \(mono.count / 2) decoded")
    }

    /// pipelines/mix-and-tap.yaml: every source ends (the voice file, then the greeting), so the session finishes by
    /// itself; after stop every file is complete: WAV headers patched, the Ogg stream closed with EOS.
    func testMixPipelineFinishesByItselfAndFlushesFiles() throws {
        let dir = try TestFiles.directory(self)
        let (input, _) = try speechInput(dir, seconds: 2)
        let env = PipelineEnvironment([
            "INPUT_WAV": input, "OUTPUT_WAV": "\(dir.path)/mix.wav", "OGG_TAP": "\(dir.path)/mix.opus",
            "MIX_TAP": "\(dir.path)/mix-tap.wav",
        ])
        let session = try EmbeddedSession(
            yaml: try pipeline("mix-and-tap.yaml"), registry: NodeRegistry.standard, environment: env)
        let ticks = try session.runUntilFinished(maxTicks: 2_000)
        XCTAssertTrue(session.session.isFinished)
        session.stop()
        XCTAssertLessThanOrEqual(ticks, 340)
        let greetingFrames = 330  // seed 000's 16.5 beats at 150 bpm (6.6 s), longer than the 2 s voice
        for name in ["mix.wav", "mix-tap.wav"] {
            let bytes = try TestFiles.bytes("\(dir.path)/\(name)")
            let wav = try XCTUnwrap(TestFiles.parseWAV(bytes), name)
            XCTAssertEqual(wav.riffSize, bytes.count - 8, "\(name): header patched")
            XCTAssertEqual(
                wav.data.count, greetingFrames * 960 * 2 * 2, "\(name): exactly the longest source, no extra frame")
        }
        let pages = Ogg.pages(try TestFiles.bytes("\(dir.path)/mix.opus"))
        XCTAssertTrue(pages.last?.isEOS == true, "Ogg stream closed")
        try Tools.assertOpusinfoClean("\(dir.path)/mix.opus")
    }

    /// A stream restart between encoder and decoder (as at each PersonaPlex session): the decoder follows the chained
    /// stream without errors and playback continues; only the encoder lookahead at the restart (6.5 ms) is lost.
    /// (It is at the end of the first stream, which OggOpusEncoder.restart ends without flushing.)
    func testDecoderFollowsRestartedStream() throws {
        let input = Signal.speechLike(rate: 24_000, frames: 48_000)
        Scripts.shared.setPCM("chain-src", frames(of: input, samplesPerFrame: 480).map { Optional($0) })
        Scripts.shared.setEvents("chain-ctl", [49: [.streamRestart]])
        let yaml = """
            nodes:
              src: {type: ScriptedSource, script: chain-src, rate: 24000, channels: 1}
              ctl: {type: EventScript, script: chain-ctl}
              enc: {type: OpusOggEncode, rate: 24000, channels: 1, serial: 77}
              dec: {type: Decode, rate: 24000, channels: 1}
            links:
              - src -> enc -> dec
              - ctl -> enc.control
            """
        let session = try EmbeddedSession(yaml: yaml, registry: testRegistry)
        let lane = session.lane("dec.out") as! PCMLane
        var output: [Float] = []
        var gaps = 0
        while !session.session.isFinished {
            try session.tick()
            if let f = lane.frame { output += f } else if !output.isEmpty && !session.session.isFinished { gaps += 1 }
            XCTAssertLessThan(session.session.tickIndex, 200)
        }
        session.stop()
        let decodeMetrics = try XCTUnwrap(session.session.metrics.first { $0.nodeName == "dec" })
        XCTAssertEqual(decodeMetrics.errors, 0)
        XCTAssertLessThanOrEqual(gaps, 1, "playback continues across the restart")
        XCTAssertEqual(output.count, input.count, "same length up to the zero padding of the last frame")
        // The restart takes effect at tick 50 (input sample 24 000).
        let before = Analysis.bestLag(Array(input[0..<22_000]), output, in: -400...400, windowLength: 12_000)
        let after = Analysis.bestLag(
            Array(input[26_000...]), Array(output[(26_000 - 800)...]), in: 0...800, windowLength: 12_000)
        XCTAssertEqual(before.lag, 0, "first stream aligned")
        XCTAssertGreaterThan(before.correlation, 0.9)
        // The first stream ends without flushing the encoder lookahead (OggOpusEncoder.restart), so the second stream
        // starts early by exactly that much.
        let lookahead = try OpusEncoder(sampleRate: 24_000, channels: 1, application: .audio).lookahead
        XCTAssertEqual(800 - after.lag, lookahead, "only the encoder lookahead is lost at the restart")
        XCTAssertGreaterThan(after.correlation, 0.9)
        print(
            "restart: second stream shifted by \(800 - after.lag) samples at 24 kHz (lookahead \(lookahead)), correlation "
                + String(format: "%.4f / %.4f", before.correlation, after.correlation))
    }

    /// Mixer inputs that end at different times: the mix lasts exactly as long as the longest input.
    func testMixerEndsWithItsLastInput() throws {
        let n = 1920
        Scripts.shared.setPCM("short", Array(repeating: [Float](repeating: 0.1, count: n), count: 10))
        Scripts.shared.setPCM("long", Array(repeating: [Float](repeating: 0.2, count: n), count: 25))
        let yaml = """
            nodes:
              a: {type: ScriptedSource, script: short}
              b: {type: ScriptedSource, script: long}
              mix: {type: Mixer}
            links:
              - a -> mix
              - b -> mix
            """
        let session = try EmbeddedSession(yaml: yaml, registry: testRegistry)
        let lane = session.lane("mix.out") as! PCMLane
        var values: [Float] = []
        while !session.session.isFinished {
            try session.tick()
            if let f = lane.frame { values.append(f[0]) }
            XCTAssertLessThan(values.count, 100)
        }
        XCTAssertEqual(values.count, 25, "no extra frame after the inputs end")
        XCTAssertEqual(values.prefix(10).map { ($0 * 1000).rounded() }, Array(repeating: 150, count: 10))
        XCTAssertEqual(values.suffix(15).map { ($0 * 1000).rounded() }, Array(repeating: 200, count: 15))
    }
}
