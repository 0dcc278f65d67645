import DAVE
import Foundation

/// dave-interop: DAVE interoperability harness and benchmarks.
///
///     dave-interop scenario <name> --python <venv python> --driver <Tests/interop/driver.py>
///     dave-interop bench
let arguments = Array(CommandLine.arguments.dropFirst())

func option(_ name: String) -> String? {
    guard let index = arguments.firstIndex(of: name), index + 1 < arguments.count else { return nil }
    return arguments[index + 1]
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("dave-interop: \(message)\n".utf8))
    exit(1)
}

switch arguments.first {
case "scenario":
    guard arguments.count >= 2, let python = option("--python"), let script = option("--driver") else {
        fail("usage: dave-interop scenario <\(Scenarios.names.joined(separator: "|"))> --python P --driver D")
    }
    do {
        let driver = try PythonDriver(python: python, script: script)
        defer { driver.close() }
        var scenarios = Scenarios(driver: driver) { print($0) }
        try scenarios.run(arguments[1])
        print("PASS \(arguments[1])")
    } catch {
        fail("FAIL \(arguments[1]): \(error)")
    }
case "bench":
    do { try Bench.run() } catch { fail("bench failed: \(error)") }
default:
    fail("usage: dave-interop scenario <name> --python P --driver D | dave-interop bench")
}
