import Codecs
import Foundation
import Nodes
import RouterCore
import XCTest

// MARK: - Ogg, parsed independently of libogg

struct OggPage {
    var headerType: UInt8
    var granule: Int64
    var serial: UInt32
    var sequence: UInt32
    var storedCRC: UInt32
    var computedCRC: UInt32
    var lacing: [UInt8]
    var body: [UInt8]
    var isBOS: Bool { headerType & 2 != 0 }
    var isEOS: Bool { headerType & 4 != 0 }
    var isContinued: Bool { headerType & 1 != 0 }
    /// Packets that end on this page (lacing value < 255).
    var completedPackets: Int { lacing.filter { $0 < 255 }.count }
}

enum Ogg {
    static let crcTable: [UInt32] = (0..<256).map { i -> UInt32 in
        var r = UInt32(i) << 24
        for _ in 0..<8 { r = r & 0x8000_0000 != 0 ? (r << 1) ^ 0x04C1_1DB7 : r << 1 }
        return r
    }

    /// The Ogg CRC-32 (polynomial 0x04c11db7, no reflection, initial 0) of a page whose CRC field is zero.
    static func crc(_ bytes: ArraySlice<UInt8>) -> UInt32 {
        var crc: UInt32 = 0
        for b in bytes { crc = (crc << 8) ^ crcTable[Int(((crc >> 24) & 0xff) ^ UInt32(b))] }
        return crc
    }

    /// Splits a physical stream into pages; the stream must consist of whole pages and nothing else.
    static func pages(_ bytes: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> [OggPage] {
        var pages: [OggPage] = []
        var o = 0
        while o < bytes.count {
            guard o + 27 <= bytes.count, bytes[o..<(o + 4)].elementsEqual("OggS".utf8), bytes[o + 4] == 0 else {
                XCTFail("no Ogg page at offset \(o) of \(bytes.count)", file: file, line: line)
                return pages
            }
            let segments = Int(bytes[o + 26])
            let lacing = Array(bytes[(o + 27)..<(o + 27 + segments)])
            let bodyLength = lacing.reduce(0) { $0 + Int($1) }
            let end = o + 27 + segments + bodyLength
            guard end <= bytes.count else {
                XCTFail("truncated Ogg page at offset \(o)", file: file, line: line)
                return pages
            }
            func u32(_ p: Int) -> UInt32 {
                UInt32(bytes[p]) | UInt32(bytes[p + 1]) << 8 | UInt32(bytes[p + 2]) << 16 | UInt32(bytes[p + 3]) << 24
            }
            var granule: UInt64 = 0
            for i in 0..<8 { granule |= UInt64(bytes[o + 6 + i]) << (8 * UInt64(i)) }
            var zeroed = Array(bytes[o..<end])
            for i in 22..<26 { zeroed[i] = 0 }
            pages.append(
                OggPage(
                    headerType: bytes[o + 5], granule: Int64(bitPattern: granule), serial: u32(o + 14),
                    sequence: u32(o + 18), storedCRC: u32(o + 22), computedCRC: crc(zeroed[...]),
                    lacing: lacing, body: Array(bytes[(o + 27 + segments)..<end])))
            o = end
        }
        return pages
    }

    /// Reassembles packets: (serial, bytes, page index where the packet ends, granule of that page if it is the last
    /// packet ending there, else -1).
    static func packets(_ pages: [OggPage]) -> [(serial: UInt32, data: [UInt8], page: Int, granule: Int64)] {
        var out: [(UInt32, [UInt8], Int, Int64)] = []
        var partial: [UInt8] = []
        for (index, page) in pages.enumerated() {
            if !page.isContinued { partial = [] }
            var offset = 0
            let ends = page.lacing.enumerated().filter { $0.element < 255 }.map(\.offset)
            for (i, l) in page.lacing.enumerated() {
                partial += page.body[offset..<(offset + Int(l))]
                offset += Int(l)
                if l < 255 {
                    out.append((page.serial, partial, index, i == ends.last ? page.granule : -1))
                    partial = []
                }
            }
        }
        return out
    }

    /// Builds one page holding whole packets (each < 64 kB, at most 255 segments in total).
    static func page(
        serial: UInt32, sequence: UInt32, granule: Int64, bos: Bool = false, eos: Bool = false,
        packets: [[UInt8]]
    ) -> [UInt8] {
        var lacing: [UInt8] = []
        for p in packets {
            var n = p.count
            while n >= 255 {
                lacing.append(255)
                n -= 255
            }
            lacing.append(UInt8(n))
        }
        precondition(lacing.count <= 255)
        var b: [UInt8] = Array("OggS".utf8) + [0, (bos ? 2 : 0) | (eos ? 4 : 0)]
        for i in 0..<8 { b.append(UInt8(truncatingIfNeeded: UInt64(bitPattern: granule) >> (8 * UInt64(i)))) }
        for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: serial >> (8 * UInt32(i)))) }
        for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: sequence >> (8 * UInt32(i)))) }
        b += [0, 0, 0, 0, UInt8(lacing.count)] + lacing
        for p in packets { b += p }
        let c = crc(b[...])
        for i in 0..<4 { b[22 + i] = UInt8(truncatingIfNeeded: c >> (8 * UInt32(i))) }
        return b
    }

    static func opusHead(channels: Int, preSkip: Int, rate: Int) -> [UInt8] {
        var b: [UInt8] = Array("OpusHead".utf8) + [1, UInt8(channels), UInt8(preSkip & 0xff), UInt8(preSkip >> 8)]
        for i in 0..<4 { b.append(UInt8(truncatingIfNeeded: rate >> (8 * i))) }
        return b + [0, 0, 0]
    }

    static func opusTags(vendor: String = "nodes-tests") -> [UInt8] {
        let v = Array(vendor.utf8)
        return Array("OpusTags".utf8) + [UInt8(v.count), 0, 0, 0] + v + [0, 0, 0, 0]
    }

    /// Duration of an Opus packet in 48 kHz samples, from its TOC byte (RFC 6716 section 3.1), or nil if malformed.
    static func opusDuration48k(_ packet: [UInt8]) -> Int? {
        guard let toc = packet.first else { return nil }
        let config = Int(toc >> 3)
        let frame: Int
        switch config {
        case 0..<12: frame = [480, 960, 1920, 2880][config % 4]
        case 12..<16: frame = [480, 960][config % 2]
        default: frame = [120, 240, 480, 960][config % 4]
        }
        let count: Int
        switch toc & 3 {
        case 0: count = 1
        case 1, 2: count = 2
        default:
            guard packet.count >= 2 else { return nil }
            count = Int(packet[1] & 0x3f)
        }
        let total = frame * count
        return count > 0 && total <= 5760 ? total : nil
    }
}
