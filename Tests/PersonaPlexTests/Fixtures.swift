import Foundation

/// Test media and certificates made with command-line tools (sox, opusenc, openssl) at test time.
enum Fixtures {
    private static let directory: URL = {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("pplx-fixtures-\(ProcessInfo.processInfo.processIdentifier)")
        try? FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }()

    private static let tonePagesResult: Result<[[UInt8]], Error> = Result {
        let wav = directory.appendingPathComponent("tone.wav").path
        let opus = directory.appendingPathComponent("tone.opus").path
        try runTool(
            "sox",
            [
                "-n", "-r", "48000", "-c", "1", "-b", "16", "-e", "signed-integer", wav,
                "synth", "3", "sine", "440", "vol", "0.3",
            ])
        // --max-delay 20 flushes a page per 20 ms packet, like a live encoder.
        try runTool("opusenc", ["--quiet", "--max-delay", "20", wav, opus])
        return try OggPages.split([UInt8](try Data(contentsOf: URL(fileURLWithPath: opus))))
    }

    /// 3 s of a 440 Hz tone as Ogg Opus pages: OpusHead, OpusTags, then one 20 ms packet per page.
    static func tonePages() throws -> [[UInt8]] { try tonePagesResult.get() }

    struct TLSFiles {
        let caFile: String
        let certificate: String
        let key: String
    }

    private static let tlsResult: Result<TLSFiles, Error> = Result {
        let dir = directory.appendingPathComponent("tls")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
        try runTool(
            "openssl",
            ["req", "-x509"] + ec + [
                "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                "-subj", "/CN=PersonaPlex Test CA",
                "-addext", "basicConstraints=critical,CA:TRUE",
                "-addext", "keyUsage=critical,keyCertSign,cRLSign",
            ], in: dir)
        try runTool(
            "openssl",
            ["req"] + ec + [
                "-keyout", "server.key", "-out", "server.csr",
                "-subj", "/CN=localhost",
            ], in: dir)
        try Data(
            """
            subjectAltName=IP:127.0.0.1,DNS:localhost
            basicConstraints=CA:FALSE
            keyUsage=digitalSignature
            extendedKeyUsage=serverAuth

            """.utf8
        ).write(to: dir.appendingPathComponent("server.ext"))
        try runTool(
            "openssl",
            [
                "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
            ], in: dir)
        return TLSFiles(
            caFile: dir.appendingPathComponent("ca.pem").path,
            certificate: dir.appendingPathComponent("server.pem").path,
            key: dir.appendingPathComponent("server.key").path)
    }

    /// A throw-away CA and a server certificate for 127.0.0.1/localhost signed by it.
    static func tls() throws -> TLSFiles { try tlsResult.get() }
}

/// Splits an Ogg stream into pages (`OggS`, 27-byte header, segment table, body).
enum OggPages {
    static func split(_ bytes: [UInt8]) throws -> [[UInt8]] {
        var pages: [[UInt8]] = []
        var offset = 0
        while offset < bytes.count {
            guard bytes.count - offset >= 27, bytes[offset..<offset + 4].elementsEqual("OggS".utf8) else {
                throw TestSupportError("no Ogg page at offset \(offset)")
            }
            let segments = Int(bytes[offset + 26])
            guard bytes.count - offset >= 27 + segments else { throw TestSupportError("truncated segment table") }
            let body = bytes[offset + 27..<offset + 27 + segments].reduce(0) { $0 + Int($1) }
            let length = 27 + segments + body
            guard bytes.count - offset >= length else { throw TestSupportError("truncated page") }
            pages.append(Array(bytes[offset..<offset + length]))
            offset += length
        }
        return pages
    }
}
