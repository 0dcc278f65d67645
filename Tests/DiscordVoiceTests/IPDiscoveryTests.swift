import XCTest

@testable import DiscordVoice

final class IPDiscoveryTests: XCTestCase {
    /// discord.md §4: the published response vector (discord.js `VoiceUDPSocket.test.ts`).
    func testPublishedResponseVector() throws {
        var packet: [UInt8] = [0x00, 0x02, 0x00, 0x46, 0x00, 0x04, 0xEB, 0x23]
        packet += Array("91.90.123.93".utf8) + [UInt8](repeating: 0, count: 52) + [0xD3, 0x84]
        XCTAssertEqual(packet.count, 74)
        let response = try IPDiscovery.parse(response: packet)
        XCTAssertEqual(response, IPDiscovery.Response(ssrc: 0x0004_EB23, address: "91.90.123.93", port: 54148))
    }

    func testRequestLayout() {
        let request = IPDiscovery.request(ssrc: 0x0102_0304)
        XCTAssertEqual(request.count, 74)
        XCTAssertEqual(Array(request[0..<8]), [0x00, 0x01, 0x00, 0x46, 0x01, 0x02, 0x03, 0x04])
        XCTAssertTrue(request[8...].allSatisfy { $0 == 0 })
    }

    func testResponseRoundTripAndRefusals() throws {
        let good = IPDiscovery.response(ssrc: 9, address: "127.0.0.1", port: 50_000)
        XCTAssertEqual(try IPDiscovery.parse(response: good).port, 50_000)
        XCTAssertThrowsError(try IPDiscovery.parse(response: Array(good.dropLast()))) {
            XCTAssertEqual($0 as? IPDiscovery.Failure, .wrongLength(73))
        }
        XCTAssertThrowsError(try IPDiscovery.parse(response: IPDiscovery.request(ssrc: 9))) {
            XCTAssertEqual($0 as? IPDiscovery.Failure, .notAResponse(type: 1, length: 70))
        }
        var noTerminator = good
        for i in 8..<72 { noTerminator[i] = 0x41 }
        XCTAssertThrowsError(try IPDiscovery.parse(response: noTerminator)) {
            XCTAssertEqual($0 as? IPDiscovery.Failure, .badAddress)
        }
        var control = good
        control[9] = 0x07
        XCTAssertThrowsError(try IPDiscovery.parse(response: control))
    }
}
