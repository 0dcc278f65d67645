import Realtime

/// Why a media frame could not be encrypted or decrypted.
public enum DAVEFrameError: Error, Equatable {
    /// No sender key is installed yet.
    case missingKey
    /// The frame is not a DAVE frame and passthrough is not allowed now.
    case unencryptedFrameRejected
    /// The nonce was seen before (or fell out of the replay window).
    case replayedNonce
    /// The frame's generation is out of bounds or its key expired.
    case generationUnavailable
    /// The frame declares unencrypted ranges, which Opus frames never carry.
    case unsupportedUnencryptedRanges
    /// The tag did not verify with any live key.
    case authenticationFailed
    /// The underlying AES-GCM primitive failed.
    case cipherFailure
}

/// Encrypts our outgoing Opus frames with our sender ratchet (libdave `Encryptor`).
///
/// Per-frame cost: one AES-128-GCM pass over the frame; the generation's key is derived and keyed once.
/// Output goes into a caller-owned buffer (cleared, capacity kept): with enough capacity, no heap allocation.
public final class FrameEncryptor {
    private var ratchet: SenderKeyRatchet?
    private var cipher: TruncatedAESGCM?
    /// Generation of `cipher` (unwrapped, may exceed 255). Internal so tests can jump ahead.
    var currentGeneration: UInt64 = 0
    /// Last nonce used (pre-incremented per frame; wraps at 2^32). Internal so tests can jump ahead.
    var truncatedNonce: UInt32 = 0
    /// When `true` frames are sent as plain Opus (protocol version 0).
    public var passthrough: Bool = false

    /// Creates an encryptor without a key; frames fail with `missingKey` until `setRatchet` or passthrough.
    public init() {}

    /// Whether a sender ratchet is installed.
    public var hasKey: Bool { ratchet != nil }

    /// Installs a new sender ratchet; the nonce counter restarts (first nonce 1).
    public func setRatchet(_ newRatchet: SenderKeyRatchet?) {
        ratchet = newRatchet
        cipher = nil
        currentGeneration = 0
        truncatedNonce = 0
    }

    /// Encrypts `opus` into `output` (cleared first). Silence and passthrough frames are copied unchanged.
    public func encrypt(opus: [UInt8], into output: inout [UInt8]) throws {
        output.removeAll(keepingCapacity: true)
        if passthrough || DAVEFrameFormat.isOpusSilence(opus) {
            output.append(contentsOf: opus)
            return
        }
        guard let ratchet else { throw DAVEFrameError.missingKey }
        truncatedNonce &+= 1
        let generation = wrappedGeneration(UInt64(truncatedNonce >> 24))
        if generation != currentGeneration || cipher == nil {
            guard generation <= UInt64(UInt32.max),
                let key = ratchet.key(forGeneration: UInt32(generation))
            else { throw DAVEFrameError.missingKey }
            ratchet.eraseKey(forGeneration: UInt32(generation))
            currentGeneration = generation
            cipher = TruncatedAESGCM(key: key)
        }
        guard let cipher else { throw DAVEFrameError.cipherFailure }
        let nonceLength = DAVEFrameFormat.leb128Length(UInt64(truncatedNonce))
        let sealedLength = opus.count + DAVEFrameFormat.tagLength
        output.reserveCapacity(sealedLength + nonceLength + 3)
        output.append(contentsOf: repeatElement(0, count: sealedLength))
        let sealed = output.withUnsafeMutableBytes { out in
            opus.withUnsafeBytes { cipher.seal($0, truncatedNonce: truncatedNonce, into: out) }
        }
        guard sealed else {
            output.removeAll(keepingCapacity: true)
            throw DAVEFrameError.cipherFailure
        }
        var nonce = truncatedNonce
        repeat {
            let low = UInt8(nonce & 0x7F)
            nonce >>= 7
            output.append(nonce == 0 ? low : low | 0x80)
        } while nonce != 0
        output.append(UInt8(DAVEFrameFormat.tagLength + nonceLength + 1 + 2))
        output.append(0xFA)
        output.append(0xFA)
    }

    /// Convenience returning a new array.
    public func encrypt(opus: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = []
        try encrypt(opus: opus, into: &output)
        return output
    }

    private func wrappedGeneration(_ shortGeneration: UInt64) -> UInt64 {
        let remainder = currentGeneration % ReceiveKeyWindow.generationWrap
        let factor = currentGeneration / ReceiveKeyWindow.generationWrap + (shortGeneration < remainder ? 1 : 0)
        return factor * ReceiveKeyWindow.generationWrap + shortGeneration
    }
}

