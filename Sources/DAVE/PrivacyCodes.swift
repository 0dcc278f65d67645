/// Why a displayable code or fingerprint could not be produced.
public enum PrivacyCodeError: Error, Equatable {
    /// Fewer input bytes than digits requested.
    case dataShorterThanCode
    /// The code length must be a multiple of the group size, and groups at most 8 digits.
    case invalidGrouping
    /// Only fingerprint format version 0 exists.
    case unsupportedFingerprintVersion
    /// A fingerprint needs a non-empty public key.
    case emptyKey
}

/// The numeric codes Discord clients show for DAVE calls (daveprotocol.com "Displayable codes",
/// "Verification fingerprint"; same algorithm as libdave JS and davey).
public enum PrivacyCodes {
    /// Digits of the call-wide voice privacy code.
    public static let voicePrivacyCodeLength = 30
    /// Digits of a per-user verification code.
    public static let verificationCodeLength = 45
    /// Digits per displayed group.
    public static let groupSize = 5
    private static let fingerprintSalt: [UInt8] = [
        0x24, 0xCA, 0xB1, 0x7A, 0x7A, 0xF8, 0xEC, 0x2B, 0x82, 0xB4, 0x12, 0xB9, 0x2D, 0xAB, 0x19, 0x2E,
    ]

    /// Splits `data` into `groupSize`-byte big-endian groups, each reduced mod 10^groupSize and zero padded,
    /// until `length` digits are produced.
    public static func displayableCode(_ data: [UInt8], length: Int, groupSize: Int) throws -> String {
        guard groupSize > 0, groupSize <= 8, length % groupSize == 0 else { throw PrivacyCodeError.invalidGrouping }
        guard data.count >= length else { throw PrivacyCodeError.dataShorterThanCode }
        var modulus: UInt64 = 1
        for _ in 0..<groupSize { modulus *= 10 }
        var code = ""
        code.reserveCapacity(length)
        for start in stride(from: 0, to: length, by: groupSize) {
            var value: UInt64 = 0
            for byte in data[start..<(start + groupSize)] { value = value << 8 | UInt64(byte) }
            let digits = String(value % modulus)
            code += String(repeating: "0", count: groupSize - digits.count) + digits
        }
        return code
    }

    /// The voice privacy code: 30 digits from the MLS epoch authenticator.
    public static func voicePrivacyCode(epochAuthenticator: [UInt8]) throws -> String {
        try displayableCode(epochAuthenticator, length: voicePrivacyCodeLength, groupSize: groupSize)
    }

    /// `u16 BE version ‖ public key ‖ u64 BE user id` (format version 0).
    public static func keyFingerprint(version: UInt16 = 0, publicKey: [UInt8], userID: UInt64) throws -> [UInt8] {
        guard version == 0 else { throw PrivacyCodeError.unsupportedFingerprintVersion }
        guard !publicKey.isEmpty else { throw PrivacyCodeError.emptyKey }
        var result: [UInt8] = [UInt8(version >> 8), UInt8(version & 0xFF)]
        result += publicKey
        for shift in stride(from: 56, through: 0, by: -8) { result.append(UInt8((userID >> UInt64(shift)) & 0xFF)) }
        return result
    }

    /// scrypt(N=2^14, r=8, p=2, 64 bytes) over the two key fingerprints sorted bytewise, salted with DAVE's salt.
    /// Symmetric: both users compute the same value. Costs ~16 MiB and tens of milliseconds.
    public static func pairwiseFingerprint(
        version: UInt16 = 0, localKey: [UInt8], localUserID: UInt64,
        remoteKey: [UInt8], remoteUserID: UInt64
    ) throws -> [UInt8] {
        let local = try keyFingerprint(version: version, publicKey: localKey, userID: localUserID)
        let remote = try keyFingerprint(version: version, publicKey: remoteKey, userID: remoteUserID)
        let ordered = local.lexicographicallyPrecedes(remote) ? local + remote : remote + local
        return try Scrypt.derive(
            password: ordered, salt: fingerprintSalt, costLog2: 14, blockSize: 8,
            parallelism: 2, length: 64)
    }

    /// The 45-digit verification code two users compare for each other (from the pairwise fingerprint).
    public static func verificationCode(
        localKey: [UInt8], localUserID: UInt64, remoteKey: [UInt8],
        remoteUserID: UInt64
    ) throws -> String {
        let fingerprint = try pairwiseFingerprint(
            localKey: localKey, localUserID: localUserID,
            remoteKey: remoteKey, remoteUserID: remoteUserID)
        return try displayableCode(fingerprint, length: verificationCodeLength, groupSize: groupSize)
    }
}
