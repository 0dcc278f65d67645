import Foundation
import RouterCore

/// Assembles text pieces (PersonaPlex sends one sentencepiece piece per 80 ms frame) into sentences and delivers
/// them: flush on a piece ending in `.`, `?` or `!`, or after a pause without pieces; pieces like `<s>` or `<0xE2>`
/// are dropped. Sentences go to the log, a text file or the voice session's chat (`sink: chat`, through the
/// `TextOutbox` its host provides), and out of the `out` port for further nodes.
public final class TextRelay: NodeType {
    public static let typeName = "TextRelay"
    public static let summary =
        "Assemble text pieces into sentences; deliver to the log, a file or the session's chat (and the out port)."
    private enum Param {
        static let sink: ParameterKey<String> = .choice(
            "sink", ["log", "file", "chat", "none"], default: "log",
            "Where sentences go besides the out port (chat: the Discord text channel of the voice session).")
        static let path: ParameterKey<String?> = .optionalPath(
            "path", "The text file for sink: file (appended, one sentence per line).")
        static let flushAfter: ParameterKey<Double> = .duration(
            "flush_after", default: 1.2,
            "Flush an unfinished sentence after this long without a piece.")
        static let timestamps: ParameterKey<Bool> = .bool(
            "timestamps", default: true,
            "Prefix each line with the session time [mm:ss.cc].")
        static let prefix: ParameterKey<String> = .string(
            "prefix", default: "", "Text put before each sentence (e.g. 'AI: ').")
    }
    public static let parameters = [
        Param.sink.spec, Param.path.spec, Param.flushAfter.spec, Param.timestamps.spec,
        Param.prefix.spec,
    ]

    public static func ports(_ params: Parameters) -> PortLayout {
        PortLayout(
            inputs: [InputSpec("in", .text, doc: "Text pieces.")],
            outputs: [OutputSpec("out", MediaFormat(.text), doc: "Whole sentences.")])
    }

    public static func check(_ params: Parameters) -> [NodeCheckProblem] {
        if params[Param.sink] == "file" && params[Param.path] == nil {
            return [
                NodeCheckProblem(
                    "sink", "sink: file needs a 'path'", hint: "add 'path: captions.txt', or use 'sink: log'")
            ]
        }
        return []
    }

    private let input: PacketInput
    private let output: PacketLane
    private let flushTicks: Int64
    private let timestamps: Bool
    private let prefix: String
    private let log: Logger
    private var file: FileHandle?
    private let toLog: Bool
    private let toChat: Bool
    /// The session's chat, when its host gave one (`sink: chat` refuses to start without it).
    private let outbox: TextOutbox?
    private var pending = ""
    private var startedAt: Int64 = 0
    private var lastPieceTick: Int64 = 0
    /// Sentences delivered so far.
    public private(set) var sentences: [String] = []

    public init(_ setup: NodeSetup) throws {
        let p = setup.params
        input = setup.packetInput("in")
        output = setup.packetOutput("out")
        flushTicks = max(1, Tick.count(seconds: p[Param.flushAfter]))
        timestamps = p[Param.timestamps]
        prefix = p[Param.prefix]
        log = setup.log
        toLog = p[Param.sink] == "log"
        toChat = p[Param.sink] == "chat"
        outbox = setup.resources.get(TextOutbox.self)
        if p[Param.sink] == "file", let path = p[Param.path] {
            try createParentDirectory(of: path)
            if !FileManager.default.fileExists(atPath: path) {
                guard FileManager.default.createFile(atPath: path, contents: nil) else {
                    throw NodeError("cannot create '\(path)'")
                }
            }
            guard let handle = FileHandle(forWritingAtPath: path) else {
                throw NodeError("cannot open '\(path)' for writing")
            }
            handle.seekToEndOfFile()
            file = handle
        }
    }

    public func start() throws {
        guard toChat && outbox == nil else { return }
        throw NodeError(
            "TextRelay with sink: chat needs a voice session's chat, and this run has none: `router run` of the "
                + "pipeline starts the bot, which gives the node its text channel (without DISCORD_TOKEN, the "
                + "built-in Discord simulator's); running the graph on its own, use sink: log or sink: file")
    }

    /// Sentences the chat outbox refused because it was full.
    public var chatDropped: Int { outbox?.dropped ?? 0 }

    /// An unfinished sentence is delivered once it reaches this many UTF-8 bytes (a spoken sentence is far shorter).
    public static let maxSentenceBytes = 4096

    /// True for pieces that are markup, not words: `<s>`, `</s>`, `<0xE2>`.
    static func isTag(_ piece: String) -> Bool {
        let t = piece.trimmingCharacters(in: .whitespaces)
        return t.count >= 2 && t.hasPrefix("<") && t.hasSuffix(">")
    }

    public func process(_ tick: Tick) throws {
        input.forEach { bytes in
            let piece = String(decoding: bytes, as: UTF8.self)
            guard !Self.isTag(piece), !piece.isEmpty else { return }
            if pending.isEmpty {
                startedAt = tick.index
                pending = String(piece.drop { $0 == " " })
            } else {
                pending += piece
            }
            lastPieceTick = tick.index
            if let last = pending.trimmingCharacters(in: .whitespaces).last, ".?!".contains(last) {
                flush()
            }
            // A server that never ends a sentence nor pauses must not grow `pending` for ever.
            else if pending.utf8.count >= Self.maxSentenceBytes {
                flush()
            }
        }
        if !pending.isEmpty && tick.index - lastPieceTick >= flushTicks { flush() }
        if input.allEnded && !pending.isEmpty { flush() }
    }

    public func stop() {
        if !pending.isEmpty { flush() }
        try? file?.close()
        file = nil
    }

    private func flush() {
        let sentence = pending.trimmingCharacters(in: .whitespaces)
        pending = ""
        guard !sentence.isEmpty else { return }
        sentences.append(sentence)
        output.append(Array(sentence.utf8))
        let seconds = Tick.seconds(startedAt)
        let stamp =
            timestamps
            ? String(format: "[%02d:%05.2f] ", Int(seconds) / 60, seconds.truncatingRemainder(dividingBy: 60)) : ""
        let line = stamp + prefix + sentence
        if toLog { log.info(line) }
        if toChat, let outbox {
            // The chat shows its own times: the sentence with its prefix only.
            if !outbox.post(prefix + sentence) { log.warning("the chat outbox is full; a sentence was dropped") }
        }
        file?.write(Data((line + "\n").utf8))
    }
}
