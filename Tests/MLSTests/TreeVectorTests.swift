import XCTest

@testable import MLS

final class TreeVectorTests: XCTestCase {
    func testVector_treeValidation() throws {
        let cases = try Vectors.suite2("tree-validation.json")
        XCTAssertFalse(cases.isEmpty)
        for (number, c) in cases.enumerated() {
            let tree = try RatchetTree(extensionData: c.bytes("tree"))
            let hashes = c["tree_hashes"] as? [String] ?? []
            XCTAssertEqual(hashes.count, tree.nodes.count, "case \(number)")
            for (index, expected) in hashes.enumerated() {
                XCTAssertEqual(tree.treeHash(UInt32(index)), hex(expected), "case \(number) node \(index)")
            }
            let resolutions = c["resolutions"] as? [[Int]] ?? []
            XCTAssertEqual(resolutions.count, tree.nodes.count)
            for (index, expected) in resolutions.enumerated() {
                XCTAssertEqual(tree.resolution(UInt32(index)).map(Int.init), expected, "case \(number) node \(index)")
            }
            XCTAssertNoThrow(try tree.validate(groupID: c.bytes("group_id")), "case \(number)")
        }
    }

    func testVector_treeOperations() throws {
        // Suite 1 only, but the tree hash is SHA-256 and the operations are suite independent.
        let cases = try Vectors.load("tree-operations.json")
        XCTAssertFalse(cases.isEmpty)
        for (number, c) in cases.enumerated() {
            var tree = try RatchetTree(extensionData: c.bytes("tree_before"))
            XCTAssertEqual(tree.rootHash, c.bytes("tree_hash_before"), "case \(number)")
            var reader = TLSReader(c.bytes("proposal"))
            let proposal = try Proposal(from: &reader)
            try reader.finish()
            switch proposal {
            case .add(let keyPackage): tree.addLeaf(keyPackage.leafNode)
            case .remove(let index): try tree.removeLeaf(index)
            case .update(let leaf):
                tree.setLeaf(UInt32(c.int("proposal_sender")), leaf)
                tree.blankDirectPath(UInt32(c.int("proposal_sender")))
            default: XCTFail("unexpected proposal type in case \(number)")
            }
            XCTAssertEqual(tree.extensionData, c.bytes("tree_after"), "case \(number)")
            XCTAssertEqual(tree.rootHash, c.bytes("tree_hash_after"), "case \(number)")
        }
    }

    func testVector_treekem() throws {
        let cases = try Vectors.suite2("treekem.json")
        XCTAssertFalse(cases.isEmpty)
        for (number, c) in cases.enumerated() {
            let groupID = c.bytes("group_id")
            let tree = try RatchetTree(extensionData: c.bytes("ratchet_tree"))
            try tree.validate(groupID: groupID)

            var privates: [UInt32: TreePrivateKeys] = [:]
            var signingKeys: [UInt32: [UInt8]] = [:]
            for info in c.objects("leaves_private") {
                let index = UInt32(info.int("index"))
                var keys = try TreePrivateKeys(
                    leafIndex: index, leafEncryptionPrivateKey: info.bytes("encryption_priv"))
                for entry in info.objects("path_secrets") {
                    let node = UInt32(entry.int("node"))
                    let pair = try CipherSuite.nodeKeyPair(pathSecret: entry.bytes("path_secret"))
                    XCTAssertEqual(
                        tree.node(node)?.encryptionKey, pair.publicKey, "case \(number) private state consistent")
                    keys.keys[node] = NodeKey(privateKey: pair.privateKey, publicKey: pair.publicKey)
                }
                privates[index] = keys
                signingKeys[index] = info.bytes("signature_priv")
            }

            for update in c.objects("update_paths") {
                let sender = UInt32(update.int("sender"))
                let path = try UpdatePath(tlsEncoded: update.bytes("update_path"))
                var after = tree
                let filtered = try after.mergeUpdatePath(sender: sender, path: path, groupID: groupID)
                XCTAssertEqual(after.rootHash, update.bytes("tree_hash_after"), "case \(number) sender \(sender)")
                XCTAssertNoThrow(try after.verifyParentHashes())
                let context = GroupContext(
                    groupID: groupID, epoch: c.uint64("epoch"), treeHash: after.rootHash,
                    confirmedTranscriptHash: c.bytes("confirmed_transcript_hash"), extensions: []
                ).tlsEncoded
                let expectedSecrets = update["path_secrets"] as? [Any] ?? []
                for (index, var keys) in privates where index != sender && after.leaf(index) != nil {
                    let result = try after.decryptUpdatePath(
                        sender: sender, path: path, filteredPath: filtered, excludedLeaves: [],
                        context: context, keys: &keys)
                    XCTAssertEqual(
                        result.commitSecret, update.bytes("commit_secret"),
                        "case \(number) sender \(sender) receiver \(index)")
                    XCTAssertEqual(result.pathSecret, (expectedSecrets[Int(index)] as? String).map(hex))
                }

                // Our own encap must be decryptable by everyone else.
                var encapTree = tree
                let created = try encapTree.createUpdatePath(
                    leafIndex: sender, signaturePrivateKey: signingKeys[sender] ?? [], groupID: groupID,
                    excludedLeaves: []
                ) { merged in
                    GroupContext(
                        groupID: groupID, epoch: c.uint64("epoch"), treeHash: merged.rootHash,
                        confirmedTranscriptHash: c.bytes("confirmed_transcript_hash"), extensions: []
                    ).tlsEncoded
                }
                XCTAssertNoThrow(try encapTree.verifyParentHashes())
                var receiverTree = tree
                let receiverFiltered = try receiverTree.mergeUpdatePath(
                    sender: sender, path: created.updatePath, groupID: groupID)
                XCTAssertEqual(receiverTree, encapTree)
                let encapContext = GroupContext(
                    groupID: groupID, epoch: c.uint64("epoch"), treeHash: encapTree.rootHash,
                    confirmedTranscriptHash: c.bytes("confirmed_transcript_hash"), extensions: []
                ).tlsEncoded
                for (index, var keys) in privates where index != sender && encapTree.leaf(index) != nil {
                    let result = try receiverTree.decryptUpdatePath(
                        sender: sender, path: created.updatePath, filteredPath: receiverFiltered,
                        excludedLeaves: [], context: encapContext, keys: &keys)
                    XCTAssertEqual(result.commitSecret, created.commitSecret)
                }
            }
        }
    }
}
