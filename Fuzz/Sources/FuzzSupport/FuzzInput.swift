/// A cursor over one fuzz input: targets draw their choices (chunk sizes, operations, configuration) from it, so
/// libFuzzer's mutations steer them. Reading past the end yields zeros and empty slices, never a trap.
public struct FuzzInput {
    public let bytes: UnsafeRawBufferPointer
    public private(set) var offset = 0

    public init(_ bytes: UnsafeRawBufferPointer) { self.bytes = bytes }

    /// Bytes not yet taken.
    public var remaining: Int { bytes.count - offset }
    public var isAtEnd: Bool { offset >= bytes.count }

    /// The next byte, or 0 at the end.
    public mutating func byte() -> UInt8 {
        guard offset < bytes.count else { return 0 }
        defer { offset += 1 }
        return bytes[offset]
    }

    /// A big-endian 16-bit value from the next two bytes.
    public mutating func u16() -> UInt16 { UInt16(byte()) << 8 | UInt16(byte()) }

    /// A value in `range`, from one or two bytes.
    public mutating func int(in range: ClosedRange<Int>) -> Int {
        let span = range.upperBound - range.lowerBound + 1
        let raw = span <= 256 ? Int(byte()) : Int(u16())
        return range.lowerBound + raw % span
    }

    /// The next `count` bytes (fewer at the end).
    public mutating func take(_ count: Int) -> UnsafeRawBufferPointer {
        let n = max(0, min(count, remaining))
        defer { offset += n }
        return UnsafeRawBufferPointer(rebasing: bytes[offset..<(offset + n)])
    }

    /// Everything not yet taken.
    public mutating func rest() -> UnsafeRawBufferPointer { take(remaining) }

    /// A length-prefixed record (u16 big-endian length, then that many bytes): how the scripted targets split an
    /// input into messages.
    public mutating func record() -> [UInt8] { Array(take(Int(u16()))) }
}
