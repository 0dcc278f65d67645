/// Wire formats (RFC 9420 §6).
public enum WireFormat: UInt16 {
    case publicMessage = 1
    case privateMessage = 2
    case welcome = 3
    case groupInfo = 4
    case keyPackage = 5
}

/// `Sender`.
public enum Sender: TLSCodable, Equatable {
    case member(leafIndex: UInt32)
    case external(senderIndex: UInt32)
    case newMemberProposal
    case newMemberCommit

    public func encode(to w: inout TLSWriter) {
        switch self {
        case .member(let index):
            w.u8(1)
            w.u32(index)
        case .external(let index):
            w.u8(2)
            w.u32(index)
        case .newMemberProposal: w.u8(3)
        case .newMemberCommit: w.u8(4)
        }
    }

    public init(from r: inout TLSReader) throws {
        switch try r.u8("sender_type") {
        case 1: self = .member(leafIndex: try r.u32("leaf_index"))
        case 2: self = .external(senderIndex: try r.u32("sender_index"))
        case 3: self = .newMemberProposal
        case 4: self = .newMemberCommit
        case let value: throw MLSError.invalidValue("sender_type \(value)")
        }
    }
}

/// The body of a `FramedContent`.
public enum FramedContentBody: Equatable {
    case application([UInt8])
    case proposal(Proposal)
    case commit(Commit)

    var contentType: UInt8 {
        switch self {
        case .application: return 1
        case .proposal: return 2
        case .commit: return 3
        }
    }
}

/// `FramedContent`.
public struct FramedContent: TLSCodable, Equatable {
    public var groupID: [UInt8]
    public var epoch: UInt64
    public var sender: Sender
    public var authenticatedData: [UInt8]
    public var body: FramedContentBody

    public init(
        groupID: [UInt8], epoch: UInt64, sender: Sender, authenticatedData: [UInt8] = [], body: FramedContentBody
    ) {
        self.groupID = groupID
        self.epoch = epoch
        self.sender = sender
        self.authenticatedData = authenticatedData
        self.body = body
    }

    public func encode(to w: inout TLSWriter) {
        w.opaque(groupID)
        w.u64(epoch)
        sender.encode(to: &w)
        w.opaque(authenticatedData)
        w.u8(body.contentType)
        switch body {
        case .application(let data): w.opaque(data)
        case .proposal(let proposal): proposal.encode(to: &w)
        case .commit(let commit): commit.encode(to: &w)
        }
    }

    public init(from r: inout TLSReader) throws {
        groupID = try r.opaque("framed_content.group_id")
        epoch = try r.u64("framed_content.epoch")
        sender = try Sender(from: &r)
        authenticatedData = try r.opaque("framed_content.authenticated_data")
        switch try r.u8("content_type") {
        case 1: body = .application(try r.opaque("application_data"))
        case 2: body = .proposal(try Proposal(from: &r))
        case 3: body = .commit(try Commit(from: &r))
        case let value: throw MLSError.invalidValue("content_type \(value)")
        }
    }

    /// `FramedContentTBS`; the GroupContext is included for member and new-member-commit senders.
    func toBeSigned(wireFormat: WireFormat, groupContext: GroupContext?) throws -> [UInt8] {
        var w = TLSWriter()
        w.u16(mlsVersion10)
        w.u16(wireFormat.rawValue)
        encode(to: &w)
        switch sender {
        case .member, .newMemberCommit:
            guard let groupContext else { throw MLSError.state("member-signed content needs the group context") }
            groupContext.encode(to: &w)
        case .external, .newMemberProposal:
            break
        }
        return w.bytes
    }
}

/// `FramedContentAuthData`; the confirmation tag is present exactly for commits.
public struct FramedContentAuthData: Equatable {
    public var signature: [UInt8]
    public var confirmationTag: [UInt8]?

    public init(signature: [UInt8], confirmationTag: [UInt8]?) {
        self.signature = signature
        self.confirmationTag = confirmationTag
    }

    func encode(to w: inout TLSWriter) {
        w.opaque(signature)
        if let confirmationTag { w.opaque(confirmationTag) }
    }

