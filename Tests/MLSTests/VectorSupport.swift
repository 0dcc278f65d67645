import Foundation
import XCTest

@testable import MLS

/// Loads the official RFC 9420 test vectors from `<package root>/../shared/vectors/mls/`.
enum Vectors {
    static var directory: URL {
        URL(fileURLWithPath: #filePath).resolvingSymlinksInPath()
            .deletingLastPathComponent()  // MLSTests
            .deletingLastPathComponent()  // Tests
            .deletingLastPathComponent()  // package root
            .appendingPathComponent("../shared/vectors/mls")
            .standardizedFileURL
    }

    static func load(_ name: String) throws -> [[String: Any]] {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        guard let array = try JSONSerialization.jsonObject(with: data) as? [[String: Any]] else {
            throw MLSError.invalidValue("\(name) is not an array of objects")
        }
        return array
    }

    /// Cases for cipher suite 2 (files without a suite field are returned whole).
    static func suite2(_ name: String) throws -> [[String: Any]] {
        try load(name).filter { ($0["cipher_suite"] as? Int).map { $0 == 2 } ?? true }
    }
}

func hex(_ string: String) -> [UInt8] {
    var bytes: [UInt8] = []
    var index = string.startIndex
    while index < string.endIndex {
        let next = string.index(index, offsetBy: 2)
        bytes.append(UInt8(string[index..<next], radix: 16) ?? 0)
        index = next
    }
    return bytes
}

func hexString(_ bytes: [UInt8]) -> String { bytes.map { String(format: "%02x", $0) }.joined() }

extension Dictionary where Key == String, Value == Any {
    func bytes(_ key: String, file: StaticString = #filePath, line: UInt = #line) -> [UInt8] {
        guard let value = self[key] as? String else {
            XCTFail("missing hex field \(key)", file: file, line: line)
            return []
        }
        return hex(value)
    }
    func optionalBytes(_ key: String) -> [UInt8]? { (self[key] as? String).map(hex) }
    func int(_ key: String) -> Int { (self[key] as? NSNumber)?.intValue ?? -1 }
    func uint64(_ key: String) -> UInt64 { (self[key] as? NSNumber)?.uint64Value ?? 0 }
    func string(_ key: String) -> String { self[key] as? String ?? "" }
    func object(_ key: String) -> [String: Any] { self[key] as? [String: Any] ?? [:] }
    func objects(_ key: String) -> [[String: Any]] { self[key] as? [[String: Any]] ?? [] }
}
