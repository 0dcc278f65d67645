/// `HPKECiphertext`.
public struct HPKECiphertext: TLSCodable, Equatable {
    public var kemOutput: [UInt8]
    public var ciphertext: [UInt8]
    public init(kemOutput: [UInt8], ciphertext: [UInt8]) {
        self.kemOutput = kemOutput
        self.ciphertext = ciphertext
    }
    public func encode(to w: inout TLSWriter) {
        w.opaque(kemOutput)
        w.opaque(ciphertext)
    }
    public init(from r: inout TLSReader) throws {
        kemOutput = try r.opaque("kem_output")
        ciphertext = try r.opaque("ciphertext")
    }
}

/// `UpdatePathNode`.
public struct UpdatePathNode: TLSCodable, Equatable {
    public var encryptionKey: [UInt8]
    public var encryptedPathSecret: [HPKECiphertext]
    public init(encryptionKey: [UInt8], encryptedPathSecret: [HPKECiphertext]) {
        self.encryptionKey = encryptionKey
        self.encryptedPathSecret = encryptedPathSecret
    }
    public func encode(to w: inout TLSWriter) {
        w.opaque(encryptionKey)
        w.vector(encryptedPathSecret)
    }
    public init(from r: inout TLSReader) throws {
        encryptionKey = try r.opaque("update_path_node.encryption_key")
        encryptedPathSecret = try r.vector(of: HPKECiphertext.self, "encrypted_path_secret")
    }
}

/// `UpdatePath`.
public struct UpdatePath: TLSCodable, Equatable {
    public var leafNode: LeafNode
    public var nodes: [UpdatePathNode]
    public init(leafNode: LeafNode, nodes: [UpdatePathNode]) {
        self.leafNode = leafNode
        self.nodes = nodes
    }
    public func encode(to w: inout TLSWriter) {
        leafNode.encode(to: &w)
        w.vector(nodes)
    }
    public init(from r: inout TLSReader) throws {
        leafNode = try LeafNode(from: &r)
        nodes = try r.vector(of: UpdatePathNode.self, "update_path.nodes")
    }
}

/// `PreSharedKeyID` (codec only; PSKs are not supported by the group logic).
public struct PreSharedKeyID: TLSCodable, Equatable {
    public enum Kind: Equatable {
        case external(pskID: [UInt8])
        case resumption(usage: UInt8, groupID: [UInt8], epoch: UInt64)
    }
    public var kind: Kind
    public var nonce: [UInt8]
    public init(kind: Kind, nonce: [UInt8]) {
        self.kind = kind
        self.nonce = nonce
    }
    public func encode(to w: inout TLSWriter) {
        switch kind {
        case .external(let id):
            w.u8(1)
            w.opaque(id)
        case .resumption(let usage, let groupID, let epoch):
            w.u8(2)
            w.u8(usage)
            w.opaque(groupID)
            w.u64(epoch)
        }
        w.opaque(nonce)
    }
    public init(from r: inout TLSReader) throws {
        switch try r.u8("psktype") {
        case 1: kind = .external(pskID: try r.opaque("psk_id"))
        case 2:
            let usage = try r.u8("resumption_psk_usage")
            guard (1...3).contains(usage) else { throw MLSError.invalidValue("resumption_psk_usage \(usage)") }
            kind = .resumption(usage: usage, groupID: try r.opaque("psk_group_id"), epoch: try r.u64("psk_epoch"))
        case let value: throw MLSError.invalidValue("psktype \(value)")
        }
        nonce = try r.opaque("psk_nonce")
    }
}

/// `ReInit` proposal body (codec only).
public struct ReInit: TLSCodable, Equatable {
    public var groupID: [UInt8]
    public var version: UInt16
    public var cipherSuite: UInt16
    public var extensions: [Extension]
    public func encode(to w: inout TLSWriter) {
        w.opaque(groupID)
        w.u16(version)
        w.u16(cipherSuite)
        w.vector(extensions)
    }
    public init(from r: inout TLSReader) throws {
        groupID = try r.opaque("reinit.group_id")
        version = try r.u16("reinit.version")
        cipherSuite = try r.u16("reinit.cipher_suite")
        extensions = try r.vector(of: Extension.self, "reinit.extensions")
    }
}

/// A `Proposal`. Only `add` and `remove` are acted on; the others exist for codec round-trips.
public enum Proposal: TLSCodable, Equatable {
    case add(KeyPackage)
    case update(LeafNode)
    case remove(leafIndex: UInt32)
    case preSharedKey(PreSharedKeyID)
    case reInit(ReInit)
    case externalInit(kemOutput: [UInt8])
    case groupContextExtensions([Extension])

    /// The IANA proposal type.
    public var proposalType: UInt16 {
        switch self {
        case .add: return 1
        case .update: return 2
        case .remove: return 3
        case .preSharedKey: return 4
        case .reInit: return 5
        case .externalInit: return 6
        case .groupContextExtensions: return 7
        }
    }