    init(from r: inout TLSReader, isCommit: Bool) throws {
        signature = try r.opaque("signature")
        confirmationTag = isCommit ? try r.opaque("confirmation_tag") : nil
    }
}

/// `AuthenticatedContent` (used for transcript hashes and proposal references).
public struct AuthenticatedContent: TLSCodable, Equatable {
    public var wireFormat: WireFormat
    public var content: FramedContent
    public var auth: FramedContentAuthData

    public init(wireFormat: WireFormat, content: FramedContent, auth: FramedContentAuthData) {
        self.wireFormat = wireFormat
        self.content = content
        self.auth = auth
    }

    public func encode(to w: inout TLSWriter) {
        w.u16(wireFormat.rawValue)
        content.encode(to: &w)
        auth.encode(to: &w)
    }

    public init(from r: inout TLSReader) throws {
        let raw = try r.u16("wire_format")
        guard let format = WireFormat(rawValue: raw), format == .publicMessage || format == .privateMessage else {
            throw MLSError.invalidValue("authenticated content wire_format \(raw)")
        }
        wireFormat = format
        content = try FramedContent(from: &r)
        if case .commit = content.body {
            auth = try FramedContentAuthData(from: &r, isCommit: true)
        } else {
            auth = try FramedContentAuthData(from: &r, isCommit: false)
        }
    }

    /// `ConfirmedTranscriptHashInput` = wire_format ‖ content ‖ signature.
    var confirmedTranscriptHashInput: [UInt8] {
        var w = TLSWriter()
        w.u16(wireFormat.rawValue)
        content.encode(to: &w)
        w.opaque(auth.signature)
        return w.bytes
    }

    /// `ProposalRef = RefHash("MLS 1.0 Proposal Reference", AuthenticatedContent)`.
    public var proposalReference: [UInt8] {
        CipherSuite.refHash(label: "MLS 1.0 Proposal Reference", value: tlsEncoded)
    }

    /// Verifies the signature; `groupContext` is required for member / new-member-commit senders.
    public func verifySignature(publicKey: [UInt8], groupContext: GroupContext?) -> Bool {
        guard let tbs = try? content.toBeSigned(wireFormat: wireFormat, groupContext: groupContext) else {
            return false
        }
        return CipherSuite.verifyWithLabel(
            publicKey: publicKey, label: "FramedContentTBS", content: tbs, signature: auth.signature)
    }

    /// Signs `content` as sent in `wireFormat`.
    static func sign(_ content: FramedContent, wireFormat: WireFormat, privateKey: [UInt8], groupContext: GroupContext?)
        throws -> [UInt8]
    {
        try CipherSuite.signWithLabel(
            privateKey: privateKey, label: "FramedContentTBS",
            content: content.toBeSigned(wireFormat: wireFormat, groupContext: groupContext))
    }
}

/// `PublicMessage`; the membership tag is present exactly for member senders.
public struct PublicMessage: TLSCodable, Equatable {
    public var content: FramedContent
    public var auth: FramedContentAuthData
    public var membershipTag: [UInt8]?

    public init(content: FramedContent, auth: FramedContentAuthData, membershipTag: [UInt8]?) {
        self.content = content
        self.auth = auth
        self.membershipTag = membershipTag
    }

    public func encode(to w: inout TLSWriter) {
        content.encode(to: &w)
        auth.encode(to: &w)
        if let membershipTag { w.opaque(membershipTag) }
    }

    public init(from r: inout TLSReader) throws {
        content = try FramedContent(from: &r)
        if case .commit = content.body {
            auth = try FramedContentAuthData(from: &r, isCommit: true)
        } else {
            auth = try FramedContentAuthData(from: &r, isCommit: false)
        }
        if case .member = content.sender { membershipTag = try r.opaque("membership_tag") } else { membershipTag = nil }
    }

    /// The `AuthenticatedContent` this message carries.
    public var authenticatedContent: AuthenticatedContent {
        AuthenticatedContent(wireFormat: .publicMessage, content: content, auth: auth)
    }

