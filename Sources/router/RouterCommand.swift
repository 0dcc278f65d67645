import ArgumentParser
import Bridge
import Foundation
import Nodes
import Realtime
import RouterCore
import Synchronization

/// `router`: run, check and inspect voice-router pipelines.
@main
struct RouterCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router",
        abstract: "A voice router: audio graphs declared in YAML pipeline files.",
        discussion: """
            Pipelines name nodes and link them: '- source -> mix -> encode -> ai.audio'.
            ${VAR} and ${VAR:-default} in a pipeline are taken from the environment and from .env.
            """,
        subcommands: [RunCommand.self, CheckCommand.self, GraphCommand.self, NodesCommand.self]
    )
}

/// Options shared by the commands that read a pipeline file.
struct PipelineOptions: ParsableArguments {
    @Argument(help: "The pipeline file (YAML).")
    var file: String

    @Option(name: .customLong("env-file"), help: "Variables for ${VAR} interpolation (the environment wins).")
    var envFile: String = ".env"

    /// Loads and validates the pipeline; on errors prints them all and exits with status 1.
    func load() throws -> ValidatedPipeline {
        do {
            let environment = try PipelineEnvironment.load(dotEnvPath: envFile)
            return try PipelineValidator(registry: .standard).load(path: file, environment: environment)
        } catch let errors as PipelineErrors {
            printError(errors.description)
            throw ExitCode(1)
        }
    }
}

func printError(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

/// `router run`: runs a pipeline until its sources end, a node fails, or SIGINT/SIGTERM.
struct RunCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a pipeline.",
        discussion:
            "Ends by itself when every source has ended (exit 0); Ctrl-C stops it gracefully (exit 0); a node failure exits 1. "
            + "A pipeline with DiscordIn or DiscordOut runs the Discord bot, one graph per voice session (without "
            + "DISCORD_TOKEN: the demo against the built-in simulator and PersonaPlex stand-in)."
    )

    @OptionGroup var pipeline: PipelineOptions

    @Flag(help: "Print per-node metrics when the run ends.")
    var metrics = false

    @Option(name: .customLong("metrics-interval"), help: "Also log metrics every N seconds.")
    var metricsInterval: Double?

    @Option(name: .customLong("max-duration"), help: "Stop after this many seconds of session time.")
    var maxDuration: Double?

    @Option(name: .customLong("log-level"), help: "debug, info, warning or error (default info).")
    var logLevel: String?

    func run() async throws {
        guard let level = LogLevel.allCases.first(where: { $0.label == logLevel ?? "info" }) else {
            throw ValidationError("--log-level must be debug, info, warning or error")
        }
        RouterLog.shared.level = level
        let validated = try pipeline.load()
        if BridgePipeline.needsDiscord(validated) {
            let variables = try PipelineEnvironment.load(dotEnvPath: pipeline.envFile).variables
            return try await BridgeRun.run(
                file: pipeline.file, variables: variables, explicitLogLevel: logLevel != nil)
        }
        let graph: Graph
        do { graph = try Graph(validated) } catch {
            printError("error: \(error)")
            throw ExitCode(1)
        }
        let session = Session(graph: graph)
        let signals = SignalTrap { session.requestStop() }
        defer { withExtendedLifetime(signals) {} }
        let log = Logger("router")
        log.info(
            "running \(validated.spec.name ?? pipeline.file): \(validated.nodes.count) nodes, \(validated.runsFast ? "fast" : "real-time")"
        )
        let outcome = await session.runOnThread(
            realtime: !validated.runsFast,
            maxTicks: maxDuration.map { Tick.count(seconds: $0) },
            metricsInterval: metricsInterval ?? validated.spec.session.metricsInterval)
        let seconds = Tick.seconds(session.tickIndex)
        if metrics {
            print(MetricsReport.render(session.metrics))
            let latencies = MetricsReport.renderLatencies(session.graph)
            if !latencies.isEmpty { print(latencies) }
        }
        switch outcome {
        case .completed, .stopped:
            log.info(
                "session \(outcome) after \(String(format: "%.2f", seconds)) s of audio"
                    + (session.lateTicks > 0 ? " (\(session.lateTicks) late ticks)" : ""))
        case .failed(let error):
            printError("error: \(error)")
            throw ExitCode(1)
        }
    }
}

