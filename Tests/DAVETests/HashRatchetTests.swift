import XCTest

@testable import DAVE

final class HashRatchetTests: XCTestCase {
    private struct Vector: Decodable {
        let base_secret: String
        let generation: UInt32
        let key: String
        let nonce: String
    }

    /// `../shared/vectors/dave/hash-ratchet.json` (davey's verified vector).
    func testHashRatchetJSON() throws {
        let url = TestSupport.vectorsDirectory.appendingPathComponent("dave/hash-ratchet.json")
        let vector = try JSONDecoder().decode(Vector.self, from: Data(contentsOf: url))
        let ratchet = SenderKeyRatchet(baseSecret: TestSupport.bytes(hex: vector.base_secret))
        XCTAssertEqual(ratchet.key(forGeneration: vector.generation).map(TestSupport.hex), vector.key)
        XCTAssertEqual(ratchet.nonce(forGeneration: vector.generation).map(TestSupport.hex), vector.nonce)
    }

    func testSkippedGenerationsStayAvailableUntilErased() {
        let base = TestSupport.bytes(hex: "cedd61b1b8a1ca69046554282cf70b7b")
        let forward = SenderKeyRatchet(baseSecret: base)
        let third = forward.key(forGeneration: 3)
        let first = forward.key(forGeneration: 1)
        let sequential = SenderKeyRatchet(baseSecret: base)
        XCTAssertEqual(sequential.key(forGeneration: 1), first)
        XCTAssertEqual(sequential.key(forGeneration: 3), third)
        XCTAssertNotEqual(first, third)
        forward.eraseKey(forGeneration: 1)
        XCTAssertNil(forward.key(forGeneration: 1))
        XCTAssertEqual(forward.key(forGeneration: 3), third)
    }
}
