import XCTest

@testable import MLS

/// Malformed inputs must produce typed `MLSError`s, never traps.
final class StrictParsingTests: XCTestCase {
    func decodeError<T: TLSDecodable>(_ type: T.Type, _ bytes: [UInt8]) -> MLSError? {
        do {
            _ = try T(tlsEncoded: bytes)
            return nil
        } catch {
            return error as? MLSError
        }
    }

    func testVarints() throws {
        var reader = TLSReader([0x40, 0x3F])
        XCTAssertThrowsError(try reader.varint()) { XCTAssertEqual($0 as? MLSError, .nonMinimalVarint) }
        reader = TLSReader([0x80, 0x00, 0x3F, 0xFF])
        XCTAssertThrowsError(try reader.varint()) { XCTAssertEqual($0 as? MLSError, .nonMinimalVarint) }
        reader = TLSReader([0xC0, 0, 0, 0, 0, 0, 0, 1])
        XCTAssertThrowsError(try reader.varint()) { XCTAssertEqual($0 as? MLSError, .invalidVarint) }
        reader = TLSReader([0x80, 0x01])
        XCTAssertThrowsError(try reader.varint()) { XCTAssertEqual($0 as? MLSError, .truncated(field: "varint")) }
        reader = TLSReader([0x80, 0x00, 0x40, 0x00])
        XCTAssertEqual(try reader.varint(), 0x4000)
        var writer = TLSWriter()
        writer.varint(0x3FFF_FFFF)
        XCTAssertEqual(writer.bytes, [0xBF, 0xFF, 0xFF, 0xFF])
    }

    func testTruncationAndTrailingBytes() throws {
        let keyPackage = try KeyPackageBundle.create(userID: 42).keyPackage
        let bytes = MLSMessage.keyPackage(keyPackage).tlsEncoded
        XCTAssertEqual(try MLSMessage(tlsEncoded: bytes), .keyPackage(keyPackage))
        for cut in stride(from: 0, to: bytes.count, by: 7) {
            guard let error = decodeError(MLSMessage.self, Array(bytes.prefix(cut))) else {
                return XCTFail("prefix \(cut) decoded")
            }
            if case .truncated = error { continue }
            XCTFail("prefix \(cut): unexpected \(error)")
        }
        XCTAssertEqual(decodeError(MLSMessage.self, bytes + [0]), .trailingBytes(count: 1))
        XCTAssertEqual(decodeError(KeyPackage.self, keyPackage.tlsEncoded + [1, 2]), .trailingBytes(count: 2))
    }

    func testInvalidEnumsAndFlags() {
        XCTAssertEqual(decodeError(MLSMessage.self, [0, 2, 0, 5]), .unsupported("protocol version 2"))
        XCTAssertEqual(decodeError(MLSMessage.self, [0, 1, 0, 9]), .invalidValue("wire_format 9"))
        XCTAssertEqual(decodeError(Sender.self, [7]), .invalidValue("sender_type 7"))
        XCTAssertEqual(decodeError(Proposal.self, [0, 9]), .unsupported("proposal type 9"))
        XCTAssertEqual(decodeError(ProposalOrRef.self, [3]), .invalidValue("proposal_or_ref_type 3"))
        XCTAssertEqual(decodeError(Commit.self, [0, 2]), .invalidValue("commit.path: optional presence flag 2"))
        XCTAssertEqual(decodeError(Credential.self, [0, 9, 0]), .unsupported("credential type 9"))
        XCTAssertEqual(decodeError(TreeNode.self, [3]), .invalidValue("node_type 3"))
        // A vector whose declared length exceeds the input.
        XCTAssertEqual(decodeError(Commit.self, [0x05, 0x02]), .truncated(field: "commit.proposals"))
        // A vector whose body does not parse to its exact length.
        XCTAssertEqual(decodeError(Commit.self, [0x02, 0x02, 0x01, 0x00]), .truncated(field: "proposal_ref"))
    }

    func testRatchetTreeShape() {
        XCTAssertThrowsError(try RatchetTree(extensionData: [0x00])) {
            XCTAssertEqual($0 as? MLSError, .validation("ratchet tree is empty or ends in a blank node"))
        }
        XCTAssertThrowsError(try RatchetTree(extensionData: [0x01, 0x00]))
        XCTAssertThrowsError(try RatchetTree(extensionData: [0x04, 0x01, 0x02, 0x00, 0x00]))
    }

    func testTamperedTreeFailsValidation() throws {
        let cases = try Vectors.suite2("tree-validation.json")
        var tampered = 0
        for c in cases {
            let tree = try RatchetTree(extensionData: c.bytes("tree"))
            guard
                let index = tree.nodes.indices.first(where: {
                    if case .parent? = tree.nodes[$0] { return true } else { return false }
                }),
                case .parent(var parent)? = tree.nodes[index]
            else { continue }
            parent.encryptionKey = CipherSuite.generateHPKEKeyPair().publicKey
            var broken = tree
            broken.nodes[index] = .parent(parent)
            XCTAssertThrowsError(try broken.validate(groupID: c.bytes("group_id")))
            XCTAssertThrowsError(
                try tree.validate(groupID: c.bytes("group_id") + [0]), "leaf signatures bind the group id")
            tampered += 1
        }
        XCTAssertGreaterThan(tampered, 0)
        // Structural checks at decode time.
        let valid = try RatchetTree(extensionData: cases[0].bytes("tree"))
        var data = valid.extensionData
        data.append(0)
        XCTAssertThrowsError(try RatchetTree(extensionData: data))
    }

    func testExternalSenderEncoding() throws {
        let signer = try ExternalSenderSigner(identity: [0])
        let bytes = signer.sender.tlsEncoded
        XCTAssertEqual(Array(bytes.prefix(3)), [0x40, 0x41, 0x04])
        XCTAssertEqual(Array(bytes.suffix(4)), [0x00, 0x01, 0x01, 0x00])
        XCTAssertEqual(try ExternalSender(tlsEncoded: bytes), signer.sender)
    }

    /// ExpandWithLabel's length is a u16 and HKDF-Expand stops at 255 blocks: larger (or negative) lengths are
    /// a typed error from every public entry point, never a trap.
    func testExpandLengthsOutOfRangeAreTypedErrors() throws {
        let secret = [UInt8](repeating: 7, count: 32)
        let group = try Group.create(
            groupID: [1, 2, 3], keyPackage: KeyPackageBundle.create(userID: 9), externalSenders: [])
        for length in [-1, CipherSuite.maxExpandLength + 1, 65_535, 65_536, 1 << 40] {
            let refused: (Error) -> Void = {
                guard case .invalidValue? = $0 as? MLSError else { return XCTFail("length \(length): \($0)") }
            }
            XCTAssertThrowsError(try CipherSuite.expandWithLabel(secret, "key", [], length), "\(length)", refused)
            XCTAssertThrowsError(try CipherSuite.expand(prk: secret, info: [], length: length), "\(length)", refused)
            XCTAssertThrowsError(
                try CipherSuite.deriveTreeSecret(secret, "key", generation: 0, length: length), "\(length)", refused)
            XCTAssertThrowsError(try group.exporter(label: "x", context: [], length: length), "\(length)", refused)
        }
        XCTAssertEqual(try CipherSuite.expandWithLabel(secret, "key", [], CipherSuite.maxExpandLength).count, 8160)
        XCTAssertEqual(try group.exporter(label: "x", context: [], length: 0), [])
        XCTAssertEqual(try group.exporter(label: "x", context: [], length: 16).count, 16)
    }
}