/// Turns SIGINT/SIGTERM into a graceful stop; a second signal exits at once.
final class SignalTrap {
    /// Kept for the trap's lifetime: a cancelled or released source stops delivering.
    private let sources: [any DispatchSourceSignal]

    /// What both handlers share: how many signals arrived, and what to do on the first.
    private final class Handler: Sendable {
        private let count = Atomic<Int>(0)
        private let onSignal: @Sendable () -> Void
        init(_ onSignal: @escaping @Sendable () -> Void) { self.onSignal = onSignal }

        func received(_ sig: Int32) {
            if count.add(1, ordering: .relaxed).newValue > 1 { exit(130) }
            Logger("router").info("signal \(sig): stopping (again to exit at once)")
            onSignal()
        }
    }

    init(onSignal: @escaping @Sendable () -> Void) {
        let handler = Handler(onSignal)
        let queue = DispatchQueue(label: "router.signals")
        var sources: [any DispatchSourceSignal] = []
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: sig, queue: queue)
            source.setEventHandler { handler.received(sig) }
            source.resume()
            sources.append(source)
        }
        self.sources = sources
    }
}

/// `router check`: validates pipeline files and reports every problem with file:line:column.
struct CheckCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "check",
        abstract: "Validate pipeline files without running them.",
        discussion:
            "Prints every problem as file:line:column: error: message, with a hint; exits 1 if any file has errors."
    )

    @Argument(help: "Pipeline files (YAML).")
    var files: [String]

    @Option(name: .customLong("env-file"), help: "Variables for ${VAR} interpolation (the environment wins).")
    var envFile: String = ".env"

    func run() throws {
        var failed = false
        let environment: PipelineEnvironment
        do { environment = try PipelineEnvironment.load(dotEnvPath: envFile) } catch {
            printError("\(error)")
            throw ExitCode(1)
        }
        let validator = PipelineValidator(registry: .standard)
        for file in files {
            let start = SystemClock.now()
            do {
                let p = try validator.load(path: file, environment: environment)
                let ms = Double(Nanoseconds.elapsed(from: start, to: SystemClock.now())) / 1e6
                print(
                    "ok: \(file) (\(p.nodes.count) nodes, \(p.links.count) links) checked in \(String(format: "%.1f", ms)) ms"
                )
            } catch let errors as PipelineErrors {
                printError(errors.description)
                failed = true
            }
        }
        if failed { throw ExitCode(1) }
    }
}

/// `router graph`: prints a pipeline's graph.
struct GraphCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "graph",
        abstract: "Print a pipeline's graph as ASCII, Graphviz DOT or Mermaid."
    )

    @OptionGroup var pipeline: PipelineOptions

    @Option(help: "ascii, dot or mermaid.")
    var format: String = "ascii"

    func run() throws {
        guard let f = GraphPrinter.Format(rawValue: format) else {
            throw ValidationError("--format must be ascii, dot or mermaid")
        }
        print(GraphPrinter.render(try pipeline.load(), as: f))
    }
}

/// `router nodes`: the node catalogue, printed from the registry.
struct NodesCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "nodes",
        abstract: "List the node types with their ports, formats and parameters."
    )

    @Argument(help: "Show only this node type.")
    var type: String?

    func run() throws {
        let registry = NodeRegistry.standard
        if let type, registry.type(named: type) == nil {
            throw ValidationError("unknown node type '\(type)'." + Spelling.didYouMean(type, among: registry.typeNames))
        }
        print(registry.catalogue(only: type), terminator: "")
    }
}
