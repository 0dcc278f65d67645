import Crypto

/// scrypt (RFC 7914) with PBKDF2-HMAC-SHA256, used for DAVE pairwise verification fingerprints.
enum Scrypt {
    /// Why scrypt parameters were refused.
    enum ParameterError: Error { case invalid }

    /// Derives `length` bytes; `costLog2` is log2(N).
    static func derive(password: [UInt8], salt: [UInt8], costLog2: Int, blockSize r: Int, parallelism p: Int,
                       length: Int) throws -> [UInt8] {
        guard costLog2 > 0, costLog2 < 24, r > 0, p > 0, r * p < 1 << 20, length > 0 else {
            throw ParameterError.invalid
        }
        let n = 1 << costLog2
        let blockBytes = 128 * r
        var b = pbkdf2SHA256(password: password, salt: salt, length: p * blockBytes)
        var words = [UInt32](repeating: 0, count: 32 * r)
        var table = [UInt32](repeating: 0, count: 32 * r * n)
        var scratch = [UInt32](repeating: 0, count: 32 * r)
        for lane in 0..<p {
            let base = lane * blockBytes
            for i in 0..<(32 * r) {
                let o = base + 4 * i
                words[i] = UInt32(b[o]) | UInt32(b[o + 1]) << 8 | UInt32(b[o + 2]) << 16 | UInt32(b[o + 3]) << 24
            }
            roMix(&words, table: &table, scratch: &scratch, n: n, r: r)
            for i in 0..<(32 * r) {
                let o = base + 4 * i
                let w = words[i]
                b[o] = UInt8(w & 0xFF); b[o + 1] = UInt8((w >> 8) & 0xFF)
                b[o + 2] = UInt8((w >> 16) & 0xFF); b[o + 3] = UInt8(w >> 24)
            }
        }
        return pbkdf2SHA256(password: password, salt: b, length: length)
    }

    /// PBKDF2-HMAC-SHA256 with one iteration (all scrypt needs).
    static func pbkdf2SHA256(password: [UInt8], salt: [UInt8], length: Int) -> [UInt8] {
        let key = SymmetricKey(data: password)
        var output: [UInt8] = []
        output.reserveCapacity(length)
        var blockIndex: UInt32 = 1
        while output.count < length {
            var hmac = HMAC<SHA256>(key: key)
            hmac.update(data: salt)
            hmac.update(data: [UInt8(blockIndex >> 24), UInt8((blockIndex >> 16) & 0xFF),
                               UInt8((blockIndex >> 8) & 0xFF), UInt8(blockIndex & 0xFF)])
            output += Array(hmac.finalize())
            blockIndex += 1
        }
        return Array(output.prefix(length))
    }

    private static func roMix(_ x: inout [UInt32], table: inout [UInt32], scratch: inout [UInt32], n: Int, r: Int) {
        let words = 32 * r
        x.withUnsafeMutableBufferPointer { xb in
            scratch.withUnsafeMutableBufferPointer { yb in
                table.withUnsafeMutableBufferPointer { tb in
                    guard let xp = xb.baseAddress, let yp = yb.baseAddress, let tp = tb.baseAddress else { return }
                    for i in 0..<n {
                        (tp + i * words).update(from: xp, count: words)
                        blockMix(xp, scratch: yp, r: r)
                    }
                    for _ in 0..<n {
                        let j = Int(xp[(2 * r - 1) * 16] & UInt32(n - 1))
                        let row = tp + j * words
                        for k in 0..<words { xp[k] ^= row[k] }
                        blockMix(xp, scratch: yp, r: r)
                    }
                }
            }
        }
    }

    /// BlockMix_salsa20/8 in place on `b` (32·r words), using `y` as scratch.
    private static func blockMix(_ b: UnsafeMutablePointer<UInt32>, scratch y: UnsafeMutablePointer<UInt32>, r: Int) {
        var x = SalsaState(b + (2 * r - 1) * 16)
        for i in 0..<(2 * r) {
            x.xorAndMix(b + i * 16)
            x.store(y + (i % 2 == 0 ? i / 2 : r + i / 2) * 16)
        }
        b.update(from: y, count: 32 * r)
    }
}

/// Salsa20/8 core state held in registers.
private struct SalsaState {
    var s0, s1, s2, s3, s4, s5, s6, s7, s8, s9, s10, s11, s12, s13, s14, s15: UInt32

