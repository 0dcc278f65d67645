import XCTest

@testable import MLS

final class BasicVectorTests: XCTestCase {
    func testVector_treeMath() throws {
        let cases = try Vectors.load("tree-math.json")
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            let leaves = UInt32(c.int("n_leaves"))
            XCTAssertEqual(Int(TreeMath.nodeWidth(leaves)), c.int("n_nodes"))
            XCTAssertEqual(Int(TreeMath.root(leaves)), c.int("root"))
            let columns: [(String, (UInt32) -> UInt32?)] = [
                ("left", { TreeMath.left($0) }), ("right", { TreeMath.right($0) }),
                ("parent", { TreeMath.parent($0, leaves: leaves) }),
                ("sibling", { TreeMath.sibling($0, leaves: leaves) }),
            ]
            for (name, function) in columns {
                let expected = c[name] as? [Any] ?? []
                XCTAssertEqual(expected.count, c.int("n_nodes"))
                for (index, value) in expected.enumerated() {
                    let want = (value as? NSNumber).map { UInt32($0.intValue) }
                    XCTAssertEqual(function(UInt32(index)), want, "\(name)[\(index)] for \(leaves) leaves")
                }
            }
        }
    }

    func testVector_cryptoBasics() throws {
        let cases = try Vectors.suite2("crypto-basics.json")
        XCTAssertEqual(cases.count, 1)
        for c in cases {
            let ref = c.object("ref_hash")
            XCTAssertEqual(CipherSuite.refHash(label: ref.string("label"), value: ref.bytes("value")), ref.bytes("out"))
            let expand = c.object("expand_with_label")
            XCTAssertEqual(
                try CipherSuite.expandWithLabel(
                    expand.bytes("secret"), expand.string("label"), expand.bytes("context"), expand.int("length")),
                expand.bytes("out"))
            let derive = c.object("derive_secret")
            XCTAssertEqual(
                CipherSuite.deriveSecret(derive.bytes("secret"), derive.string("label")), derive.bytes("out"))
            let tree = c.object("derive_tree_secret")
            XCTAssertEqual(
                try CipherSuite.deriveTreeSecret(
                    tree.bytes("secret"), tree.string("label"),
                    generation: UInt32(tree.uint64("generation")), length: tree.int("length")),
                tree.bytes("out"))
            let sign = c.object("sign_with_label")
            XCTAssertTrue(
                CipherSuite.verifyWithLabel(
                    publicKey: sign.bytes("pub"), label: sign.string("label"),
                    content: sign.bytes("content"), signature: sign.bytes("signature")))
            let fresh = try CipherSuite.signWithLabel(
                privateKey: sign.bytes("priv"), label: sign.string("label"), content: sign.bytes("content"))
            XCTAssertTrue(
                CipherSuite.verifyWithLabel(
                    publicKey: sign.bytes("pub"), label: sign.string("label"), content: sign.bytes("content"),
                    signature: fresh))
            XCTAssertFalse(
                CipherSuite.verifyWithLabel(
                    publicKey: sign.bytes("pub"), label: "other", content: sign.bytes("content"), signature: fresh))
            XCTAssertEqual(try CipherSuite.signaturePublicKey(privateKey: sign.bytes("priv")), sign.bytes("pub"))
            let enc = c.object("encrypt_with_label")
            XCTAssertEqual(
                try CipherSuite.decryptWithLabel(
                    privateKey: enc.bytes("priv"), label: enc.string("label"), context: enc.bytes("context"),
                    kemOutput: enc.bytes("kem_output"), ciphertext: enc.bytes("ciphertext")),
                enc.bytes("plaintext"))
            let sealed = try CipherSuite.encryptWithLabel(
                publicKey: enc.bytes("pub"), label: enc.string("label"), context: enc.bytes("context"),
                plaintext: enc.bytes("plaintext"))
            XCTAssertEqual(
                try CipherSuite.decryptWithLabel(
                    privateKey: enc.bytes("priv"), label: enc.string("label"), context: enc.bytes("context"),
                    kemOutput: sealed.kemOutput, ciphertext: sealed.ciphertext),
                enc.bytes("plaintext"))
            XCTAssertEqual(try CipherSuite.hpkePublicKey(privateKey: enc.bytes("priv")), enc.bytes("pub"))
        }
    }

    func testVector_deserialization() throws {
        let cases = try Vectors.load("deserialization.json")
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            let header = c.bytes("vlbytes_header")
            var reader = TLSReader(header)
            XCTAssertEqual(try reader.varint(), c.int("length"))
            XCTAssertTrue(reader.isAtEnd)
            var writer = TLSWriter()
            writer.varint(c.int("length"))
            XCTAssertEqual(writer.bytes, header)
        }
    }

    func testVector_keySchedule() throws {
        let cases = try Vectors.suite2("key-schedule.json")
        XCTAssertEqual(cases.count, 1)
        for c in cases {
            let groupID = c.bytes("group_id")
            var initSecret = c.bytes("initial_init_secret")
            for (epoch, e) in c.objects("epochs").enumerated() {
                let context = GroupContext(
                    groupID: groupID, epoch: UInt64(epoch), treeHash: e.bytes("tree_hash"),
                    confirmedTranscriptHash: e.bytes("confirmed_transcript_hash"), extensions: [])
                XCTAssertEqual(context.tlsEncoded, e.bytes("group_context"))
                let secrets = EpochSecrets(
                    initSecret: initSecret, commitSecret: e.bytes("commit_secret"),
                    pskSecret: e.bytes("psk_secret"), groupContext: context)
                XCTAssertEqual(secrets.joinerSecret, e.bytes("joiner_secret"))
                XCTAssertEqual(secrets.welcomeSecret, e.bytes("welcome_secret"))
                XCTAssertEqual(secrets.initSecret, e.bytes("init_secret"))
                XCTAssertEqual(secrets.senderDataSecret, e.bytes("sender_data_secret"))
                XCTAssertEqual(secrets.encryptionSecret, e.bytes("encryption_secret"))
                XCTAssertEqual(secrets.exporterSecret, e.bytes("exporter_secret"))
                XCTAssertEqual(secrets.epochAuthenticator, e.bytes("epoch_authenticator"))
                XCTAssertEqual(secrets.externalSecret, e.bytes("external_secret"))
                XCTAssertEqual(secrets.confirmationKey, e.bytes("confirmation_key"))
                XCTAssertEqual(secrets.membershipKey, e.bytes("membership_key"))
                XCTAssertEqual(secrets.resumptionPSK, e.bytes("resumption_psk"))
                XCTAssertEqual(try secrets.externalPublicKey(), e.bytes("external_pub"))
                let exporter = e.object("exporter")
                // The generator uses the label text itself (a hex string) as the label bytes.
                XCTAssertEqual(
                    try secrets.exporter(
                        label: Array(exporter.string("label").utf8), context: exporter.bytes("context"),
                        length: exporter.int("length")),
                    exporter.bytes("secret"))
                initSecret = secrets.initSecret
            }
        }
    }

    func testVector_transcriptHashes() throws {
        let cases = try Vectors.suite2("transcript-hashes.json")
        XCTAssertEqual(cases.count, 1)
        for c in cases {
            let content = try AuthenticatedContent(tlsEncoded: c.bytes("authenticated_content"))
            XCTAssertEqual(content.tlsEncoded, c.bytes("authenticated_content"))
            let confirmed = TranscriptHash.confirmed(
                interimBefore: c.bytes("interim_transcript_hash_before"), content: content)
            XCTAssertEqual(confirmed, c.bytes("confirmed_transcript_hash_after"))
            let tag = try XCTUnwrap(content.auth.confirmationTag)
            XCTAssertEqual(CipherSuite.mac(key: c.bytes("confirmation_key"), data: confirmed), tag)
            XCTAssertEqual(
                TranscriptHash.interim(confirmed: confirmed, confirmationTag: tag),
                c.bytes("interim_transcript_hash_after"))
        }
    }

    func testVector_welcome() throws {
        let cases = try Vectors.suite2("welcome.json")
        XCTAssertEqual(cases.count, 1)
        for c in cases {
            guard case .keyPackage(let keyPackage) = try MLSMessage(tlsEncoded: c.bytes("key_package")),
                case .welcome(let welcome) = try MLSMessage(tlsEncoded: c.bytes("welcome"))
            else {
                return XCTFail("unexpected wire formats")
            }
            try keyPackage.validate()
            let secrets = try welcome.decryptGroupSecrets(keyPackage: keyPackage, initPrivateKey: c.bytes("init_priv"))
            let groupInfo = try welcome.decryptGroupInfo(joinerSecret: secrets.joinerSecret)
            XCTAssertTrue(groupInfo.verify(signerPublicKey: c.bytes("signer_pub")))
            let epoch = EpochSecrets(joinerSecret: secrets.joinerSecret, groupContext: groupInfo.groupContext)
            XCTAssertEqual(
                epoch.confirmationTag(confirmedTranscriptHash: groupInfo.groupContext.confirmedTranscriptHash),
                groupInfo.confirmationTag)
        }
    }

    func testVector_messages() throws {
        let cases = try Vectors.load("messages.json")
        XCTAssertFalse(cases.isEmpty)
        func roundTrip<T: TLSCodable>(_ type: T.Type, _ c: [String: Any], _ key: String) throws {
            let bytes = c.bytes(key)
            XCTAssertEqual(try T(tlsEncoded: bytes).tlsEncoded, bytes, key)
        }
        struct AddBody: TLSCodable {
            var keyPackage: KeyPackage
            func encode(to w: inout TLSWriter) { keyPackage.encode(to: &w) }
            init(from r: inout TLSReader) throws { keyPackage = try KeyPackage(from: &r) }
        }
        struct RemoveBody: TLSCodable {
            var index: UInt32
            func encode(to w: inout TLSWriter) { w.u32(index) }
            init(from r: inout TLSReader) throws { index = try r.u32() }
        }
        struct OpaqueBody: TLSCodable {
            var data: [UInt8]
            func encode(to w: inout TLSWriter) { w.opaque(data) }
            init(from r: inout TLSReader) throws { data = try r.opaque() }
        }
        struct ExtensionsBody: TLSCodable {
            var extensions: [Extension]
            func encode(to w: inout TLSWriter) { w.vector(extensions) }
            init(from r: inout TLSReader) throws { extensions = try r.vector(of: Extension.self) }
        }
        for c in cases {
            for key in [
                "mls_welcome", "mls_group_info", "mls_key_package", "public_message_application",
                "public_message_proposal",
                "public_message_commit", "private_message",
            ] {
                try roundTrip(MLSMessage.self, c, key)
            }
            let tree = try RatchetTree(extensionData: c.bytes("ratchet_tree"))
            XCTAssertEqual(tree.extensionData, c.bytes("ratchet_tree"))
            try roundTrip(GroupSecrets.self, c, "group_secrets")
            try roundTrip(AddBody.self, c, "add_proposal")
            try roundTrip(LeafNode.self, c, "update_proposal")
            try roundTrip(RemoveBody.self, c, "remove_proposal")
            try roundTrip(PreSharedKeyID.self, c, "pre_shared_key_proposal")
            try roundTrip(ReInit.self, c, "re_init_proposal")
            try roundTrip(OpaqueBody.self, c, "external_init_proposal")
            try roundTrip(ExtensionsBody.self, c, "group_context_extensions_proposal")
            try roundTrip(Commit.self, c, "commit")
        }
    }

    func testVector_pskSecret() throws {
        let cases = try Vectors.suite2("psk_secret.json")
        XCTAssertFalse(cases.isEmpty)
        for c in cases {
            let psks = c.objects("psks").map { entry in
                (
                    id: PreSharedKeyID(kind: .external(pskID: entry.bytes("psk_id")), nonce: entry.bytes("psk_nonce")),
                    psk: entry.bytes("psk")
                )
            }
            XCTAssertEqual(PSKSecret.compute(psks), c.bytes("psk_secret"))
        }
    }

    /// PublicMessage parts only (`proposal_pub`, `commit_pub`); the three PrivateMessage parts
    /// (`*_priv`, `application`) need the secret tree, which this module does not implement.
    func testVector_messageProtection() throws {
        let cases = try Vectors.suite2("message-protection.json")
        XCTAssertEqual(cases.count, 1)
        for c in cases {
            let context = GroupContext(
                groupID: c.bytes("group_id"), epoch: c.uint64("epoch"), treeHash: c.bytes("tree_hash"),
                confirmedTranscriptHash: c.bytes("confirmed_transcript_hash"), extensions: [])
            let expectedProposal = try Proposal(tlsEncoded: c.bytes("proposal"))
            let expectedCommit = try Commit(tlsEncoded: c.bytes("commit"))
            for (key, body) in [
                ("proposal_pub", FramedContentBody.proposal(expectedProposal)), ("commit_pub", .commit(expectedCommit)),
            ] {
                guard case .publicMessage(let message) = try MLSMessage(tlsEncoded: c.bytes(key)) else {
                    return XCTFail(key)
                }
                XCTAssertEqual(message.content.body, body, key)
                XCTAssertEqual(message.content.groupID, context.groupID)
                XCTAssertEqual(message.content.epoch, context.epoch)
                XCTAssertTrue(
                    message.authenticatedContent.verifySignature(
                        publicKey: c.bytes("signature_pub"), groupContext: context), key)
                XCTAssertTrue(
                    message.verifyMembershipTag(membershipKey: c.bytes("membership_key"), groupContext: context), key)
                XCTAssertFalse(
                    message.verifyMembershipTag(membershipKey: c.bytes("sender_data_secret"), groupContext: context),
                    key)

                // Protect the same content ourselves and check it verifies the same way.
                let signature = try AuthenticatedContent.sign(
                    message.content, wireFormat: .publicMessage,
                    privateKey: c.bytes("signature_priv"), groupContext: context)
                let auth = FramedContentAuthData(signature: signature, confirmationTag: message.auth.confirmationTag)
                let ours = AuthenticatedContent(wireFormat: .publicMessage, content: message.content, auth: auth)
                let tag = try PublicMessage.membershipTag(
                    for: ours, membershipKey: c.bytes("membership_key"), groupContext: context)
                let protected = PublicMessage(content: message.content, auth: auth, membershipTag: tag)
                XCTAssertTrue(
                    protected.authenticatedContent.verifySignature(
                        publicKey: c.bytes("signature_pub"), groupContext: context))
                XCTAssertTrue(
                    protected.verifyMembershipTag(membershipKey: c.bytes("membership_key"), groupContext: context))
                XCTAssertEqual(try PublicMessage(tlsEncoded: protected.tlsEncoded), protected)
            }
        }
    }
}
