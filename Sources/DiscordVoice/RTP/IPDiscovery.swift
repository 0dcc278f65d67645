/// Voice UDP IP discovery (discord.md §4): a 74-byte request carrying our SSRC, answered with the address and port
/// the voice server sees us at, which go into Select Protocol (op 1).
public enum IPDiscovery {
    /// Size of both the request and the response.
    public static let packetLength = 74
    /// The `length` field: bytes after the type and length fields.
    static let bodyLength: UInt16 = 70
    static let requestType: UInt16 = 1
    static let responseType: UInt16 = 2
    static let addressLength = 64

    /// Why a discovery response was refused.
    public enum Failure: Error, Equatable, Sendable {
        /// Not 74 bytes.
        case wrongLength(Int)
        /// The type field was not 2 (response) or the length field not 70.
        case notAResponse(type: UInt16, length: UInt16)
        /// The address is empty, not NUL-terminated within 64 bytes, or not printable ASCII.
        case badAddress
    }

    /// The external address the voice server reported.
    public struct Response: Equatable, Sendable {
        public var ssrc: UInt32
        public var address: String
        public var port: UInt16
    }

    /// The request for `ssrc`: type 1, length 70, the SSRC, then a zeroed address and port.
    public static func request(ssrc: UInt32) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: packetLength)
        bytes[1] = UInt8(requestType)
        bytes[3] = UInt8(bodyLength)
        bytes.withUnsafeMutableBytes { RTPHeader.put(ssrc, $0, 4) }
        return bytes
    }

    /// The response a voice server sends (used by the simulator and tests).
    public static func response(ssrc: UInt32, address: String, port: UInt16) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: packetLength)
        bytes[1] = UInt8(responseType)
        bytes[3] = UInt8(bodyLength)
        bytes.withUnsafeMutableBytes { RTPHeader.put(ssrc, $0, 4) }
        for (i, c) in address.utf8.prefix(addressLength - 1).enumerated() { bytes[8 + i] = c }
        bytes[72] = UInt8(truncatingIfNeeded: port >> 8)
        bytes[73] = UInt8(truncatingIfNeeded: port)
        return bytes
    }

    /// Parses a response; the address is the ASCII text up to the first NUL.
    public static func parse(response bytes: UnsafeRawBufferPointer) throws(Failure) -> Response {
        guard bytes.count == packetLength else { throw .wrongLength(bytes.count) }
        let type = UInt16(bytes[0]) << 8 | UInt16(bytes[1])
        let length = UInt16(bytes[2]) << 8 | UInt16(bytes[3])
        guard type == responseType, length == bodyLength else { throw .notAResponse(type: type, length: length) }
        let field = bytes[8..<(8 + addressLength)]
        guard let end = field.firstIndex(of: 0), end > 8 else { throw .badAddress }
        let text = field[8..<end]
        guard text.allSatisfy({ $0 > 0x20 && $0 < 0x7F }) else { throw .badAddress }
        let port = UInt16(bytes[72]) << 8 | UInt16(bytes[73])
        return Response(ssrc: RTPHeader.u32(bytes, 4), address: String(decoding: text, as: UTF8.self), port: port)
    }

    /// Parses a response held in an array.
    public static func parse(response bytes: [UInt8]) throws(Failure) -> Response {
        let result: Result<Response, Failure> = bytes.withUnsafeBytes { raw in
            Result { () throws(Failure) -> Response in try parse(response: raw) }
        }
        return try result.get()
    }
}
