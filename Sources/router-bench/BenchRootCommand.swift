import ArgumentParser

/// `router-bench`: the router's benchmarks, kept out of the shipped `router` binary together with the malloc
/// interposer that counts their allocations (`CAllocCounter` replaces glibc's allocator in whichever executable
/// links it).
struct BenchRootCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "router-bench",
        abstract: "Benchmarks of the voice router: per-node engine cost and a live PersonaPlex link.",
        discussion: "Build with -c release for meaningful numbers (make bench, make bench-link).",
        subcommands: [BenchCommand.self, LinkBenchCommand.self]
    )
}
