import XCTest

@testable import DAVE

/// Known values published with davey (`davey-python/test/test_displayable_code.py`, `test_fingerprint.py`).
final class PrivacyCodeTests: XCTestCase {
    func testDisplayableCodeKnownValues() throws {
        XCTAssertEqual(
            try PrivacyCodes.displayableCode([0xAA, 0xBB, 0xCC, 0xDD, 0xEE], length: 5, groupSize: 5), "05870")
        let long = TestSupport.bytes(hex: "aabbccddeebbccddeeffccddeeffaaddeeffaabbeeffaabbccffaabbccdd")
        XCTAssertEqual(try PrivacyCodes.voicePrivacyCode(epochAuthenticator: long), "058708105556138052119572494877")
    }

    func testDisplayableCodeRejectsBadArguments() {
        XCTAssertThrowsError(try PrivacyCodes.displayableCode([0xAA, 0xBB, 0xCC, 0xDD], length: 5, groupSize: 5))
        XCTAssertThrowsError(try PrivacyCodes.displayableCode([0xAA, 0xBB, 0xCC, 0xDD], length: 4, groupSize: 3))
        XCTAssertThrowsError(
            try PrivacyCodes.displayableCode([UInt8](repeating: 1, count: 99), length: 99, groupSize: 11))
    }

    func testKeyFingerprintLayout() throws {
        XCTAssertEqual(
            try PrivacyCodes.keyFingerprint(publicKey: [UInt8](repeating: 0, count: 33), userID: 1234),
            [0, 0] + [UInt8](repeating: 0, count: 33) + [0, 0, 0, 0, 0, 0, 0x04, 0xD2])
        XCTAssertThrowsError(try PrivacyCodes.keyFingerprint(version: 1, publicKey: [1], userID: 1))
        XCTAssertThrowsError(try PrivacyCodes.keyFingerprint(publicKey: [], userID: 1))
    }

    func testPairwiseFingerprintKnownValue() throws {
        let expected: [UInt8] = [
            133, 129, 241, 44, 36, 135, 79, 195, 27, 28, 151, 69, 124, 197, 189, 41, 192, 7, 16, 45, 79, 247, 138, 58,
            126, 161, 178, 136, 12, 109, 96, 164, 169, 92, 2, 232, 136, 174, 74, 156, 173, 144, 191, 184, 34, 45, 242,
            136, 41, 133, 14, 158, 119, 79, 204, 48, 6, 220, 121, 6, 242, 11, 164, 60,
        ]
        let result = try PrivacyCodes.pairwiseFingerprint(
            localKey: [UInt8](repeating: 0, count: 33), localUserID: 1234,
            remoteKey: [UInt8](repeating: 0, count: 65), remoteUserID: 5678)
        XCTAssertEqual(result, expected)
    }

    func testPairwiseFingerprintSortsBytewise() throws {
        let expected: [UInt8] = [
            141, 169, 194, 143, 22, 72, 22, 245, 13, 140, 66, 228, 159, 195, 101, 106, 119, 240, 69, 191, 178, 227, 194,
            126, 162, 255, 222, 148, 138, 5, 33, 215, 240, 167, 234, 245, 149, 182, 46, 20, 4, 83, 191, 31, 165, 74,
            253,
            165, 199, 16, 29, 71, 193, 205, 169, 154, 255, 154, 34, 30, 94, 171, 247, 43,
        ]
        let forward = try PrivacyCodes.pairwiseFingerprint(
            localKey: [0, 100], localUserID: 1, remoteKey: [0, 20], remoteUserID: 2)
        XCTAssertEqual(forward, expected)
    }

    /// RFC 7914 §12 test vectors 1 (N=16, r=1, p=1) and 2 (N=1024, r=8, p=16) check the scrypt core on its own.
    func testScryptRFC7914Vectors() throws {
        let first = try Scrypt.derive(password: [], salt: [], costLog2: 4, blockSize: 1, parallelism: 1, length: 64)
        XCTAssertEqual(
            TestSupport.hex(first),
            "77d6576238657b203b19ca42c18a0497f16b4844e3074ae8dfdffa3fede21442"
                + "fcd0069ded0948f8326a753a0fc81f17e8d3e0fb2e0d3628cf35e20c38d18906")
        let second = try Scrypt.derive(
            password: Array("password".utf8), salt: Array("NaCl".utf8), costLog2: 10,
            blockSize: 8, parallelism: 16, length: 64)
        XCTAssertEqual(
            TestSupport.hex(second),
            "fdbabe1c9d3472007856e7190d01e9fe7c6ad7cbc8237830e77376634b373162"
                + "2eaf30d92e22a3886ff109279d9830dac727afb94a83ee6d8360cbdfa2cc0640")
    }
}
