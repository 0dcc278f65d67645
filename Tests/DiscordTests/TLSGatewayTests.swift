import DiscordSimulator
import Foundation
import XCTest

@testable import Discord

/// `wss://` and `https://` against the simulator serving TLS with a test CA made here by `openssl`: the client
/// trusts it through `DISCORD_CA_FILE`, and a wrong CA is a clear TLS error within seconds, not a hang.
final class TLSGatewayTests: XCTestCase {
    /// A CA, a server certificate it issued for 127.0.0.1, and an unrelated CA.
    struct TestPKI {
        let directory: URL
        var ca: String { directory.appendingPathComponent("ca.pem").path }
        var otherCA: String { directory.appendingPathComponent("other-ca.pem").path }
        var serverChain: String { directory.appendingPathComponent("server.pem").path }
        var serverKey: String { directory.appendingPathComponent("server.key").path }

        static func make() throws -> TestPKI {
            let directory = FileManager.default.temporaryDirectory
                .appendingPathComponent("discord-tls-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
            let pki = TestPKI(directory: directory)
            let ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
            for name in ["ca", "other-ca"] {
                try pki.openssl(
                    ["req", "-x509"] + ec + [
                        "-keyout", "\(name).key", "-out", "\(name).pem", "-days", "2", "-subj", "/CN=Test \(name)",
                        "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign",
                    ])
            }
            try pki.openssl(
                ["req", "-new"] + ec + ["-keyout", "server.key", "-out", "server.csr", "-subj", "/CN=localhost"])
            try Data("subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n".utf8)
                .write(to: directory.appendingPathComponent("server.ext"))
            try pki.openssl([
                "x509", "-req", "-in", "server.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
                "-out", "server.pem", "-days", "2", "-extfile", "server.ext",
            ])
            return pki
        }

        private func openssl(_ arguments: [String]) throws {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
            process.arguments = ["openssl"] + arguments
            process.currentDirectoryURL = directory
            process.standardOutput = FileHandle.nullDevice
            process.standardError = FileHandle.nullDevice
            try process.run()
            process.waitUntilExit()
            guard process.terminationStatus == 0 else {
                throw XCTSkip("openssl \(arguments.first ?? "") failed (exit \(process.terminationStatus))")
            }
        }
    }

    private func start(_ pki: TestPKI, rest: Bool = true) async throws -> Harness {
        try await Harness.start(self) {
            $0.tls = SimulatorTLS(
                certificateChainFile: pki.serverChain, privateKeyFile: pki.serverKey, rest: rest, gateway: true)
        }
    }

    private func client(_ harness: Harness, caFile: String) throws -> DiscordClient {
        var configuration = try DiscordConfiguration.fromEnvironment([
            "DISCORD_TOKEN": Harness.token, "DISCORD_API_BASE": harness.simulator.apiBase, "DISCORD_CA_FILE": caFile,
        ])
        configuration.reconnectDelay = .milliseconds(50)
        let client = try DiscordClient(configuration: configuration, logger: harness.log.logger("client"))
        addTeardownBlock { await client.shutdown() }
        return client
    }

    func testHTTPSAndWSSWithTheTestCAFromDiscordCAFile() async throws {
        let pki = try TestPKI.make()
        let harness = try await start(pki)
        XCTAssertTrue(harness.simulator.apiBase.hasPrefix("https://"))
        XCTAssertTrue(harness.simulator.gatewayURL.hasPrefix("wss://"))
        let client = try client(harness, caFile: pki.ca)
        let events = EventRecorder(client)
        let run = Task { try await client.run() }
        await eventually("READY over wss") { events.count { $0.isReady } == 1 }
        await eventually("GUILD_CREATEs") { events.count { $0.isGuildCreate } == 2 }
        // A resume goes through TLS again (resume_gateway_url is wss:// too).
        harness.simulator.dropGatewayConnections()
        await eventually("RESUMED over wss") { events.count { $0.isResumed } == 1 }
        let guild = try XCTUnwrap(harness.simulator.guilds.first)
        try await client.rest.sendMessage(channelID: Snowflake(guild.textChannelID), text: "over https")
        XCTAssertEqual(harness.simulator.postedMessages.map(\.content), ["over https"])
        run.cancel()
        _ = try? await run.value
    }

    func testWrongCAOnTheGatewayIsAClearTLSErrorNotAHang() async throws {
        let pki = try TestPKI.make()
        // REST in plain text (loopback), the gateway over TLS: the failure is the gateway's.
        let harness = try await start(pki, rest: false)
        let client = try client(harness, caFile: pki.otherCA)
        let started = ContinuousClock.now
        do {
            try await client.run()
            XCTFail("connected with an untrusted certificate")
        } catch let error as DiscordError {
            guard case let .unreachable(url, reason, _, _) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(url.hasPrefix("wss://127.0.0.1"), url)
            XCTAssertTrue(reason.contains("certificate is not trusted"), reason)
            XCTAssertFalse(error.description.contains("\n"), "one line")
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(15))
        XCTAssertEqual(harness.simulator.receivedPayloads.count, 0, "nothing was sent over the untrusted connection")
    }

    func testWrongCAOnRESTIsAClearTLSError() async throws {
        let pki = try TestPKI.make()
        let harness = try await start(pki)
        let client = try client(harness, caFile: pki.otherCA)
        let started = ContinuousClock.now
        do {
            _ = try await client.rest.gatewayBot()
            XCTFail("connected with an untrusted certificate")
        } catch let error as DiscordError {
            guard case let .unreachable(url, reason, _, setting) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(url.hasPrefix("https://127.0.0.1"), url)
            XCTAssertTrue(reason.contains("certificate is not trusted"), reason)
            XCTAssertEqual(setting, "DISCORD_API_BASE")
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(15))
        XCTAssertEqual(harness.simulator.recordedRequests.count, 0)
    }
}
