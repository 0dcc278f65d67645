import Foundation
import Nodes
import RouterCore

/// The pipeline file a bot runs once per voice session: read and checked once at start-up (with each
/// `${session.*}` reference reading its example value), then instantiated per session with the session's values.
public struct BridgePipeline: Sendable {
    /// The node types that need a Discord voice session to run.
    public static let discordNodeTypes: Set<String> = ["DiscordIn", "DiscordOut"]

    public let path: String
    public let yaml: String
    public let environment: PipelineEnvironment
    /// `name:` from the file, or the path.
    public let name: String
    /// `session: {metrics_interval: …}` from the file.
    public let metricsInterval: Double?

    /// Reads and validates `path`; throws the validator's file:line:column errors.
    public init(path: String, environment: PipelineEnvironment) throws {
        self.path = path
        yaml = try String(contentsOfFile: path, encoding: .utf8)
        self.environment = environment
        let checked = try PipelineValidator(registry: .standard).validate(
            yaml: yaml, file: path, environment: environment)
        name = checked.spec.name ?? path
        metricsInterval = checked.spec.session.metricsInterval
        guard Self.needsDiscord(checked) else {
            throw BridgeError.notADiscordPipeline(path)
        }
    }

    /// Whether a pipeline reads or writes a Discord voice channel (so `router run` starts the bot for it).
    public static func needsDiscord(_ pipeline: ValidatedPipeline) -> Bool {
        pipeline.nodes.contains { discordNodeTypes.contains($0.type.typeName) }
    }

    /// The pipeline with one session's values.
    public func instantiate(_ values: SessionValues) throws -> ValidatedPipeline {
        var environment = environment
        environment.session = values
        return try PipelineValidator(registry: .standard).validate(yaml: yaml, file: path, environment: environment)
    }
}

/// Why the bridge cannot run.
public enum BridgeError: Error, CustomStringConvertible, Sendable {
    case notADiscordPipeline(String)

    public var description: String {
        switch self {
        case .notADiscordPipeline(let path):
            return "\(path) has no DiscordIn or DiscordOut node, so it needs no bot: run it with `router run`"
        }
    }
}
