import Foundation

/// Why the interop run failed.
struct InteropFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}

/// The Python driver process (`Tests/interop/driver.py`) hosting the dave.py and davey members; one JSON request
/// line on its stdin, one JSON reply line on its stdout.
final class PythonDriver {
    private let process = Process()
    private let input = Pipe()
    private let output = Pipe()
    private var buffer = Data()

    init(python: String, script: String) throws {
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = ["-u", script]
        process.standardInput = input
        process.standardOutput = output
        process.standardError = FileHandle.standardError
        try process.run()
    }

    /// Sends `request` and returns the reply's fields; a driver-side exception becomes an `InteropFailure`.
    func call(_ request: [String: Any]) throws -> [String: Any] {
        var line = try JSONSerialization.data(withJSONObject: request)
        line.append(0x0A)
        input.fileHandleForWriting.write(line)
        while true {
            if let newline = buffer.firstIndex(of: 0x0A) {
                let reply = buffer[buffer.startIndex..<newline]
                buffer = Data(buffer[(newline + 1)...])
                guard let object = try JSONSerialization.jsonObject(with: reply) as? [String: Any] else {
                    throw InteropFailure("driver sent a non-object reply")
                }
                guard object["ok"] as? Bool == true else {
                    throw InteropFailure(
                        "driver \(request["cmd"] ?? "?") failed: \(object["error"] ?? "unknown error")")
                }
                return object
            }
            let chunk = output.fileHandleForReading.availableData
            guard !chunk.isEmpty else { throw InteropFailure("driver exited") }
            buffer.append(chunk)
        }
    }

    func close() {
        try? input.fileHandleForWriting.close()
        process.waitUntilExit()
    }
}

enum Hex {
    static func encode(_ bytes: [UInt8]) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var characters: [UInt8] = []
        characters.reserveCapacity(bytes.count * 2)
        for byte in bytes {
            characters.append(digits[Int(byte >> 4)])
            characters.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: characters, as: UTF8.self)
    }

    static func decode(_ text: String) throws -> [UInt8] {
        let characters = Array(text.utf8)
        guard characters.count % 2 == 0 else { throw InteropFailure("odd-length hex") }
        func nibble(_ c: UInt8) throws -> UInt8 {
            switch c {
            case 0x30...0x39: return c - 0x30
            case 0x61...0x66: return c - 0x61 + 10
            case 0x41...0x46: return c - 0x41 + 10
            default: throw InteropFailure("bad hex digit")
            }
        }
        return try stride(from: 0, to: characters.count, by: 2).map {
            try nibble(characters[$0]) << 4 | nibble(characters[$0 + 1])
        }
    }
}
