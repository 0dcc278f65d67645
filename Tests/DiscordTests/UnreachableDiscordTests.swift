import DiscordSimulator
import Foundation
import NIOCore
import NIOPosix
import NIOSSL
import XCTest

@testable import Discord

/// A dead endpoint (connection refused) is one clear line within seconds, at start, for REST and the gateway.
final class UnreachableDiscordTests: XCTestCase {
    /// A loopback port nothing listens on: bound, then released.
    static func deadPort() async throws -> Int {
        let channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .bind(host: "127.0.0.1", port: 0).get()
        let port = try XCTUnwrap(channel.localAddress?.port)
        try await channel.close()
        return port
    }

    func testDeadRESTEndpointFailsFastWithOneLine() async throws {
        let port = try await Self.deadPort()
        let configuration = try DiscordConfiguration.fromEnvironment([
            "DISCORD_TOKEN": Harness.token, "DISCORD_API_BASE": "http://127.0.0.1:\(port)/api/v10",
        ])
        let log = CapturedLog()
        let client = try DiscordClient(configuration: configuration, logger: log.logger())
        let started = ContinuousClock.now
        do {
            try await client.run()
            XCTFail("run returned with Discord unreachable")
        } catch let error as DiscordError {
            guard case let .unreachable(url, reason, attempts, setting) = error else { return XCTFail("\(error)") }
            XCTAssertEqual(url, "http://127.0.0.1:\(port)/api/v10")
            XCTAssertTrue(reason.contains("connection refused"), reason)
            XCTAssertEqual(attempts, DiscordREST.connectAttempts)
            XCTAssertEqual(setting, "DISCORD_API_BASE")
            XCTAssertFalse(error.description.contains("\n"), error.description)
            XCTAssertFalse(error.description.contains("CANARY"), "no token in the error")
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(15), "not minutes of retries")
        XCTAssertFalse(log.text.contains("token-canary"))
        await client.shutdown()
    }

    func testDeadGatewayEndpointFailsFastWithOneLine() async throws {
        let harness = try await Harness.start(self)
        let port = try await Self.deadPort()
        let client = try harness.makeClient {
            $0.gatewayURL = try? DiscordURL("ws://127.0.0.1:\(port)/", allowed: ["ws"])
        }
        let started = ContinuousClock.now
        do {
            try await client.run()
            XCTFail("run returned with the gateway unreachable")
        } catch let error as DiscordError {
            guard case let .unreachable(url, reason, attempts, setting) = error else { return XCTFail("\(error)") }
            XCTAssertTrue(url.hasPrefix("ws://127.0.0.1:\(port)/"), url)
            XCTAssertTrue(reason.contains("connection refused"), reason)
            XCTAssertEqual(attempts, GatewayShard.startupConnectAttempts)
            XCTAssertTrue(setting.contains("DISCORD_GATEWAY_URL"), setting)
            XCTAssertFalse(error.description.contains("\n"), error.description)
        }
        XCTAssertLessThan(ContinuousClock.now - started, .seconds(15))
    }

    /// Only failures before anything was sent count as "cannot connect" (and may be retried for any request):
    /// a reset or a TLS close after the request could repeat a message.
    func testOnlyConnectionEstablishmentFailuresCount() {
        XCTAssertEqual(
            ConnectFailure.reason(IOError(errnoCode: ECONNREFUSED, reason: "connect")),
            "connection refused (nothing listens there)")
        XCTAssertNotNil(ConnectFailure.reason(ChannelError.connectTimeout(.seconds(10))))
        XCTAssertNil(ConnectFailure.reason(IOError(errnoCode: ECONNRESET, reason: "read")))
        XCTAssertNil(ConnectFailure.reason(IOError(errnoCode: EPIPE, reason: "write")))
        XCTAssertNil(ConnectFailure.reason(NIOSSLError.uncleanShutdown))
        XCTAssertNil(ConnectFailure.reason(ChannelError.ioOnClosedChannel))
        XCTAssertNil(ConnectFailure.reason(DiscordError.payloadTooLarge(bytes: 5000)))
    }

    /// Once a session existed, a gateway outage is Discord's: the shard keeps trying (and resumes when it can).
    func testGatewayOutageAfterASessionKeepsReconnecting() async throws {
        let harness = try await Harness.start(self)
        let client = try harness.makeClient()
        let events = EventRecorder(client)
        let run = Task { try await client.run() }
        await eventually("READY") { events.count { $0.isReady } == 1 }
        harness.simulator.dropGatewayConnections()
        await eventually("RESUMED") { events.count { $0.isResumed } == 1 }
        XCTAssertTrue(events.all.allSatisfy { if case .shardStopped = $0 { return false } else { return true } })
        run.cancel()
        _ = try? await run.value
    }
}
