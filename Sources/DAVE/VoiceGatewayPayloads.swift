import MLS

/// Why a DAVE voice gateway payload was refused.
public enum DAVEPayloadError: Error, Equatable {
    /// The payload ended early, had trailing bytes or an invalid encoding (`detail` says where).
    case malformed(String)
    /// The op 27 operation type byte was neither append (0) nor revoke (1).
    case unknownProposalsOperation(UInt8)
    /// The external sender's credential is not a basic credential.
    case unsupportedCredential(UInt16)
}

/// DAVE op 25 `external_sender_package`: the voice gateway's MLS external sender.
public struct DAVEExternalSenderPackage: Equatable {
    /// Uncompressed P-256 signature public key (65 bytes).
    public let signatureKey: [UInt8]
    /// The basic credential's identity bytes.
    public let identity: [UInt8]
    /// The exact bytes received (an RFC 9420 `ExternalSender`), used verbatim in `external_senders`.
    public let encoded: [UInt8]

    /// Parses an op 25 payload.
    public init(payload: [UInt8]) throws {
        do {
            var reader = TLSReader(payload)
            signatureKey = try reader.opaque("signature_key")
            let credentialType = try reader.u16("credential_type")
            guard credentialType == Credential.basicType else {
                throw DAVEPayloadError.unsupportedCredential(credentialType)
            }
            identity = try reader.opaque("identity")
            try reader.finish()
        } catch let error as DAVEPayloadError {
            throw error
        } catch {
            throw DAVEPayloadError.malformed("external sender: \(error)")
        }
        encoded = payload
    }

    /// Builds the op 25 payload for a signature key and identity.
    public init(signatureKey: [UInt8], identity: [UInt8]) {
        var writer = TLSWriter()
        writer.opaque(signatureKey)
        writer.u16(Credential.basicType)
        writer.opaque(identity)
        self.signatureKey = signatureKey
        self.identity = identity
        self.encoded = writer.bytes
    }
}

/// DAVE op 27 `mls_proposals`.
public enum DAVEProposalsPayload: Equatable {
    /// Proposals to queue, as `MLSMessage` values (byte-exact as received).
    case append([MLSMessage])
    /// References of queued proposals to drop.
    case revoke([[UInt8]])

    /// Parses an op 27 payload (operation type byte included).
    public init(payload: [UInt8]) throws {
        guard let operation = payload.first else { throw DAVEPayloadError.malformed("empty op 27") }
        do {
            var reader = TLSReader(Array(payload.dropFirst()))
            switch operation {
            case 0:
                let body = try reader.opaque("proposal_messages")
                try reader.finish()
                self = .append(try MLSMessage.parseConcatenated(body))
            case 1:
                let body = try reader.opaque("proposal_refs")
                try reader.finish()
                var refs = TLSReader(body)
                var items: [[UInt8]] = []
                while !refs.isAtEnd { items.append(try refs.opaque("proposal_ref")) }
                self = .revoke(items)
            default:
                throw DAVEPayloadError.unknownProposalsOperation(operation)
            }
        } catch let error as DAVEPayloadError {
            throw error
        } catch {
            throw DAVEPayloadError.malformed("proposals: \(error)")
        }
    }

    /// The op 27 payload bytes.
    public var encoded: [UInt8] {
        var writer = TLSWriter()
        switch self {
        case .append(let messages):
            writer.u8(0)
            writer.opaque(messages.flatMap { $0.tlsEncoded })
        case .revoke(let refs):
            writer.u8(1)
            var inner = TLSWriter()
            for ref in refs { inner.opaque(ref) }
            writer.opaque(inner.bytes)
        }
        return writer.bytes
    }
}

/// DAVE op 28 `mls_commit_welcome`: our commit and, when it adds members, the bare Welcome.
public struct DAVECommitWelcome: Equatable {
    /// The commit as an `MLSMessage` (PublicMessage).
    public let commit: MLSMessage
    /// The Welcome for the added members, if any.
    public let welcome: Welcome?

    /// Pairs a commit with its optional Welcome.
    public init(commit: MLSMessage, welcome: Welcome?) {
        self.commit = commit
        self.welcome = welcome
    }

    /// Parses an op 28 payload.
    public init(payload: [UInt8]) throws {
        do {
            var reader = TLSReader(payload)
            commit = try MLSMessage(from: &reader)
            welcome = reader.isAtEnd ? nil : try Welcome(from: &reader)
            try reader.finish()
        } catch {
            throw DAVEPayloadError.malformed("commit/welcome: \(error)")
        }
    }

    /// `MLSMessage(commit) ‖ Welcome?` — plain concatenation.
    public var encoded: [UInt8] { commit.tlsEncoded + (welcome?.tlsEncoded ?? []) }
}

/// DAVE op 29 `announce_commit_transition`.
public struct DAVEAnnounceCommit: Equatable {
    /// The transition the commit belongs to (0 = immediate).
    public let transitionID: UInt16
    /// The winning commit.
    public let commit: MLSMessage

    /// Wraps a commit for a transition.
    public init(transitionID: UInt16, commit: MLSMessage) {
        self.transitionID = transitionID
        self.commit = commit
    }

    /// Parses an op 29 payload.
    public init(payload: [UInt8]) throws {
        do {
            var reader = TLSReader(payload)
            transitionID = try reader.u16("transition_id")
            commit = try MLSMessage(from: &reader)
            try reader.finish()
        } catch {
            throw DAVEPayloadError.malformed("announce commit: \(error)")
        }
    }

    /// `u16 transition_id ‖ MLSMessage`.
    public var encoded: [UInt8] {
        var writer = TLSWriter()
        writer.u16(transitionID)
        return writer.bytes + commit.tlsEncoded
    }
}

/// DAVE op 30 `mls_welcome`.
public struct DAVEWelcomePayload: Equatable {
    /// The transition the Welcome belongs to (0 = immediate).
    public let transitionID: UInt16
    /// The bare Welcome.
    public let welcome: Welcome

    /// Wraps a Welcome for a transition.
    public init(transitionID: UInt16, welcome: Welcome) {
        self.transitionID = transitionID
        self.welcome = welcome
    }

    /// Parses an op 30 payload.
    public init(payload: [UInt8]) throws {
        do {
            var reader = TLSReader(payload)
            transitionID = try reader.u16("transition_id")
            welcome = try Welcome(from: &reader)
            try reader.finish()
        } catch {
            throw DAVEPayloadError.malformed("welcome: \(error)")
        }
    }

    /// `u16 transition_id ‖ Welcome`.
    public var encoded: [UInt8] {
        var writer = TLSWriter()
        writer.u16(transitionID)
        return writer.bytes + welcome.tlsEncoded
    }
}
