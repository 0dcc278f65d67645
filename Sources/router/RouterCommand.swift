import ArgumentParser
import Foundation
import Nodes
import RouterCore

/// `router`: run, check and inspect voice-router pipelines.
struct RouterCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router",
        abstract: "A voice router: audio graphs declared in YAML pipeline files.",
        subcommands: [NodesCommand.self]
    )
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