    /// `membership_tag = MAC(membership_key, AuthenticatedContentTBM)`.
    static func membershipTag(
        for authenticated: AuthenticatedContent, membershipKey: [UInt8], groupContext: GroupContext
    ) throws -> [UInt8] {
        var w = TLSWriter()
        w.raw(try authenticated.content.toBeSigned(wireFormat: authenticated.wireFormat, groupContext: groupContext))
        authenticated.auth.encode(to: &w)
        return CipherSuite.mac(key: membershipKey, data: w.bytes)
    }

    /// Verifies the membership tag of a member-sent message.
    public func verifyMembershipTag(membershipKey: [UInt8], groupContext: GroupContext) -> Bool {
        guard let membershipTag,
            let expected = try? PublicMessage.membershipTag(
                for: authenticatedContent, membershipKey: membershipKey, groupContext: groupContext)
        else { return false }
        return constantTimeEqual(expected, membershipTag)
    }
}

/// `PrivateMessage` (codec only; decryption is not supported).
public struct PrivateMessage: TLSCodable, Equatable {
    public var groupID: [UInt8]
    public var epoch: UInt64
    public var contentType: UInt8
    public var authenticatedData: [UInt8]
    public var encryptedSenderData: [UInt8]
    public var ciphertext: [UInt8]
    public func encode(to w: inout TLSWriter) {
        w.opaque(groupID)
        w.u64(epoch)
        w.u8(contentType)
        w.opaque(authenticatedData)
        w.opaque(encryptedSenderData)
        w.opaque(ciphertext)
    }
    public init(from r: inout TLSReader) throws {
        groupID = try r.opaque("private_message.group_id")
        epoch = try r.u64("private_message.epoch")
        contentType = try r.u8("private_message.content_type")
        guard (1...3).contains(contentType) else { throw MLSError.invalidValue("content_type \(contentType)") }
        authenticatedData = try r.opaque("private_message.authenticated_data")
        encryptedSenderData = try r.opaque("private_message.encrypted_sender_data")
        ciphertext = try r.opaque("private_message.ciphertext")
    }
}

/// `MLSMessage`.
public enum MLSMessage: TLSCodable, Equatable {
    case publicMessage(PublicMessage)
    case privateMessage(PrivateMessage)
    case welcome(Welcome)
    case groupInfo(GroupInfo)
    case keyPackage(KeyPackage)

    public var wireFormat: WireFormat {
        switch self {
        case .publicMessage: return .publicMessage
        case .privateMessage: return .privateMessage
        case .welcome: return .welcome
        case .groupInfo: return .groupInfo
        case .keyPackage: return .keyPackage
        }
    }

    public func encode(to w: inout TLSWriter) {
        w.u16(mlsVersion10)
        w.u16(wireFormat.rawValue)
        switch self {
        case .publicMessage(let m): m.encode(to: &w)
        case .privateMessage(let m): m.encode(to: &w)
        case .welcome(let m): m.encode(to: &w)
        case .groupInfo(let m): m.encode(to: &w)
        case .keyPackage(let m): m.encode(to: &w)
        }
    }

    public init(from r: inout TLSReader) throws {
        let version = try r.u16("mls_message.version")
        guard version == mlsVersion10 else { throw MLSError.unsupported("protocol version \(version)") }
        let raw = try r.u16("mls_message.wire_format")
        switch WireFormat(rawValue: raw) {
        case .publicMessage: self = .publicMessage(try PublicMessage(from: &r))
        case .privateMessage: self = .privateMessage(try PrivateMessage(from: &r))
        case .welcome: self = .welcome(try Welcome(from: &r))
        case .groupInfo: self = .groupInfo(try GroupInfo(from: &r))
        case .keyPackage: self = .keyPackage(try KeyPackage(from: &r))
        case nil: throw MLSError.invalidValue("wire_format \(raw)")
        }
    }

    /// Splits a concatenation of MLSMessages (as in DAVE op 27 append payloads).
    public static func parseConcatenated(_ bytes: [UInt8]) throws -> [MLSMessage] {
        var r = TLSReader(bytes)
        var messages: [MLSMessage] = []
        while !r.isAtEnd { messages.append(try MLSMessage(from: &r)) }
        return messages
    }
}

/// Constant-time byte comparison.
func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
    guard a.count == b.count else { return false }
    var diff: UInt8 = 0
    for i in 0..<a.count { diff |= a[i] ^ b[i] }
    return diff == 0
}