/// Decrypts one remote sender's frames (libdave `Decryptor`): tries the newest ratchet first, keeps superseded
/// ratchets for 10 s after a transition, and accepts plain frames only while passthrough is allowed.
///
/// Per-frame cost: trailer parse, replay-window check, one AES-128-GCM pass with an 8-byte tag check (see
/// `TruncatedAESGCM`); keys are derived and keyed once per generation. No heap allocation per frame once `output`
/// has capacity.
public final class FrameDecryptor {
    private let clock: any MonotonicClock
    private var windows: [ReceiveKeyWindow] = []
    private var passthroughUntil: UInt64 = 0

    /// Creates a decryptor with no keys and passthrough disallowed.
    public init(clock: any MonotonicClock) { self.clock = clock }

    /// Switches to `ratchet`; previously installed ratchets remain usable for `expirySeconds`.
    public func transition(to ratchet: SenderKeyRatchet, expirySeconds: Double = 10) {
        let deadline = Nanoseconds.adding(clock.nowNanoseconds(), Nanoseconds.from(seconds: expirySeconds))
        for window in windows { window.limitExpiry(to: deadline) }
        windows.append(ReceiveKeyWindow(clock: clock, ratchet: ratchet))
    }

    /// Lets every installed ratchet lapse after `expirySeconds` (the sender left the group).
    public func retire(expirySeconds: Double = 10) {
        let deadline = Nanoseconds.adding(clock.nowNanoseconds(), Nanoseconds.from(seconds: expirySeconds))
        for window in windows { window.limitExpiry(to: deadline) }
    }

    /// Allows plain frames indefinitely (`true`) or for at most `expirySeconds` more (`false`).
    public func setPassthrough(_ allowed: Bool, expirySeconds: Double = 10) {
        if allowed {
            passthroughUntil = Nanoseconds.never
        } else {
            passthroughUntil = min(
                passthroughUntil,
                Nanoseconds.adding(clock.nowNanoseconds(), Nanoseconds.from(seconds: expirySeconds)))
        }
    }

    /// Whether plain frames are accepted right now.
    public var allowsPassthrough: Bool { passthroughUntil > clock.nowNanoseconds() }

    /// Decrypts `frame` into `output` (cleared first).
    public func decrypt(frame: [UInt8], into output: inout [UInt8]) throws {
        output.removeAll(keepingCapacity: true)
        if DAVEFrameFormat.isOpusSilence(frame) {
            output.append(contentsOf: frame)
            return
        }
        while let first = windows.first, first.isExpired { windows.removeFirst() }
        try frame.withUnsafeBytes { bytes in
            guard let parsed = ParsedDAVEFrame.parse(bytes) else {
                guard allowsPassthrough else { throw DAVEFrameError.unencryptedFrameRejected }
                output.append(contentsOf: bytes)
                return
            }
            guard !parsed.hasUnencryptedRanges else { throw DAVEFrameError.unsupportedUnencryptedRanges }
            guard !windows.isEmpty else { throw DAVEFrameError.missingKey }
            var lastError = DAVEFrameError.authenticationFailed
            for window in windows.reversed() {
                do {
                    try decrypt(parsed, bytes: bytes, window: window, into: &output)
                    return
                } catch let error as DAVEFrameError {
                    lastError = error
                }
            }
            throw lastError
        }
    }

    /// Convenience returning a new array.
    public func decrypt(frame: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = []
        try decrypt(frame: frame, into: &output)
        return output
    }

    private func decrypt(
        _ parsed: ParsedDAVEFrame, bytes: UnsafeRawBufferPointer, window: ReceiveKeyWindow,
        into output: inout [UInt8]
    ) throws {
        let generation = window.unwrapGeneration(UInt64(parsed.truncatedNonce >> 24))
        guard window.canProcess(generation: generation, truncatedNonce: parsed.truncatedNonce) else {
            throw DAVEFrameError.replayedNonce
        }
        guard let cipher = window.cipher(forGeneration: generation) else { throw DAVEFrameError.generationUnavailable }
        let ciphertext = UnsafeRawBufferPointer(rebasing: bytes[0..<parsed.ciphertextLength])
        let tag = UnsafeRawBufferPointer(
            rebasing: bytes[parsed.tagOffset..<(parsed.tagOffset + DAVEFrameFormat.tagLength)])
        output.append(contentsOf: repeatElement(0, count: parsed.ciphertextLength))
        let opened = output.withUnsafeMutableBytes {
            cipher.open(ciphertext: ciphertext, tag: tag, truncatedNonce: parsed.truncatedNonce, into: $0)
        }
        // Unauthenticated bytes never leave: the next window (or the caller) starts from an empty buffer.
        guard opened else {
            output.removeAll(keepingCapacity: true)
            throw DAVEFrameError.authenticationFailed
        }
        window.reportSuccess(generation: generation, truncatedNonce: parsed.truncatedNonce)
    }
}
