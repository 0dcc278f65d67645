/// Protocol version `mls10`.
public let mlsVersion10: UInt16 = 1

/// A credential. Only `basic` (type 1) is interpreted; X.509 (type 2) is carried opaquely for codec round-trips.
public struct Credential: TLSCodable, Equatable, Hashable {
    public static let basicType: UInt16 = 1
    public static let x509Type: UInt16 = 2
    public var credentialType: UInt16
    /// Basic: the identity. X.509: the encoded `certificates<V>` body.
    public var identity: [UInt8]

    /// A basic credential.
    public static func basic(_ identity: [UInt8]) -> Credential {
        Credential(credentialType: basicType, identity: identity)
    }
    /// A basic credential whose identity is a user id as 8 bytes big-endian (DAVE).
    public static func basic(userID: UInt64) -> Credential { basic(bigEndianBytes(userID)) }

    public init(credentialType: UInt16, identity: [UInt8]) {
        self.credentialType = credentialType
        self.identity = identity
    }

    /// The identity read as a big-endian u64 when it is exactly 8 bytes.
    public var userID: UInt64? {
        guard credentialType == Credential.basicType, identity.count == 8 else { return nil }
        return identity.reduce(0) { $0 << 8 | UInt64($1) }
    }

    public func encode(to w: inout TLSWriter) {
        w.u16(credentialType)
        w.opaque(identity)
    }

    public init(from r: inout TLSReader) throws {
        credentialType = try r.u16("credential_type")
        switch credentialType {
        case Credential.basicType, Credential.x509Type: identity = try r.opaque("credential")
        default: throw MLSError.unsupported("credential type \(credentialType)")
        }
    }
}

func bigEndianBytes(_ value: UInt64) -> [UInt8] {
    (0..<8).map { UInt8((value >> (56 - 8 * UInt64($0))) & 0xFF) }
}

/// `Capabilities` of a leaf.
public struct Capabilities: TLSCodable, Equatable, Sendable {
    public var versions: [UInt16]
    public var cipherSuites: [UInt16]
    public var extensions: [UInt16]
    public var proposals: [UInt16]
    public var credentials: [UInt16]

    /// The DAVE capabilities: versions [1], suites [2], credentials [basic], nothing else.
    public static let dave = Capabilities(
        versions: [1], cipherSuites: [2], extensions: [], proposals: [], credentials: [1])

    public init(
        versions: [UInt16], cipherSuites: [UInt16], extensions: [UInt16], proposals: [UInt16], credentials: [UInt16]
    ) {
        self.versions = versions
        self.cipherSuites = cipherSuites
        self.extensions = extensions
        self.proposals = proposals
        self.credentials = credentials
    }

    public func encode(to w: inout TLSWriter) {
        w.u16Vector(versions)
        w.u16Vector(cipherSuites)
        w.u16Vector(extensions)
        w.u16Vector(proposals)
        w.u16Vector(credentials)
    }

    public init(from r: inout TLSReader) throws {
        versions = try r.u16Vector("capabilities.versions")
        cipherSuites = try r.u16Vector("capabilities.cipher_suites")
        extensions = try r.u16Vector("capabilities.extensions")
        proposals = try r.u16Vector("capabilities.proposals")
        credentials = try r.u16Vector("capabilities.credentials")
    }
}

/// `Lifetime` of a key-package leaf.
public struct Lifetime: TLSCodable, Equatable, Sendable {
    public var notBefore: UInt64
    public var notAfter: UInt64
    /// 0 … 2^64−1, as DAVE uses.
    public static let unlimited = Lifetime(notBefore: 0, notAfter: .max)
    public init(notBefore: UInt64, notAfter: UInt64) {
        self.notBefore = notBefore
        self.notAfter = notAfter
    }
    public func encode(to w: inout TLSWriter) {
        w.u64(notBefore)
        w.u64(notAfter)
    }
    public init(from r: inout TLSReader) throws {
        notBefore = try r.u64("not_before")
        notAfter = try r.u64("not_after")
    }
}

/// An `Extension` (type + opaque data).
public struct Extension: TLSCodable, Equatable {
    public static let applicationID: UInt16 = 1
    public static let ratchetTree: UInt16 = 2
    public static let requiredCapabilities: UInt16 = 3
    public static let externalPub: UInt16 = 4
    public static let externalSenders: UInt16 = 5

    public var extensionType: UInt16
    public var data: [UInt8]
    public init(extensionType: UInt16, data: [UInt8]) {
        self.extensionType = extensionType
        self.data = data
    }
    public func encode(to w: inout TLSWriter) {
        w.u16(extensionType)
        w.opaque(data)
    }
    public init(from r: inout TLSReader) throws {
        extensionType = try r.u16("extension_type")
        data = try r.opaque("extension_data")
    }
}

/// Where a leaf node came from, with the source-specific field.
public enum LeafNodeSource: Equatable {
    case keyPackage(Lifetime)
    case update
    case commit(parentHash: [UInt8])
}

