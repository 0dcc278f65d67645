/// Media encryption and the transitions that install keys (dave.md §4.3–§4.6, §5).
extension DAVESession {
    // MARK: - Media

    /// DAVE-encrypts one outgoing Opus frame into `output` (at least `opus.count +
    /// DAVEFrameFormat.maximumOverhead` bytes; plain copy while protocol 0 is in effect); returns its length.
    /// Allocates nothing: the send path's form.
    public func encrypt(opus: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        try encryptor.encrypt(opus: opus, into: output)
    }

    /// Decrypts one incoming frame from `userID` into `output` (at least `frame.count` bytes); returns the Opus
    /// frame's length. Allocates nothing: the receive path's form. Rules as `decrypt(userID:frame:into:)`.
    public func decrypt(
        userID: UInt64, frame: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws -> Int {
        if let decryptor = decryptors[userID] { return try decryptor.decrypt(frame: frame, into: output) }
        guard executedProtocolVersion == 0, ParsedDAVEFrame.parse(frame) == nil else {
            throw DAVESessionError.unknownUser(userID)
        }
        guard output.count >= frame.count else { throw DAVEFrameError.frameTooLarge }
        output.copyMemory(from: frame)
        return frame.count
    }

    /// DAVE-encrypts one outgoing Opus frame into `output` (plain copy while protocol 0 is in effect).
    public func encrypt(opus: [UInt8], into output: inout [UInt8]) throws {
        try encryptor.encrypt(opus: opus, into: &output)
    }

    /// DAVE-encrypts one outgoing Opus frame.
    public func encrypt(opus: [UInt8]) throws -> [UInt8] { try encryptor.encrypt(opus: opus) }

    /// Decrypts one incoming frame from `userID` into `output`. A user without a decryptor (never announced)
    /// may only send plain frames, and only while protocol 0 is executed.
    public func decrypt(userID: UInt64, frame: [UInt8], into output: inout [UInt8]) throws {
        if let decryptor = decryptors[userID] {
            try decryptor.decrypt(frame: frame, into: &output)
        } else if executedProtocolVersion == 0, ParsedDAVEFrameCheck.isPlain(frame) {
            output.removeAll(keepingCapacity: true)
            output.append(contentsOf: frame)
        } else {
            throw DAVESessionError.unknownUser(userID)
        }
    }

    /// Decrypts one incoming frame from `userID`.
    public func decrypt(userID: UInt64, frame: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = []
        try decrypt(userID: userID, frame: frame, into: &output)
        return output
    }

    // MARK: - Transitions

    func transitionToNewEpoch(transitionID: UInt16) -> [DAVEClientMessage] {
        pendingTransition = (transitionID, protocolVersion)
        prepareRatchets(protocolVersion: protocolVersion)
        if transitionID == 0 {
            executeTransition(id: 0)
            return []
        }
        return [.readyForTransition(transitionID: transitionID)]
    }

    /// Installs new receive ratchets for every other member now. For protocol 0 (libdave: a null ratchet) the
    /// installed ratchets lapse in 10 s and every recognised user's decryptor lets plain frames through.
    func prepareRatchets(protocolVersion version: UInt16) {
        preparedProtocolVersion = version
        guard version > 0 else {
            for decryptor in decryptors.values {
                decryptor.retire()
                decryptor.setPassthrough(true)
            }
            installPassthroughDecryptors()
            return
        }
        guard let group, group.isEstablished else { return }
        let roster = Set(group.members.map(\.userID))
        for (userID, decryptor) in decryptors where !roster.contains(userID) {
            decryptor.retire()
            decryptor.setPassthrough(false)
        }
        // A repeated prepare for the same epoch must not install a second window with a fresh replay history.
        let alreadyInstalled = installedRatchets.map { $0 == (groupInstance, group.epoch) } ?? false
        installedRatchets = (groupInstance, group.epoch)
        for member in group.members where member.userID != selfUserID {
            let existing = decryptors[member.userID]
            let decryptor = existing ?? FrameDecryptor(clock: clock)
            decryptors[member.userID] = decryptor
            if !alreadyInstalled || existing == nil, let ratchet = senderRatchet(for: member.userID, group: group) {
                decryptor.transition(to: ratchet)
            }
            // Passthrough allowed so far (an upgrade from protocol 0) ends 10 s from now.
            decryptor.setPassthrough(false)
        }
    }

    /// While protocol 0 is prepared: a passthrough decryptor for every recognised user that has none.
    func installPassthroughDecryptors() {
        for userID in recognizedUserIDs where userID != selfUserID && decryptors[userID] == nil {
            let decryptor = FrameDecryptor(clock: clock)
            decryptor.setPassthrough(true)
            decryptors[userID] = decryptor
        }
    }

    func executeTransition(id: UInt16) {
        guard let pending = pendingTransition, pending.id == id else { return }
        pendingTransition = nil
        protocolVersion = pending.protocolVersion
        executedProtocolVersion = pending.protocolVersion
        if pending.protocolVersion == 0 {
            encryptor.passthrough = true
            encryptor.setRatchet(nil)
            group = nil
            keyPackage = nil
            return
        }
        guard let group, group.isEstablished else { return }
        encryptor.setRatchet(senderRatchet(for: selfUserID, group: group))
        encryptor.passthrough = false
    }

    /// The member's ratchet for this epoch; `nil` only if the exporter refused (it cannot for 16 bytes).
    func senderRatchet(for userID: UInt64, group: SessionGroup) -> SenderKeyRatchet? {
        let context = (0..<8).map { UInt8(truncatingIfNeeded: userID >> (8 * UInt64($0))) }
        return group.exportSecret(label: Self.senderKeyLabel, context: context, length: SenderKeyRatchet.keyLength)
            .map { SenderKeyRatchet(baseSecret: $0) }
    }
}

/// Cheap check used for users without a decryptor during protocol 0.
enum ParsedDAVEFrameCheck {
    static func isPlain(_ frame: [UInt8]) -> Bool {
        frame.withUnsafeBytes { ParsedDAVEFrame.parse($0) == nil }
    }
}
