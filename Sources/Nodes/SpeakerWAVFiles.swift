import Codecs
import Foundation
import RouterCore

/// Per-speaker streams written to one WAV file each: the path pattern's `{id}` becomes the stream's id. A speaker's
/// file is created at their first frame (opening a file is I/O on the tick thread, as every WAV sink's writes are;
/// it happens once per speaker). With gaps kept, a tick in which a known speaker has no stream is written as silence,
/// so every file keeps the session's timeline from its speaker's first frame on.
final class SpeakerWAVFiles {
    /// Most files one node writes; later speakers are not recorded (counted in `refused`).
    static let maxFiles = 64

    private final class File {
        let id: UInt64
        let sink: WAVFileSink
        var lastTick: Int64 = -1

        init(id: UInt64, sink: WAVFileSink) {
            self.id = id
            self.sink = sink
        }
    }

    private let input: PCMStreamsInput
    private let pattern: String
    private let placeholder: String
    private let format: PCMFormat
    private let encoding: WAVSampleEncoding
    private let writesGaps: Bool
    private let log: Logger
    private var files: [File] = []
    /// The files created so far, in the order their speakers appeared.
    private(set) var paths: [String] = []
    /// Frames not recorded because `maxFiles` speakers already had a file.
    private(set) var refused = 0

    init(
        input: PCMStreamsInput, pattern: String, placeholder: String, format: PCMFormat,
        encoding: WAVSampleEncoding, writesGaps: Bool, log: Logger
    ) {
        self.input = input
        self.pattern = pattern
        self.placeholder = placeholder
        self.format = format
        self.encoding = encoding
        self.writesGaps = writesGaps
        self.log = log
        files.reserveCapacity(Self.maxFiles)
    }

    /// Writes this tick's streams, then silence for the known speakers that had none (with gaps kept).
    func consume(_ tick: Tick) throws {
        for lane in input.lanes {
            for i in 0..<lane.count {
                guard let file = try file(for: lane.id(at: i)) else { continue }
                guard file.lastTick != tick.index else { continue }  // the same id twice in one tick: first wins
                file.lastTick = tick.index
                try file.sink.consume(lane.frame(at: i))
            }
        }
        guard writesGaps && !input.allEnded else { return }
        for file in files where file.lastTick != tick.index {
            file.lastTick = tick.index
            try file.sink.consume(nil)
        }
    }

    private func file(for id: UInt64) throws -> File? {
        for file in files where file.id == id { return file }
        guard files.count < Self.maxFiles else {
            refused += 1
            if refused == 1 { log.warning("more than \(Self.maxFiles) speakers: later ones are not recorded") }
            return nil
        }
        let path = pattern.replacingOccurrences(of: placeholder, with: String(id))
        let file = File(
            id: id,
            sink: try WAVFileSink(path: path, format: format, encoding: encoding, writesGaps: writesGaps, log: log))
        files.append(file)
        paths.append(path)
        return file
    }

    /// Closes every file (all of them, even after one fails; the first error is rethrown).
    func close() throws {
        var failure: (any Error)?
        for file in files {
            do { try file.sink.close() } catch { failure = failure ?? error }
        }
        if let failure { throw failure }
    }
}
