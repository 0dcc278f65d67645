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
    /// The output buffer is smaller than the frame (plus `DAVEFrameFormat.maximumOverhead` when encrypting).
    case frameTooLarge
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

    /// Encrypts `opus` into `output` (at least `opus.count + DAVEFrameFormat.maximumOverhead` bytes) and returns
    /// the frame's length. Silence and passthrough frames are copied unchanged. Allocates nothing.
    public func encrypt(opus: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        if passthrough || DAVEFrameFormat.isOpusSilence(opus) {
            guard output.count >= opus.count else { throw DAVEFrameError.frameTooLarge }
            output.copyMemory(from: opus)
            return opus.count
        }
        guard output.count >= opus.count + DAVEFrameFormat.maximumOverhead else {
            throw DAVEFrameError.frameTooLarge
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
        let sealedLength = opus.count + DAVEFrameFormat.tagLength
        guard cipher.seal(opus, truncatedNonce: truncatedNonce, into: .init(rebasing: output[0..<sealedLength])) else {
            throw DAVEFrameError.cipherFailure
        }
        var cursor = sealedLength
        var nonce = truncatedNonce
        repeat {
            let low = UInt8(nonce & 0x7F)
            nonce >>= 7
            output[cursor] = nonce == 0 ? low : low | 0x80
            cursor += 1
        } while nonce != 0
        output[cursor] = UInt8(cursor - opus.count + 3)
        output[cursor + 1] = 0xFA
        output[cursor + 2] = 0xFA
        return cursor + 3
    }

    /// Encrypts `opus` into `output` (cleared first; capacity kept).
    public func encrypt(opus: [UInt8], into output: inout [UInt8]) throws {
        output.removeAll(keepingCapacity: true)
        output.append(contentsOf: repeatElement(0, count: opus.count + DAVEFrameFormat.maximumOverhead))
        do {
            let length = try output.withUnsafeMutableBytes { out in
                try opus.withUnsafeBytes { try encrypt(opus: $0, into: out) }
            }
            output.removeLast(output.count - length)
        } catch {
            output.removeAll(keepingCapacity: true)
            throw error
        }
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

    /// Decrypts `frame` into `output` (at least `frame.count` bytes) and returns the Opus frame's length. Allocates
    /// nothing. On failure `output` may hold unauthenticated bytes, which the caller must not use.
    public func decrypt(frame: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer) throws -> Int {
        guard output.count >= frame.count else { throw DAVEFrameError.frameTooLarge }
        if DAVEFrameFormat.isOpusSilence(frame) {
            output.copyMemory(from: frame)
            return frame.count
        }
        while !windows.isEmpty, windows[0].isExpired { windows.removeFirst() }
        guard let parsed = ParsedDAVEFrame.parse(frame) else {
            guard allowsPassthrough else { throw DAVEFrameError.unencryptedFrameRejected }
            output.copyMemory(from: frame)
            return frame.count
        }
        guard !parsed.hasUnencryptedRanges else { throw DAVEFrameError.unsupportedUnencryptedRanges }
        guard !windows.isEmpty else { throw DAVEFrameError.missingKey }
        // Newest ratchet first. An index loop and a returned error: unoptimised builds allocate for the generic
        // `reversed()` iteration and the throw/catch per frame.
        var lastError = DAVEFrameError.authenticationFailed
        var index = windows.count
        while index > 0 {
            index -= 1
            guard let error = attempt(parsed, bytes: frame, window: windows[index], into: output) else {
                return parsed.ciphertextLength
            }
            lastError = error
        }
        throw lastError
    }

    /// Decrypts `frame` into `output` (cleared first; capacity kept).
    public func decrypt(frame: [UInt8], into output: inout [UInt8]) throws {
        output.removeAll(keepingCapacity: true)
        output.append(contentsOf: repeatElement(0, count: frame.count))
        do {
            let length = try output.withUnsafeMutableBytes { out in
                try frame.withUnsafeBytes { try decrypt(frame: $0, into: out) }
            }
            output.removeLast(output.count - length)
        } catch {
            output.removeAll(keepingCapacity: true)
            throw error
        }
    }

    /// Convenience returning a new array.
    public func decrypt(frame: [UInt8]) throws -> [UInt8] {
        var output: [UInt8] = []
        try decrypt(frame: frame, into: &output)
        return output
    }

    /// Decrypts with one window's ratchet; `nil` on success, else why it failed.
    private func attempt(
        _ parsed: ParsedDAVEFrame, bytes: UnsafeRawBufferPointer, window: ReceiveKeyWindow,
        into output: UnsafeMutableRawBufferPointer
    ) -> DAVEFrameError? {
        let generation = window.unwrapGeneration(UInt64(parsed.truncatedNonce >> 24))
        guard window.canProcess(generation: generation, truncatedNonce: parsed.truncatedNonce) else {
            return .replayedNonce
        }
        guard let cipher = window.cipher(forGeneration: generation) else { return .generationUnavailable }
        let ciphertext = UnsafeRawBufferPointer(rebasing: bytes[0..<parsed.ciphertextLength])
        let tag = UnsafeRawBufferPointer(
            rebasing: bytes[parsed.tagOffset..<(parsed.tagOffset + DAVEFrameFormat.tagLength)])
        let opened = cipher.open(
            ciphertext: ciphertext, tag: tag, truncatedNonce: parsed.truncatedNonce,
            into: .init(rebasing: output[0..<parsed.ciphertextLength]))
        guard opened else { return .authenticationFailed }
        window.reportSuccess(generation: generation, truncatedNonce: parsed.truncatedNonce)
        return nil
    }
}
