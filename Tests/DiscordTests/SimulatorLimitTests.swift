import DiscordSimulator
import Foundation
import NIOCore
import NIOPosix
import NIOWebSocket
import XCTest

@testable import Discord

/// The simulator enforces Discord's gateway limits as Discord does, and honours nonces; checked with a raw
/// WebSocket (our client refuses to break the limits itself).
final class SimulatorLimitTests: XCTestCase {
    private func rawConnection(_ harness: Harness) async throws -> GatewayWebSocket.Connection {
        let url = try DiscordURL(harness.simulator.gatewayURL + "?v=10&encoding=json", allowed: ["ws"])
        return try await GatewayWebSocket.connect(
            to: url, tls: nil, group: MultiThreadedEventLoopGroup.singleton,
            userAgent: "raw-test")
    }

    /// Sends `payloads` as text frames and returns the close code the server sent.
    private func closeCode(_ harness: Harness, sending payloads: [String]) async throws -> Int? {
        let connection = try await rawConnection(harness)
        return try await connection.executeThenClose { inbound, outbound in
            for payload in payloads {
                try? await outbound.write(
                    WebSocketFrame(
                        fin: true, opcode: .text, maskKey: .random(),
                        data: ByteBuffer(string: payload)))
            }
            for try await frame in inbound where frame.opcode == .connectionClose {
                var data = frame.unmaskedData
                return data.readInteger(as: UInt16.self).map(Int.init)
            }
            return nil
        }
    }

    func testPayloadOver4096BytesClosesWith4002() async throws {
        let harness = try await Harness.start(self)
        let big = #"{"op":1,"d":null,"pad":""# + String(repeating: "x", count: 4_100) + #""}"#
        let code = try await closeCode(harness, sending: [big])
        XCTAssertEqual(code, 4002)
    }

    func testMoreThan120SendsPerMinuteClosesWith4008() async throws {
        let harness = try await Harness.start(self)
        let code = try await closeCode(harness, sending: Array(repeating: #"{"op":1,"d":null}"#, count: 125))
        XCTAssertEqual(code, 4008)
        let acks = harness.simulator.receivedPayloads.filter { $0.op == 1 }.count
        XCTAssertEqual(acks, 120, "the 121st send closes the connection")
    }

    func testUnknownOpcodeAndGarbageAreRejected() async throws {
        let harness = try await Harness.start(self)
        let unknown = try await closeCode(harness, sending: [#"{"op":42,"d":null}"#])
        XCTAssertEqual(unknown, 4001)
        let garbage = try await closeCode(harness, sending: ["not json"])
        XCTAssertEqual(garbage, 4002)
        let wrongToken = try await closeCode(
            harness,
            sending: [
                #"{"op":2,"d":{"token":"nope","intents":33409,"properties":{"os":"linux","browser":"x","device":"x"}}}"#
            ])
        XCTAssertEqual(wrongToken, 4004)
    }

    func testEnforcedNonceMakesRetriesIdempotent() async throws {
        let harness = try await Harness.start(self)
        let client = try harness.makeClient()
        let channel = try XCTUnwrap(harness.simulator.guilds.first).textChannelID
        let body = MessageCreateBody(content: "once", nonce: "retry-nonce-1")
        let first = try await client.rest.request(
            .createMessage(channel: Snowflake(channel)), body: body,
            as: DiscordMessage.self)
        let retry = try await client.rest.request(
            .createMessage(channel: Snowflake(channel)), body: body,
            as: DiscordMessage.self)
        XCTAssertEqual(first.id, retry.id)
        XCTAssertEqual(harness.simulator.postedMessages.count, 1)
    }

    func testGatewayURLOverride() async throws {
        let harness = try await Harness.start(self)
        let client = try harness.makeClient {
            $0.gatewayURL = try? DiscordURL(harness.simulator.gatewayURL, allowed: ["ws", "wss"])
        }
        let events = EventRecorder(client)
        let run = Task { try await client.run() }
        await eventually("READY via DISCORD_GATEWAY_URL") { events.count { $0.isReady } == 1 }
        run.cancel()
        _ = try? await run.value
    }
}