    public func encode(to w: inout TLSWriter) {
        w.u16(proposalType)
        switch self {
        case .add(let keyPackage): keyPackage.encode(to: &w)
        case .update(let leaf): leaf.encode(to: &w)
        case .remove(let index): w.u32(index)
        case .preSharedKey(let psk): psk.encode(to: &w)
        case .reInit(let reInit): reInit.encode(to: &w)
        case .externalInit(let kemOutput): w.opaque(kemOutput)
        case .groupContextExtensions(let extensions): w.vector(extensions)
        }
    }

    public init(from r: inout TLSReader) throws {
        switch try r.u16("proposal_type") {
        case 1: self = .add(try KeyPackage(from: &r))
        case 2: self = .update(try LeafNode(from: &r))
        case 3: self = .remove(leafIndex: try r.u32("removed"))
        case 4: self = .preSharedKey(try PreSharedKeyID(from: &r))
        case 5: self = .reInit(try ReInit(from: &r))
        case 6: self = .externalInit(kemOutput: try r.opaque("kem_output"))
        case 7: self = .groupContextExtensions(try r.vector(of: Extension.self, "extensions"))
        case let value: throw MLSError.unsupported("proposal type \(value)")
        }
    }
}

/// `ProposalOrRef`.
public enum ProposalOrRef: TLSCodable, Equatable {
    case proposal(Proposal)
    case reference([UInt8])
    public func encode(to w: inout TLSWriter) {
        switch self {
        case .proposal(let proposal):
            w.u8(1)
            proposal.encode(to: &w)
        case .reference(let ref):
            w.u8(2)
            w.opaque(ref)
        }
    }
    public init(from r: inout TLSReader) throws {
        switch try r.u8("proposal_or_ref_type") {
        case 1: self = .proposal(try Proposal(from: &r))
        case 2: self = .reference(try r.opaque("proposal_ref"))
        case let value: throw MLSError.invalidValue("proposal_or_ref_type \(value)")
        }
    }
}

/// `Commit`.
public struct Commit: TLSCodable, Equatable {
    public var proposals: [ProposalOrRef]
    public var path: UpdatePath?
    public init(proposals: [ProposalOrRef], path: UpdatePath?) {
        self.proposals = proposals
        self.path = path
    }
    public func encode(to w: inout TLSWriter) {
        w.vector(proposals)
        w.optional(path)
    }
    public init(from r: inout TLSReader) throws {
        proposals = try r.vector(of: ProposalOrRef.self, "commit.proposals")
        path = try r.optional("commit.path") { try UpdatePath(from: &$0) }
    }
}

/// `GroupContext`.
public struct GroupContext: TLSCodable, Equatable {
    public var version: UInt16 = mlsVersion10
    public var cipherSuite: UInt16 = CipherSuite.id
    public var groupID: [UInt8]
    public var epoch: UInt64
    public var treeHash: [UInt8]
    public var confirmedTranscriptHash: [UInt8]
    public var extensions: [Extension]

    public init(
        groupID: [UInt8], epoch: UInt64, treeHash: [UInt8], confirmedTranscriptHash: [UInt8], extensions: [Extension]
    ) {
        self.groupID = groupID
        self.epoch = epoch
        self.treeHash = treeHash
        self.confirmedTranscriptHash = confirmedTranscriptHash
        self.extensions = extensions
    }

    public func encode(to w: inout TLSWriter) {
        w.u16(version)
        w.u16(cipherSuite)
        w.opaque(groupID)
        w.u64(epoch)
        w.opaque(treeHash)
        w.opaque(confirmedTranscriptHash)
        w.vector(extensions)
    }

    public init(from r: inout TLSReader) throws {
        version = try r.u16("group_context.version")
        cipherSuite = try r.u16("group_context.cipher_suite")
        groupID = try r.opaque("group_context.group_id")
        epoch = try r.u64("group_context.epoch")
        treeHash = try r.opaque("group_context.tree_hash")
        confirmedTranscriptHash = try r.opaque("group_context.confirmed_transcript_hash")
        extensions = try r.vector(of: Extension.self, "group_context.extensions")
    }
}

/// `GroupInfo`.
public struct GroupInfo: TLSCodable, Equatable {
    public var groupContext: GroupContext
    public var extensions: [Extension]
    public var confirmationTag: [UInt8]
    public var signer: UInt32
    public var signature: [UInt8]

    public init(
        groupContext: GroupContext, extensions: [Extension], confirmationTag: [UInt8], signer: UInt32,
        signature: [UInt8] = []
    ) {
        self.groupContext = groupContext
        self.extensions = extensions
        self.confirmationTag = confirmationTag
        self.signer = signer
        self.signature = signature
    }

    var toBeSigned: [UInt8] {
        var w = TLSWriter()
        groupContext.encode(to: &w)
        w.vector(extensions)
        w.opaque(confirmationTag)
        w.u32(signer)
        return w.bytes
    }

