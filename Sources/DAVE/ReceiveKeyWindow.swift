import Realtime

/// Receive-side key state for one sender ratchet (libdave `CryptorManager`): per-generation cipher cache,
/// generation unwrapping, replay window and expiry of superseded generations.
final class ReceiveKeyWindow {
    static let maxGenerationGap: UInt64 = 250
    static let maxRecordedGaps: UInt64 = 1000
    static let generationWrap: UInt64 = 256
    static let maxFramesPerSecond: UInt64 = 50 + 2 * 60
    static let generationShift: UInt64 = 24
    /// How long superseded keys stay usable after a transition (dave.md §4, §5).
    static let transitionExpiry: UInt64 = 10 * Nanoseconds.perSecond

    private struct CachedCipher {
        let cipher: TruncatedAESGCM
        var expiry: UInt64
    }

    private let clock: any MonotonicClock
    private let ratchet: SenderKeyRatchet
    private let createdAt: UInt64
    /// When this whole ratchet stops being tried (set when a newer ratchet arrives).
    private(set) var expiry: UInt64 = Nanoseconds.never
    private var ciphers: [UInt64: CachedCipher] = [:]
    private var oldestGeneration: UInt64 = 0
    private var newestGeneration: UInt64 = 0
    private var newestNonce: UInt64?
    /// Ascending wrapped nonces skipped so far (at most `maxRecordedGaps` behind the newest).
    private var gaps: [UInt64] = []

    init(clock: any MonotonicClock, ratchet: SenderKeyRatchet) {
        self.clock = clock
        self.ratchet = ratchet
        self.createdAt = clock.nowNanoseconds()
    }

    /// Whether the ratchet's transition window has ended.
    var isExpired: Bool { clock.nowNanoseconds() > expiry }

    /// Shortens the ratchet's lifetime to at most `deadline`.
    func limitExpiry(to deadline: UInt64) { expiry = min(expiry, deadline) }

    /// Full generation for the 8-bit generation carried in a nonce, relative to the oldest live generation.
    func unwrapGeneration(_ shortGeneration: UInt64) -> UInt64 {
        let remainder = oldestGeneration % Self.generationWrap
        let factor = oldestGeneration / Self.generationWrap + (shortGeneration < remainder ? 1 : 0)
        return factor * Self.generationWrap + shortGeneration
    }

    static func wrappedNonce(generation: UInt64, truncatedNonce: UInt32) -> UInt64 {
        generation << generationShift | UInt64(truncatedNonce & 0x00FF_FFFF)
    }

    /// Replay check: the nonce must be newer than every accepted one, or one of the recorded gaps.
    func canProcess(generation: UInt64, truncatedNonce: UInt32) -> Bool {
        guard let newest = newestNonce else { return true }
        let nonce = Self.wrappedNonce(generation: generation, truncatedNonce: truncatedNonce)
        return nonce > newest || gaps.contains(nonce)
    }

    /// The cipher of `generation`, deriving and caching it; `nil` if the generation is out of bounds or erased.
    func cipher(forGeneration generation: UInt64) -> TruncatedAESGCM? {
        removeExpiredCiphers()
        guard generation >= oldestGeneration, generation <= newestGeneration + Self.maxGenerationGap else { return nil }
        let ageSeconds = Nanoseconds.elapsed(from: createdAt, to: clock.nowNanoseconds()) / Nanoseconds.perSecond
        guard generation <= (Self.maxFramesPerSecond * ageSeconds) >> Self.generationShift else { return nil }
        if let cached = ciphers[generation] { return cached.cipher }
        guard generation <= UInt64(UInt32.max),
            let key = ratchet.key(forGeneration: UInt32(generation))
        else { return nil }
        ratchet.eraseKey(forGeneration: UInt32(generation))
        let cipherExpiry =
            generation < newestGeneration
            ? Nanoseconds.adding(clock.nowNanoseconds(), Self.transitionExpiry) : Nanoseconds.never
        guard let cipher = TruncatedAESGCM(key: key) else { return nil }
        ciphers[generation] = CachedCipher(cipher: cipher, expiry: cipherExpiry)
        return cipher
    }

    /// Records a successful decryption: advances the replay window and expires older generations in 10 s.
    func reportSuccess(generation: UInt64, truncatedNonce: UInt32) {
        let nonce = Self.wrappedNonce(generation: generation, truncatedNonce: truncatedNonce)
        if let newest = newestNonce {
            if nonce > newest {
                let oldestKept = nonce > Self.maxRecordedGaps ? nonce - Self.maxRecordedGaps : 0
                if let firstKept = gaps.firstIndex(where: { $0 >= oldestKept }) {
                    gaps.removeFirst(firstKept)
                } else if !gaps.isEmpty {
                    // Guarded: clearing an empty array "keeping capacity" still allocates a buffer every time.
                    gaps.removeAll(keepingCapacity: true)
                }
                var missing = max(oldestKept, newest + 1)
                while missing < nonce {
                    gaps.append(missing)
                    missing += 1
                }
                newestNonce = nonce
            } else if let index = gaps.firstIndex(of: nonce) {
                gaps.remove(at: index)
            }
        } else {
            newestNonce = nonce
        }
        guard generation > newestGeneration, ciphers[generation] != nil else { return }
        newestGeneration = generation
        let deadline = Nanoseconds.adding(clock.nowNanoseconds(), Self.transitionExpiry)
        for (cachedGeneration, cached) in ciphers where cachedGeneration < generation {
            ciphers[cachedGeneration]?.expiry = min(cached.expiry, deadline)
        }
    }

    private func removeExpiredCiphers() {
        let now = clock.nowNanoseconds()
        for (generation, cached) in ciphers where cached.expiry < now { ciphers[generation] = nil }
        while oldestGeneration < newestGeneration, ciphers[oldestGeneration] == nil { oldestGeneration += 1 }
    }
}
