import FuzzSupport
import MLS

// MLS decoding (RFC 9420 wire structures as the DAVE voice gateway relays them): [selector][bytes...]. Whatever
// decodes must re-encode to the same bytes (the decoders are strict: minimal varints, exact lengths), and the
// checks a receiver runs next (key package validation, signatures, ratchet tree hashes and validation) must fail
// cleanly on hostile values.
let groupID: [UInt8] = [0, 0, 0, 0, 0, 0, 0x30, 0x39]
let someKey: [UInt8] = [0x04] + [UInt8](repeating: 7, count: 64)

/// Decodes `bytes` as `T` and checks the round trip.
func decode<T: TLSCodable>(_ type: T.Type, _ bytes: [UInt8]) -> T? {
    guard let value = try? T(tlsEncoded: bytes) else { return nil }
    precondition(value.tlsEncoded == bytes, "\(T.self) does not re-encode to the bytes it was decoded from")
    return value
}

func inspect(_ message: MLSMessage) {
    switch message {
    case .publicMessage(let m):
        let content = m.authenticatedContent
        _ = content.verifySignature(publicKey: someKey, groupContext: nil)
        _ = content.proposalReference
    case .keyPackage(let keyPackage):
        inspect(keyPackage)
    case .groupInfo(let info):
        _ = info.verify(signerPublicKey: someKey)
        for ext in info.extensions where ext.extensionType == Extension.ratchetTree {
            if let tree = try? RatchetTree(extensionData: ext.data) { inspect(tree) }
        }
    case .welcome, .privateMessage:
        break
    }
}

func inspect(_ keyPackage: KeyPackage) {
    _ = try? keyPackage.validate()
    _ = keyPackage.reference
    _ = keyPackage.leafNode.credential.userID
}

func inspect(_ tree: RatchetTree) {
    precondition(tree.nodes.count % 2 == 1, "a decoded tree has a full width")
    _ = tree.rootHash
    _ = try? tree.verifyParentHashes()
    _ = try? tree.validate(groupID: groupID)
    for index in 0..<UInt32(tree.nodes.count) { _ = tree.resolution(index) }
    for (index, _) in tree.occupiedLeaves { _ = tree.filteredDirectPath(index) }
}

FuzzDriver.run { data in
    var input = FuzzInput(data)
    let selector = input.byte()
    let bytes = Array(input.rest())
    switch selector % 7 {
    case 0: decode(MLSMessage.self, bytes).map(inspect)
    case 1: decode(KeyPackage.self, bytes).map(inspect)
    case 2: _ = decode(Welcome.self, bytes)
    case 3: _ = decode(Commit.self, bytes)
    case 4:
        guard let tree = try? RatchetTree(extensionData: bytes) else { return }
        precondition(tree.extensionData == bytes, "a ratchet tree does not re-encode to its extension data")
        inspect(tree)
    case 5:
        guard let messages = try? MLSMessage.parseConcatenated(bytes) else { return }
        precondition(messages.flatMap(\.tlsEncoded) == bytes, "concatenated messages do not re-encode")
        messages.forEach(inspect)
    default:
        _ = decode(GroupInfo.self, bytes)
        _ = try? ExternalSender.parseList(bytes)
    }
}
