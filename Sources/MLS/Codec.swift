/// Errors raised by the MLS module. Every malformed input maps to one of these; nothing traps.
public enum MLSError: Error, Equatable, CustomStringConvertible {
    /// The input ended before `field` could be read.
    case truncated(field: String)
    /// A variable-length integer used a longer form than necessary (RFC 9420 §2.1.2).
    case nonMinimalVarint
    /// A variable-length integer used the reserved `11` prefix.
    case invalidVarint
    /// Bytes were left over after a structure that must consume its whole input.
    case trailingBytes(count: Int)
    /// A field held a value the encoding does not allow (unknown enum value, bad optional flag, ...).
    case invalidValue(String)
    /// A structure decoded but failed a semantic or cryptographic check.
    case validation(String)
    /// A cryptographic primitive failed (bad key, failed decryption, ...).
    case crypto(String)
    /// The input is well-formed but uses a feature this implementation does not support.
    case unsupported(String)
    /// The operation is not allowed in the current group state.
    case state(String)

    /// A human-readable reason.
    public var description: String {
        switch self {
        case .truncated(let field): return "truncated input while reading \(field)"
        case .nonMinimalVarint: return "variable-length integer not minimally encoded"
        case .invalidVarint: return "variable-length integer uses reserved prefix"
        case .trailingBytes(let count): return "\(count) trailing byte(s)"
        case .invalidValue(let reason): return "invalid value: \(reason)"
        case .validation(let reason): return "validation failed: \(reason)"
        case .crypto(let reason): return "crypto failure: \(reason)"
        case .unsupported(let reason): return "unsupported: \(reason)"
        case .state(let reason): return "invalid state: \(reason)"
        }
    }
}

/// Appends TLS presentation-language values (RFC 8446 §3, RFC 9420 §2.1) to a byte buffer.
public struct TLSWriter {
    /// The bytes written so far.
    public private(set) var bytes: [UInt8] = []

    /// An empty writer.
    public init() {}

    /// Big-endian fixed-width integers.
    public mutating func u8(_ value: UInt8) { bytes.append(value) }
    public mutating func u16(_ value: UInt16) {
        bytes.append(UInt8(value >> 8))
        bytes.append(UInt8(value & 0xFF))
    }
    public mutating func u32(_ value: UInt32) {
        for shift in stride(from: 24, through: 0, by: -8) { bytes.append(UInt8((value >> UInt32(shift)) & 0xFF)) }
    }
    public mutating func u64(_ value: UInt64) {
        for shift in stride(from: 56, through: 0, by: -8) { bytes.append(UInt8((value >> UInt64(shift)) & 0xFF)) }
    }
    /// Raw bytes without a length prefix.
    public mutating func raw(_ data: [UInt8]) { bytes.append(contentsOf: data) }

    /// An MLS variable-length integer in its minimal 1-, 2- or 4-byte form. Values ≥ 2^30 have no MLS encoding;
    /// no decoded input can produce one (every parsed vector is shorter), so such a value is a programming error.
    public mutating func varint(_ value: Int) {
        precondition(value >= 0 && value < (1 << 30), "MLS varint out of range")
        if value < 0x40 {
            bytes.append(UInt8(value))
        } else if value < 0x4000 {
            u16(UInt16(value) | 0x4000)
        } else {
            u32(UInt32(value) | 0x8000_0000)
        }
    }

    /// `opaque data<V>`.
    public mutating func opaque(_ data: [UInt8]) {
        varint(data.count)
        bytes.append(contentsOf: data)
    }

    /// A `<V>`-prefixed vector whose body is produced by `body`.
    public mutating func vector(_ body: (inout TLSWriter) -> Void) {
        var inner = TLSWriter()
        body(&inner)
        opaque(inner.bytes)
    }

    /// A `<V>` vector of encodable items.
    public mutating func vector<T: TLSEncodable>(_ items: [T]) {
        vector { w in for item in items { item.encode(to: &w) } }
    }

    /// `optional<T>`: a presence byte, then the value.
    public mutating func optional<T: TLSEncodable>(_ value: T?) {
        if let value {
            u8(1)
            value.encode(to: &self)
        } else {
            u8(0)
        }
    }
}

/// Reads TLS presentation-language values strictly; every failure is an `MLSError`.
public struct TLSReader {
    private let data: [UInt8]
    private var offset: Int
    private let end: Int

    /// A reader over all of `data`.
    public init(_ data: [UInt8]) {
        self.data = data
        self.offset = 0
        self.end = data.count
    }

    private init(data: [UInt8], offset: Int, end: Int) {
        self.data = data
        self.offset = offset
        self.end = end
    }

    /// Bytes not yet consumed.
    public var remaining: Int { end - offset }
    /// True when every byte was consumed.
    public var isAtEnd: Bool { offset == end }

    /// Throws `trailingBytes` unless everything was consumed.
    public func finish() throws {
        if offset != end { throw MLSError.trailingBytes(count: end - offset) }
    }

