import Foundation
import XCTest

/// The shipped `router` must not carry the benchmarks' malloc interposer (CAllocCounter): every allocation of a
/// running bot would pay for counting. Only `router-bench` defines `malloc`.
final class LinkageTests: XCTestCase {
    /// How `malloc` appears among a binary's dynamic symbols (`nm -D`): "U" (taken from libc) or "T" (defined here).
    private func mallocSymbolKinds(_ binary: String) throws -> Set<String> {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/nm")
        process.arguments = ["-D", try RouterBinary.url(binary).path]
        let out = Pipe()
        process.standardOutput = out
        process.standardError = FileHandle.nullDevice
        try process.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        XCTAssertEqual(process.terminationStatus, 0, "nm -D \(binary)")
        var kinds: Set<String> = []
        for line in String(decoding: data, as: UTF8.self).split(separator: "\n") {
            let fields = line.split(separator: " ")
            // "U malloc@GLIBC_2.2.5" or "000000000021f230 T malloc"
            guard fields.count >= 2, fields[fields.count - 1].split(separator: "@").first == "malloc" else { continue }
            kinds.insert(String(fields[fields.count - 2]))
        }
        return kinds
    }

    func testTheRouterTakesMallocFromLibcAndOnlyTheBenchInterposesIt() throws {
        XCTAssertEqual(try mallocSymbolKinds("router"), ["U"], "router must not define malloc")
        XCTAssertEqual(try mallocSymbolKinds("router-bench"), ["T"], "router-bench counts allocations")
    }
}