/// A `LeafNode` (RFC 9420 §7.2).
public struct LeafNode: TLSCodable, Equatable {
    public var encryptionKey: [UInt8]
    public var signatureKey: [UInt8]
    public var credential: Credential
    public var capabilities: Capabilities
    public var source: LeafNodeSource
    public var extensions: [Extension]
    public var signature: [UInt8]

    public init(
        encryptionKey: [UInt8], signatureKey: [UInt8], credential: Credential, capabilities: Capabilities,
        source: LeafNodeSource, extensions: [Extension], signature: [UInt8]
    ) {
        self.encryptionKey = encryptionKey
        self.signatureKey = signatureKey
        self.credential = credential
        self.capabilities = capabilities
        self.source = source
        self.extensions = extensions
        self.signature = signature
    }

    /// The `parent_hash` of a commit-sourced leaf.
    public var parentHash: [UInt8]? {
        if case .commit(let hash) = source { return hash }
        return nil
    }

    private func encodeContent(to w: inout TLSWriter) {
        w.opaque(encryptionKey)
        w.opaque(signatureKey)
        credential.encode(to: &w)
        capabilities.encode(to: &w)
        switch source {
        case .keyPackage(let lifetime):
            w.u8(1)
            lifetime.encode(to: &w)
        case .update: w.u8(2)
        case .commit(let parentHash):
            w.u8(3)
            w.opaque(parentHash)
        }
        w.vector(extensions)
    }

    /// `LeafNodeTBS`; group id and leaf index are required for update/commit sources.
    func toBeSigned(groupID: [UInt8]?, leafIndex: UInt32?) throws -> [UInt8] {
        var w = TLSWriter()
        encodeContent(to: &w)
        switch source {
        case .keyPackage: break
        case .update, .commit:
            guard let groupID, let leafIndex else {
                throw MLSError.state("leaf node signature needs group id and leaf index")
            }
            w.opaque(groupID)
            w.u32(leafIndex)
        }
        return w.bytes
    }

    /// Signs the leaf in place.
    public mutating func sign(privateKey: [UInt8], groupID: [UInt8]?, leafIndex: UInt32?) throws {
        signature = try CipherSuite.signWithLabel(
            privateKey: privateKey, label: "LeafNodeTBS", content: toBeSigned(groupID: groupID, leafIndex: leafIndex))
    }

    /// Verifies the leaf signature with its own signature key.
    public func verifySignature(groupID: [UInt8]?, leafIndex: UInt32?) -> Bool {
        guard let tbs = try? toBeSigned(groupID: groupID, leafIndex: leafIndex) else { return false }
        return CipherSuite.verifyWithLabel(
            publicKey: signatureKey, label: "LeafNodeTBS", content: tbs, signature: signature)
    }

    public func encode(to w: inout TLSWriter) {
        encodeContent(to: &w)
        w.opaque(signature)
    }

    public init(from r: inout TLSReader) throws {
        encryptionKey = try r.opaque("leaf_node.encryption_key")
        signatureKey = try r.opaque("leaf_node.signature_key")
        credential = try Credential(from: &r)
        capabilities = try Capabilities(from: &r)
        switch try r.u8("leaf_node_source") {
        case 1: source = .keyPackage(try Lifetime(from: &r))
        case 2: source = .update
        case 3: source = .commit(parentHash: try r.opaque("leaf_node.parent_hash"))
        case let value: throw MLSError.invalidValue("leaf_node_source \(value)")
        }
        extensions = try r.vector(of: Extension.self, "leaf_node.extensions")
        signature = try r.opaque("leaf_node.signature")
    }

    /// Checks the DAVE / RFC 9420 §7.3 leaf rules that do not depend on the rest of the group:
    /// suite 2 and version 1 supported, credential type supported, keys well-formed.
    func validateCapabilities() throws {
        guard capabilities.versions.contains(mlsVersion10) else {
            throw MLSError.validation("leaf does not support mls10")
        }
        guard capabilities.cipherSuites.contains(CipherSuite.id) else {
            throw MLSError.validation("leaf does not support cipher suite 2")
        }
        guard capabilities.credentials.contains(credential.credentialType) else {
            throw MLSError.validation("leaf capabilities omit its own credential type")
        }
        for ext in extensions
        where ext.extensionType > Extension.externalSenders && !capabilities.extensions.contains(ext.extensionType) {
            throw MLSError.validation("leaf carries extension \(ext.extensionType) it does not list in capabilities")
        }
    }
}

/// A `KeyPackage` (RFC 9420 §10).
public struct KeyPackage: TLSCodable, Equatable {
    public var version: UInt16
    public var cipherSuite: UInt16
    public var initKey: [UInt8]
    public var leafNode: LeafNode
    public var extensions: [Extension]
    public var signature: [UInt8]

