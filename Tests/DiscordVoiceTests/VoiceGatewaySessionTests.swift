import Discord
import Foundation
import XCTest

@testable import DiscordVoice

final class VoiceGatewaySessionTests: XCTestCase {
    static let info = VoiceServerInfo(
        guildID: Snowflake(41), channelID: Snowflake(927_310_423_890_473_011),
        userID: Snowflake(158_049_329_150_427_136), sessionID: "sess-1",
        token: "secret-token", endpoint: "127.0.0.1:9999")

    private func json(_ frame: VoiceGatewayFrame) throws -> [String: Any] {
        guard case .text(let bytes) = frame else { throw XCTSkip("binary frame") }
        return try XCTUnwrap(JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    private func decode(_ text: String) throws -> VoiceGatewayCodec.Decoded {
        try VoiceGatewayCodec.decode(text: Array(text.utf8))
    }

    func testIdentifyHelloHeartbeatsReadySelect() throws {
        var session = VoiceGatewaySession(info: Self.info)
        let identify = try json(XCTUnwrap(session.socketOpened(now: 0).first))
        XCTAssertEqual(identify["op"] as? Int, 0)
        let d = try XCTUnwrap(identify["d"] as? [String: Any])
        XCTAssertEqual(d["max_dave_protocol_version"] as? Int, 1)
        XCTAssertEqual(d["server_id"] as? String, "41")
        XCTAssertEqual(d["user_id"] as? String, "158049329150427136")
        XCTAssertEqual(d["token"] as? String, "secret-token")
        XCTAssertFalse(Self.info.description.contains("secret-token"))

        _ = session.receive(try decode(#"{"op":8,"d":{"v":8,"heartbeat_interval":13750}}"#), now: 1_000)
        XCTAssertEqual(session.nextHeartbeat, 1_000 + 13_750_000_000)
        XCTAssertEqual(session.tick(now: 2_000, nonce: 1), .nothing)
        guard case .send(let beat) = session.tick(now: 1_000 + 13_750_000_000, nonce: 777) else {
            return XCTFail("no heartbeat")
        }
        let heartbeat = try json(beat)
        XCTAssertEqual(heartbeat["op"] as? Int, 3)
        let hd = try XCTUnwrap(heartbeat["d"] as? [String: Any])
        XCTAssertEqual(hd["t"] as? Int, 777, "t is a JSON integer")
        XCTAssertEqual(hd["seq_ack"] as? Int, -1)
        XCTAssertTrue(
            String(
                decoding: {
                    if case .text(let b) = beat { return b }
                    return []
                }(), as: UTF8.self
            )
            .contains(#""t":777"#))

        _ = session.receive(
            try decode(
                #"{"op":2,"seq":4,"d":{"ssrc":7,"ip":"127.0.0.1","port":5000,"#
                    + #""modes":["aead_xchacha20_poly1305_rtpsize","aead_aes256_gcm_rtpsize"],"heartbeat_interval":1}}"#
            ),
            now: 5)
        XCTAssertEqual(session.phase, .discovering)
        XCTAssertEqual(session.lastSeq, 4)
        let (select, mode) = try XCTUnwrap(session.discovered(address: "1.2.3.4", port: 4321))
        XCTAssertEqual(mode, TransportMode.supported.first)
        let sd = try XCTUnwrap(try json(select)["d"] as? [String: Any])
        XCTAssertEqual(sd["protocol"] as? String, "udp")
        XCTAssertEqual((sd["data"] as? [String: Any])?["mode"] as? String, mode.rawValue)
        XCTAssertEqual((sd["data"] as? [String: Any])?["port"] as? Int, 4321)

        let key = (0..<32).map(String.init).joined(separator: ",")
        _ = session.receive(
            try decode(
                #"{"op":4,"seq":5,"d":{"mode":"\#(mode.rawValue)","secret_key":[\#(key)],"#
                    + #""dave_protocol_version":1}}"#), now: 6)
        XCTAssertEqual(session.phase, .established)
        XCTAssertEqual(session.sessionDescription?.daveVersion, 1)
        // Binary frames carry the seq too.
        _ = session.receive(try VoiceGatewayCodec.decode(binary: [0x01, 0x02, 25, 0xAA]), now: 7)
        XCTAssertEqual(session.lastSeq, 0x0102)
    }

    func testResumeCarriesSeqAckAndZombieDetected() throws {
        var session = VoiceGatewaySession(info: Self.info)
        _ = session.socketOpened(now: 0)
        _ = session.receive(try decode(#"{"op":8,"d":{"heartbeat_interval":1000}}"#), now: 0)
        _ = session.receive(
            try decode(#"{"op":2,"seq":9,"d":{"ssrc":7,"ip":"127.0.0.1","port":5000,"modes":[]}}"#),
            now: 0)
        XCTAssertNil(session.discovered(address: "1.2.3.4", port: 1), "no supported mode offered")
        for i in 1...3 {
            guard case .send = session.tick(now: UInt64(i) * 1_000_000_000, nonce: i) else { return XCTFail() }
        }
        XCTAssertEqual(session.tick(now: 4_000_000_000, nonce: 4), .zombie)
        session.socketClosed()
        let resume = try json(XCTUnwrap(session.socketOpened(now: 5).first))
        XCTAssertEqual(resume["op"] as? Int, 7)
        let d = try XCTUnwrap(resume["d"] as? [String: Any])
        XCTAssertEqual(d["seq_ack"] as? Int, 9)
        XCTAssertEqual(d["session_id"] as? String, "sess-1")
        XCTAssertEqual(session.phase, .resuming)
        _ = session.receive(try decode(#"{"op":9,"d":null}"#), now: 6)
        XCTAssertEqual(session.phase, .discovering)
        session.reset()
        let identify = try json(XCTUnwrap(session.socketOpened(now: 7).first))
        XCTAssertEqual(identify["op"] as? Int, 0)
    }

    func testMalformedMessagesAreErrorsNotCrashes() {
        let bad = [
            "", "[]", "{\"op\":\"2\"}", #"{"op":2,"d":{"ssrc":-1,"ip":"x","port":1,"modes":[]}}"#,
            #"{"op":4,"d":{"mode":"m","secret_key":[1,2]}}"#, #"{"op":8,"d":{"heartbeat_interval":0}}"#,
            #"{"op":5,"d":{"user_id":"abc","ssrc":1}}"#, #"{"op":21,"d":{"transition_id":70000}}"#,
        ]
        for text in bad {
            XCTAssertThrowsError(try VoiceGatewayCodec.decode(text: Array(text.utf8)), text)
        }
        XCTAssertThrowsError(try VoiceGatewayCodec.decode(binary: [1, 2]))
        XCTAssertNil(try VoiceGatewayCodec.decode(text: Array(#"{"op":18,"d":{}}"#.utf8)).event, "unknown op ignored")
        XCTAssertNil(try VoiceGatewayCodec.decode(binary: [0, 1, 99, 5]).event)
    }

    func testDAVEMessagesEncodeAsTheProtocolSays() throws {
        XCTAssertEqual(VoiceGatewayCodec.dave(.keyPackage([9, 8])), .binary([26, 9, 8]))
        XCTAssertEqual(VoiceGatewayCodec.dave(.commitWelcome([7])), .binary([28, 7]))
        let ready = try json(VoiceGatewayCodec.dave(.readyForTransition(transitionID: 5)))
        XCTAssertEqual(ready["op"] as? Int, 23)
        XCTAssertEqual((ready["d"] as? [String: Any])?["transition_id"] as? Int, 5)
        let invalid = try json(VoiceGatewayCodec.dave(.invalidCommitWelcome(transitionID: 6)))
        XCTAssertEqual(invalid["op"] as? Int, 31)
        let speaking = try json(.text(VoiceGatewayCodec.speaking(1, ssrc: 77)))
        XCTAssertEqual(speaking["d"] as? [String: Int], ["speaking": 1, "delay": 0, "ssrc": 77])
    }

    func testCloseCodePolicy() {
        func action(_ code: Int?, _ bugs: Int = 0) -> VoiceCloseAction {
            VoiceClosePolicy.action(forCloseCode: code, payloadBugRejoinsSoFar: bugs)
        }
        XCTAssertEqual(action(nil), .resume)
        XCTAssertEqual(action(1006), .resume)
        XCTAssertEqual(action(1000), .resume)
        XCTAssertEqual(action(4015), .resume)
        for code in [4006, 4009, 4011] { XCTAssertEqual(action(code, 5), .rejoin) }
        XCTAssertEqual(action(4014), .awaitVoiceUpdate)
        XCTAssertEqual(action(4022), .awaitVoiceUpdate)
        XCTAssertEqual(action(4004), .stop(.authenticationFailed))
        XCTAssertEqual(action(4021), .stop(.rateLimited))
        XCTAssertEqual(action(4017), .stop(.daveRequired))
        XCTAssertTrue(VoiceStopReason.daveRequired.description.contains("DAVE"))
        XCTAssertTrue(VoiceStopReason.daveRequired.description.contains("refused"))
        XCTAssertEqual(action(4016, 0), .rejoin)
        XCTAssertEqual(action(4016, 1), .stop(.protocolError(code: 4016)))
    }

    func testEndpointParsing() {
        XCTAssertEqual(VoiceEndpoint(endpoint: "c-ams.discord.media:443", secure: true)?.port, 443)
        XCTAssertEqual(VoiceEndpoint(endpoint: "127.0.0.1:5050", secure: false)?.host, "127.0.0.1")
        XCTAssertEqual(VoiceEndpoint(endpoint: "example.org", secure: true)?.port, 443)
        XCTAssertEqual(VoiceEndpoint(endpoint: "[::1]:80", secure: false)?.host, "::1")
        XCTAssertNil(VoiceEndpoint(endpoint: "host:99999", secure: true))
        XCTAssertNil(VoiceEndpoint(endpoint: ":80", secure: true))
        XCTAssertFalse(VoiceEndpoint.secureFromEnvironment(["DISCORD_VOICE_SCHEME": "ws"]))
        XCTAssertTrue(VoiceEndpoint.secureFromEnvironment([:]))
    }
}
