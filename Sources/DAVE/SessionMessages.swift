/// Op 21 `dave_protocol_prepare_transition` (server → client, JSON).
public struct DAVEPrepareTransition: Equatable {
    /// Protocol version after the transition (0 = downgrade to plain Opus).
    public let protocolVersion: UInt16
    /// Transition to acknowledge with op 23 (0 = execute immediately, no op 23).
    public let transitionID: UInt16
    /// Creates the value from the JSON fields.
    public init(protocolVersion: UInt16, transitionID: UInt16) {
        self.protocolVersion = protocolVersion
        self.transitionID = transitionID
    }
}

/// Op 22 `dave_protocol_execute_transition` (server → client, JSON).
public struct DAVEExecuteTransition: Equatable {
    /// The prepared transition to execute now.
    public let transitionID: UInt16
    /// Creates the value from the JSON field.
    public init(transitionID: UInt16) { self.transitionID = transitionID }
}

/// Op 24 `dave_protocol_prepare_epoch` (server → client, JSON).
public struct DAVEPrepareEpoch: Equatable {
    /// Protocol version of the upcoming epoch.
    public let protocolVersion: UInt16
    /// MLS epoch; 1 means a new group is being created.
    public let epoch: UInt64
    /// The transition this epoch belongs to.
    public let transitionID: UInt16
    /// Creates the value from the JSON fields.
    public init(protocolVersion: UInt16, epoch: UInt64, transitionID: UInt16) {
        self.protocolVersion = protocolVersion
        self.epoch = epoch
        self.transitionID = transitionID
    }
}

/// Something the session asks the voice gateway connection to send.
public enum DAVEClientMessage: Equatable {
    /// Op 26 `mls_key_package`: binary payload (a bare KeyPackage).
    case keyPackage([UInt8])
    /// Op 28 `mls_commit_welcome`: binary payload.
    case commitWelcome([UInt8])
    /// Op 23 `dave_protocol_ready_for_transition` JSON `{transition_id}`.
    case readyForTransition(transitionID: UInt16)
    /// Op 31 `mls_invalid_commit_welcome` JSON `{transition_id}`.
    case invalidCommitWelcome(transitionID: UInt16)

    /// The voice gateway opcode of this message.
    public var opcode: UInt8 {
        switch self {
        case .keyPackage: return 26
        case .commitWelcome: return 28
        case .readyForTransition: return 23
        case .invalidCommitWelcome: return 31
        }
    }
}

/// Why the session refused an input (the session state is unchanged unless stated).
public enum DAVESessionError: Error, Equatable {
    /// A binary payload could not be decoded.
    case payload(DAVEPayloadError)
    /// Proposals arrived while no (pending) group exists.
    case noGroup
    /// A proposal was not a PublicMessage external Add/Remove for our group's current epoch.
    case invalidProposal(String)
    /// An Add named a user the voice gateway did not announce for this channel.
    case unexpectedUser(UInt64)
    /// A different external sender arrived after the group was established.
    case externalSenderChanged
    /// The MLS layer refused an operation.
    case mls(String)
    /// Frames can't be processed: no key for the user and passthrough not allowed.
    case unknownUser(UInt64)
}

/// A member of the current DAVE group.
public struct DAVEMember: Equatable {
    /// MLS leaf index.
    public let leafIndex: UInt32
    /// Discord user id (from the basic credential).
    public let userID: UInt64
    /// The leaf's signature public key (used in verification fingerprints).
    public let signatureKey: [UInt8]
    /// Creates a roster entry.
    public init(leafIndex: UInt32, userID: UInt64, signatureKey: [UInt8]) {
        self.leafIndex = leafIndex
        self.userID = userID
        self.signatureKey = signatureKey
    }
}