    mutating func sign(privateKey: [UInt8]) throws {
        signature = try CipherSuite.signWithLabel(privateKey: privateKey, label: "GroupInfoTBS", content: toBeSigned)
    }

    /// Verifies the signature with the signer's signature public key.
    public func verify(signerPublicKey: [UInt8]) -> Bool {
        CipherSuite.verifyWithLabel(
            publicKey: signerPublicKey, label: "GroupInfoTBS", content: toBeSigned, signature: signature)
    }

    public func encode(to w: inout TLSWriter) {
        w.raw(toBeSigned)
        w.opaque(signature)
    }

    public init(from r: inout TLSReader) throws {
        groupContext = try GroupContext(from: &r)
        extensions = try r.vector(of: Extension.self, "group_info.extensions")
        confirmationTag = try r.opaque("group_info.confirmation_tag")
        signer = try r.u32("group_info.signer")
        signature = try r.opaque("group_info.signature")
    }
}

/// `GroupSecrets`.
public struct GroupSecrets: TLSCodable, Equatable {
    public var joinerSecret: [UInt8]
    public var pathSecret: [UInt8]?
    public var psks: [PreSharedKeyID]
    public init(joinerSecret: [UInt8], pathSecret: [UInt8]?, psks: [PreSharedKeyID] = []) {
        self.joinerSecret = joinerSecret
        self.pathSecret = pathSecret
        self.psks = psks
    }
    public func encode(to w: inout TLSWriter) {
        w.opaque(joinerSecret)
        if let pathSecret {
            w.u8(1)
            w.opaque(pathSecret)
        } else {
            w.u8(0)
        }
        w.vector(psks)
    }
    public init(from r: inout TLSReader) throws {
        joinerSecret = try r.opaque("group_secrets.joiner_secret")
        pathSecret = try r.optional("group_secrets.path_secret") { try $0.opaque("path_secret") }
        psks = try r.vector(of: PreSharedKeyID.self, "group_secrets.psks")
    }
}

/// `EncryptedGroupSecrets`.
public struct EncryptedGroupSecrets: TLSCodable, Equatable {
    public var newMember: [UInt8]
    public var encryptedGroupSecrets: HPKECiphertext
    public func encode(to w: inout TLSWriter) {
        w.opaque(newMember)
        encryptedGroupSecrets.encode(to: &w)
    }
    public init(newMember: [UInt8], encryptedGroupSecrets: HPKECiphertext) {
        self.newMember = newMember
        self.encryptedGroupSecrets = encryptedGroupSecrets
    }
    public init(from r: inout TLSReader) throws {
        newMember = try r.opaque("new_member")
        encryptedGroupSecrets = try HPKECiphertext(from: &r)
    }
}

/// `Welcome`.
public struct Welcome: TLSCodable, Equatable {
    public var cipherSuite: UInt16
    public var secrets: [EncryptedGroupSecrets]
    public var encryptedGroupInfo: [UInt8]
    public init(cipherSuite: UInt16 = CipherSuite.id, secrets: [EncryptedGroupSecrets], encryptedGroupInfo: [UInt8]) {
        self.cipherSuite = cipherSuite
        self.secrets = secrets
        self.encryptedGroupInfo = encryptedGroupInfo
    }
    public func encode(to w: inout TLSWriter) {
        w.u16(cipherSuite)
        w.vector(secrets)
        w.opaque(encryptedGroupInfo)
    }
    public init(from r: inout TLSReader) throws {
        cipherSuite = try r.u16("welcome.cipher_suite")
        secrets = try r.vector(of: EncryptedGroupSecrets.self, "welcome.secrets")
        encryptedGroupInfo = try r.opaque("welcome.encrypted_group_info")
    }
}

/// An `ExternalSender` entry of the `external_senders` extension.
public struct ExternalSender: TLSCodable, Equatable {
    public var signatureKey: [UInt8]
    public var credential: Credential
    public init(signatureKey: [UInt8], credential: Credential) {
        self.signatureKey = signatureKey
        self.credential = credential
    }
    public func encode(to w: inout TLSWriter) {
        w.opaque(signatureKey)
        credential.encode(to: &w)
    }
    public init(from r: inout TLSReader) throws {
        signatureKey = try r.opaque("external_sender.signature_key")
        credential = try Credential(from: &r)
    }

    /// The `external_senders` group-context extension holding `senders`.
    public static func extensionFor(_ senders: [ExternalSender]) -> Extension {
        var w = TLSWriter()
        w.vector(senders)
        return Extension(extensionType: Extension.externalSenders, data: w.bytes)
    }

    /// Parses the `external_senders` extension data.
    public static func parseList(_ data: [UInt8]) throws -> [ExternalSender] {
        var r = TLSReader(data)
        let list = try r.vector(of: ExternalSender.self, "external_senders")
        try r.finish()
        return list
    }
}
