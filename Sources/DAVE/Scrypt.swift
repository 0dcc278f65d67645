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
        for i in 0..<n {
            table.withUnsafeMutableBufferPointer { t in
                x.withUnsafeBufferPointer { src in
                    for k in 0..<words { t[i * words + k] = src[k] }
                }
            }
            blockMix(&x, scratch: &scratch, r: r)
        }
        for _ in 0..<n {
            let j = Int(x[(2 * r - 1) * 16] & UInt32(n - 1))
            table.withUnsafeBufferPointer { t in
                for k in 0..<words { x[k] ^= t[j * words + k] }
            }
            blockMix(&x, scratch: &scratch, r: r)
        }
    }

    private static func blockMix(_ b: inout [UInt32], scratch y: inout [UInt32], r: Int) {
        var x = [UInt32](repeating: 0, count: 16)
        for k in 0..<16 { x[k] = b[(2 * r - 1) * 16 + k] }
        for i in 0..<(2 * r) {
            for k in 0..<16 { x[k] ^= b[i * 16 + k] }
            salsa20_8(&x)
            let destination = (i % 2 == 0 ? i / 2 : r + i / 2) * 16
            for k in 0..<16 { y[destination + k] = x[k] }
        }
        swap(&b, &y)
    }

    private static func salsa20_8(_ b: inout [UInt32]) {
        var x = b
        @inline(__always) func rotl(_ v: UInt32, _ c: UInt32) -> UInt32 { (v << c) | (v >> (32 - c)) }
        for _ in 0..<4 {
            x[4] ^= rotl(x[0] &+ x[12], 7); x[8] ^= rotl(x[4] &+ x[0], 9)
            x[12] ^= rotl(x[8] &+ x[4], 13); x[0] ^= rotl(x[12] &+ x[8], 18)
            x[9] ^= rotl(x[5] &+ x[1], 7); x[13] ^= rotl(x[9] &+ x[5], 9)
            x[1] ^= rotl(x[13] &+ x[9], 13); x[5] ^= rotl(x[1] &+ x[13], 18)
            x[14] ^= rotl(x[10] &+ x[6], 7); x[2] ^= rotl(x[14] &+ x[10], 9)
            x[6] ^= rotl(x[2] &+ x[14], 13); x[10] ^= rotl(x[6] &+ x[2], 18)
            x[3] ^= rotl(x[15] &+ x[11], 7); x[7] ^= rotl(x[3] &+ x[15], 9)
            x[11] ^= rotl(x[7] &+ x[3], 13); x[15] ^= rotl(x[11] &+ x[7], 18)
            x[1] ^= rotl(x[0] &+ x[3], 7); x[2] ^= rotl(x[1] &+ x[0], 9)
            x[3] ^= rotl(x[2] &+ x[1], 13); x[0] ^= rotl(x[3] &+ x[2], 18)
            x[6] ^= rotl(x[5] &+ x[4], 7); x[7] ^= rotl(x[6] &+ x[5], 9)
            x[4] ^= rotl(x[7] &+ x[6], 13); x[5] ^= rotl(x[4] &+ x[7], 18)
            x[11] ^= rotl(x[10] &+ x[9], 7); x[8] ^= rotl(x[11] &+ x[10], 9)
            x[9] ^= rotl(x[8] &+ x[11], 13); x[10] ^= rotl(x[9] &+ x[8], 18)
            x[12] ^= rotl(x[15] &+ x[14], 7); x[13] ^= rotl(x[12] &+ x[15], 9)
            x[14] ^= rotl(x[13] &+ x[12], 13); x[15] ^= rotl(x[14] &+ x[13], 18)
        }
        for k in 0..<16 { b[k] = b[k] &+ x[k] }
    }
}