    /// Exactly `count` raw bytes; `field` names the value in errors.
    public mutating func bytes(_ count: Int, field: String = "bytes") throws -> [UInt8] {
        guard count >= 0, remaining >= count else { throw MLSError.truncated(field: field) }
        let out = Array(data[offset..<(offset + count)])
        offset += count
        return out
    }

    /// Big-endian fixed-width integers; `field` names the value in errors.
    public mutating func u8(_ field: String = "uint8") throws -> UInt8 {
        guard remaining >= 1 else { throw MLSError.truncated(field: field) }
        defer { offset += 1 }
        return data[offset]
    }

    public mutating func u16(_ field: String = "uint16") throws -> UInt16 {
        let b = try bytes(2, field: field)
        return UInt16(b[0]) << 8 | UInt16(b[1])
    }

    public mutating func u32(_ field: String = "uint32") throws -> UInt32 {
        let b = try bytes(4, field: field)
        return b.reduce(0) { $0 << 8 | UInt32($1) }
    }

    public mutating func u64(_ field: String = "uint64") throws -> UInt64 {
        let b = try bytes(8, field: field)
        return b.reduce(0) { $0 << 8 | UInt64($1) }
    }

    /// An MLS variable-length integer; rejects the reserved prefix and non-minimal forms.
    public mutating func varint(_ field: String = "varint") throws -> Int {
        let first = try u8(field)
        switch first >> 6 {
        case 0:
            return Int(first)
        case 1:
            let second = try u8(field)
            let value = Int(first & 0x3F) << 8 | Int(second)
            if value < 0x40 { throw MLSError.nonMinimalVarint }
            return value
        case 2:
            let rest = try bytes(3, field: field)
            let value = rest.reduce(Int(first & 0x3F)) { $0 << 8 | Int($1) }
            if value < 0x4000 { throw MLSError.nonMinimalVarint }
            return value
        default:
            throw MLSError.invalidVarint
        }
    }

    /// `opaque data<V>`.
    public mutating func opaque(_ field: String = "opaque") throws -> [UInt8] {
        let length = try varint(field)
        return try bytes(length, field: field)
    }

    /// Reads a `<V>` vector and hands its body to `body`, which must consume it exactly.
    public mutating func vector<T>(_ field: String = "vector", _ body: (inout TLSReader) throws -> T) throws -> T {
        let length = try varint(field)
        guard remaining >= length else { throw MLSError.truncated(field: field) }
        var inner = TLSReader(data: data, offset: offset, end: offset + length)
        let value = try body(&inner)
        try inner.finish()
        offset += length
        return value
    }

    /// Reads a `<V>` vector of decodable items.
    public mutating func vector<T: TLSDecodable>(of type: T.Type, _ field: String = "vector") throws -> [T] {
        try vector(field) { r in
            var items: [T] = []
            while !r.isAtEnd { items.append(try T(from: &r)) }
            return items
        }
    }

    /// Reads a `<V>` vector of `uint16` values.
    public mutating func u16Vector(_ field: String) throws -> [UInt16] {
        try vector(field) { r in
            var items: [UInt16] = []
            while !r.isAtEnd { items.append(try r.u16(field)) }
            return items
        }
    }

    /// `optional<T>`: presence byte must be 0 or 1.
    public mutating func optional<T>(_ field: String, _ body: (inout TLSReader) throws -> T) throws -> T? {
        switch try u8(field) {
        case 0: return nil
        case 1: return try body(&self)
        case let flag: throw MLSError.invalidValue("\(field): optional presence flag \(flag)")
        }
    }
}

/// A value with a TLS presentation-language encoding.
public protocol TLSEncodable {
    func encode(to writer: inout TLSWriter)
}

/// A value decodable from its TLS presentation-language encoding.
public protocol TLSDecodable {
    init(from reader: inout TLSReader) throws
}

/// Both directions of the TLS presentation encoding.
public typealias TLSCodable = TLSEncodable & TLSDecodable

extension TLSEncodable {
    /// The value's encoding.
    public var tlsEncoded: [UInt8] {
        var writer = TLSWriter()
        encode(to: &writer)
        return writer.bytes
    }
}

extension TLSDecodable {
    /// Decodes a value that must span all of `bytes` (no trailing data).
    public init(tlsEncoded bytes: [UInt8]) throws {
        var reader = TLSReader(bytes)
        try self.init(from: &reader)
        try reader.finish()
    }
}

extension TLSWriter {
    mutating func u16Vector(_ values: [UInt16]) { vector { w in for v in values { w.u16(v) } } }
    mutating func u32Vector(_ values: [UInt32]) { vector { w in for v in values { w.u32(v) } } }
}

extension TLSReader {
    mutating func u32Vector(_ field: String) throws -> [UInt32] {
        try vector(field) { r in
            var items: [UInt32] = []
            while !r.isAtEnd { items.append(try r.u32(field)) }
            return items
        }
    }
}