    public init(
        version: UInt16 = mlsVersion10, cipherSuite: UInt16 = CipherSuite.id, initKey: [UInt8], leafNode: LeafNode,
        extensions: [Extension] = [], signature: [UInt8] = []
    ) {
        self.version = version
        self.cipherSuite = cipherSuite
        self.initKey = initKey
        self.leafNode = leafNode
        self.extensions = extensions
        self.signature = signature
    }

    private func encodeContent(to w: inout TLSWriter) {
        w.u16(version)
        w.u16(cipherSuite)
        w.opaque(initKey)
        leafNode.encode(to: &w)
        w.vector(extensions)
    }

    var toBeSigned: [UInt8] {
        var w = TLSWriter()
        encodeContent(to: &w)
        return w.bytes
    }

    public func encode(to w: inout TLSWriter) {
        encodeContent(to: &w)
        w.opaque(signature)
    }

    public init(from r: inout TLSReader) throws {
        version = try r.u16("key_package.version")
        cipherSuite = try r.u16("key_package.cipher_suite")
        initKey = try r.opaque("key_package.init_key")
        leafNode = try LeafNode(from: &r)
        extensions = try r.vector(of: Extension.self, "key_package.extensions")
        signature = try r.opaque("key_package.signature")
    }

    /// `KeyPackageRef = RefHash("MLS 1.0 KeyPackage Reference", KeyPackage)`.
    public var reference: [UInt8] { CipherSuite.refHash(label: "MLS 1.0 KeyPackage Reference", value: tlsEncoded) }

    /// RFC 9420 §10.1 validation: version, suite, both signatures, leaf source, init key ≠ encryption key.
    public func validate() throws {
        guard version == mlsVersion10 else { throw MLSError.validation("key package version \(version)") }
        guard cipherSuite == CipherSuite.id else {
            throw MLSError.validation("key package cipher suite \(cipherSuite)")
        }
        guard case .keyPackage = leafNode.source else {
            throw MLSError.validation("key package leaf source is not key_package")
        }
        guard leafNode.verifySignature(groupID: nil, leafIndex: nil) else {
            throw MLSError.validation("key package leaf signature")
        }
        guard
            CipherSuite.verifyWithLabel(
                publicKey: leafNode.signatureKey, label: "KeyPackageTBS", content: toBeSigned, signature: signature)
        else {
            throw MLSError.validation("key package signature")
        }
        guard initKey != leafNode.encryptionKey else {
            throw MLSError.validation("init key equals leaf encryption key")
        }
        try leafNode.validateCapabilities()
    }
}

/// A KeyPackage together with its private keys, as kept by the member that published it.
public struct KeyPackageBundle {
    public let keyPackage: KeyPackage
    public let initPrivateKey: [UInt8]
    public let encryptionPrivateKey: [UInt8]
    public let signaturePrivateKey: [UInt8]

    public init(
        keyPackage: KeyPackage, initPrivateKey: [UInt8], encryptionPrivateKey: [UInt8], signaturePrivateKey: [UInt8]
    ) {
        self.keyPackage = keyPackage
        self.initPrivateKey = initPrivateKey
        self.encryptionPrivateKey = encryptionPrivateKey
        self.signaturePrivateKey = signaturePrivateKey
    }

    /// Creates a DAVE key package: basic credential with the user id (8 bytes BE), DAVE capabilities,
    /// unlimited lifetime, no extensions. A fresh signature key is generated unless one is given.
    public static func create(userID: UInt64, signaturePrivateKey: [UInt8]? = nil) throws -> KeyPackageBundle {
        try create(credential: .basic(userID: userID), signaturePrivateKey: signaturePrivateKey)
    }

    /// Creates a key package for an arbitrary credential with the DAVE capabilities.
    public static func create(credential: Credential, signaturePrivateKey: [UInt8]? = nil) throws -> KeyPackageBundle {
        let signingKey = signaturePrivateKey ?? CipherSuite.generateSignatureKeyPair().privateKey
        let encryption = CipherSuite.generateHPKEKeyPair()
        let initKeys = CipherSuite.generateHPKEKeyPair()
        var leaf = LeafNode(
            encryptionKey: encryption.publicKey,
            signatureKey: try CipherSuite.signaturePublicKey(privateKey: signingKey),
            credential: credential, capabilities: .dave, source: .keyPackage(.unlimited), extensions: [], signature: [])
        try leaf.sign(privateKey: signingKey, groupID: nil, leafIndex: nil)
        var package = KeyPackage(initKey: initKeys.publicKey, leafNode: leaf)
        package.signature = try CipherSuite.signWithLabel(
            privateKey: signingKey, label: "KeyPackageTBS", content: package.toBeSigned)
        return KeyPackageBundle(
            keyPackage: package, initPrivateKey: initKeys.privateKey,
            encryptionPrivateKey: encryption.privateKey, signaturePrivateKey: signingKey)
    }
}