    init(_ p: UnsafeMutablePointer<UInt32>) {
        (s0, s1, s2, s3, s4, s5, s6, s7) = (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7])
        (s8, s9, s10, s11, s12, s13, s14, s15) = (p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15])
    }

    func store(_ p: UnsafeMutablePointer<UInt32>) {
        (p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]) = (s0, s1, s2, s3, s4, s5, s6, s7)
        (p[8], p[9], p[10], p[11], p[12], p[13], p[14], p[15]) = (s8, s9, s10, s11, s12, s13, s14, s15)
    }

    @inline(__always) private static func rotl(_ v: UInt32, _ c: UInt32) -> UInt32 { (v << c) | (v >> (32 - c)) }

    /// `self = Salsa20/8(self ^ block)`.
    mutating func xorAndMix(_ p: UnsafeMutablePointer<UInt32>) {
        s0 ^= p[0]; s1 ^= p[1]; s2 ^= p[2]; s3 ^= p[3]; s4 ^= p[4]; s5 ^= p[5]; s6 ^= p[6]; s7 ^= p[7]
        s8 ^= p[8]; s9 ^= p[9]; s10 ^= p[10]; s11 ^= p[11]; s12 ^= p[12]; s13 ^= p[13]; s14 ^= p[14]; s15 ^= p[15]
        var (x0, x1, x2, x3, x4, x5, x6, x7) = (s0, s1, s2, s3, s4, s5, s6, s7)
        var (x8, x9, x10, x11, x12, x13, x14, x15) = (s8, s9, s10, s11, s12, s13, s14, s15)
        for _ in 0..<4 {
            x4 ^= Self.rotl(x0 &+ x12, 7); x8 ^= Self.rotl(x4 &+ x0, 9)
            x12 ^= Self.rotl(x8 &+ x4, 13); x0 ^= Self.rotl(x12 &+ x8, 18)
            x9 ^= Self.rotl(x5 &+ x1, 7); x13 ^= Self.rotl(x9 &+ x5, 9)
            x1 ^= Self.rotl(x13 &+ x9, 13); x5 ^= Self.rotl(x1 &+ x13, 18)
            x14 ^= Self.rotl(x10 &+ x6, 7); x2 ^= Self.rotl(x14 &+ x10, 9)
            x6 ^= Self.rotl(x2 &+ x14, 13); x10 ^= Self.rotl(x6 &+ x2, 18)
            x3 ^= Self.rotl(x15 &+ x11, 7); x7 ^= Self.rotl(x3 &+ x15, 9)
            x11 ^= Self.rotl(x7 &+ x3, 13); x15 ^= Self.rotl(x11 &+ x7, 18)
            x1 ^= Self.rotl(x0 &+ x3, 7); x2 ^= Self.rotl(x1 &+ x0, 9)
            x3 ^= Self.rotl(x2 &+ x1, 13); x0 ^= Self.rotl(x3 &+ x2, 18)
            x6 ^= Self.rotl(x5 &+ x4, 7); x7 ^= Self.rotl(x6 &+ x5, 9)
            x4 ^= Self.rotl(x7 &+ x6, 13); x5 ^= Self.rotl(x4 &+ x7, 18)
            x11 ^= Self.rotl(x10 &+ x9, 7); x8 ^= Self.rotl(x11 &+ x10, 9)
            x9 ^= Self.rotl(x8 &+ x11, 13); x10 ^= Self.rotl(x9 &+ x8, 18)
            x12 ^= Self.rotl(x15 &+ x14, 7); x13 ^= Self.rotl(x12 &+ x15, 9)
            x14 ^= Self.rotl(x13 &+ x12, 13); x15 ^= Self.rotl(x14 &+ x13, 18)
        }
        s0 = s0 &+ x0; s1 = s1 &+ x1; s2 = s2 &+ x2; s3 = s3 &+ x3; s4 = s4 &+ x4; s5 = s5 &+ x5
        s6 = s6 &+ x6; s7 = s7 &+ x7; s8 = s8 &+ x8; s9 = s9 &+ x9; s10 = s10 &+ x10; s11 = s11 &+ x11
        s12 = s12 &+ x12; s13 = s13 &+ x13; s14 = s14 &+ x14; s15 = s15 &+ x15
    }
}
