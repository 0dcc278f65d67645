/// The rtpsize AEAD transport encryption modes Discord still accepts (discord.md §4).
public enum TransportMode: String, Sendable, CaseIterable {
    /// AES-256-GCM, 12-byte nonce: preferred when the voice server offers it.
    case aes256GCM = "aead_aes256_gcm_rtpsize"
    /// XChaCha20-Poly1305 (IETF), 24-byte nonce: always offered.
    case xchacha20Poly1305 = "aead_xchacha20_poly1305_rtpsize"

    /// Authentication tag length (both modes).
    public static let tagLength = 16
    /// The appended nonce counter length (both modes).
    public static let nonceSuffixLength = 4
    /// Bytes an rtpsize packet adds after the payload: tag and nonce.
    public static let trailerLength = tagLength + nonceSuffixLength

    /// Picks the mode for Select Protocol from Ready's `modes`: AES-GCM when offered, else XChaCha;
    /// `nil` when neither is offered (the voice server has nothing we support).
    public static func choose(offered: [String]) -> TransportMode? {
        if offered.contains(aes256GCM.rawValue), TransportCipher.aesGCMAvailable { return .aes256GCM }
        if offered.contains(xchacha20Poly1305.rawValue) { return .xchacha20Poly1305 }
        return nil
    }

    /// Modes we can use, in preference order (what the simulator offers by default).
    public static var supported: [TransportMode] {
        TransportCipher.aesGCMAvailable ? [.aes256GCM, .xchacha20Poly1305] : [.xchacha20Poly1305]
    }
}
