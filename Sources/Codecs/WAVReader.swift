#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Streaming reader for RIFF/WAVE files: PCM 8/16/24/32-bit, IEEE float 32/64-bit, plain or
/// WAVE_FORMAT_EXTENSIBLE, any rate and channel count. Reads the header in `init`, then converts sample
/// frames to Float32 interleaved on demand, so long files never sit in memory. Not thread-safe.
public final class WAVReader {
    /// Audio layout from the fmt chunk.
    public let format: WAVFormat
    /// Whole sample frames in the data chunk.
    public let frameCount: Int
    /// Sample frames returned so far.
    public private(set) var framesRead = 0

    private var file: UnsafeMutablePointer<FILE>?
    private var rawBuffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    /// Opens `path` and parses its header; throws a specific `CodecError` for malformed files.
    public init(path: String) throws {
        guard let handle = fopen(path, "rb") else {
            throw CodecError.io("cannot open \(path) for reading: \(String(cString: strerror(errno)))")
        }
        do {
            let header = try WAVHeaderParser.parse(handle)
            format = header.format
            frameCount = header.dataBytes / header.format.bytesPerFrame
            guard fseeko(handle, off_t(header.dataOffset), SEEK_SET) == 0 else {
                throw CodecError.io("cannot seek to the data chunk of \(path)")
            }
        } catch {
            fclose(handle)
            throw error
        }
        file = handle
    }

    deinit {
        close()
        rawBuffer.deallocate()
    }

    /// Closes the file; later reads return 0 frames.
    public func close() {
        if let file { fclose(file) }
        file = nil
    }

    /// Sample frames left to read.
    public var remainingFrames: Int { frameCount - framesRead }

    /// Reads up to `output.count / channels` sample frames as Float32 interleaved; returns frames read
    /// (0 at the end of the data chunk).
    public func read(into output: UnsafeMutableBufferPointer<Float>) throws -> Int {
        guard let file, let out = output.baseAddress else { return 0 }
        let frames = min(output.count / format.channels, remainingFrames)
        guard frames > 0 else { return 0 }
        let bytes = frames * format.bytesPerFrame
        if rawBuffer.count < bytes {
            rawBuffer.deallocate()
            rawBuffer = .allocate(byteCount: bytes, alignment: 8)
        }
        let got = fread(rawBuffer.baseAddress!, 1, bytes, file)
        let gotFrames = got / format.bytesPerFrame
        if gotFrames < frames && ferror(file) != 0 {
            throw CodecError.io("read error in WAV data: \(String(cString: strerror(errno)))")
        }
        WAVSampleCodec.decode(
            rawBuffer.baseAddress!, encoding: format.encoding, count: gotFrames * format.channels,
            into: out)
        framesRead += gotFrames
        if gotFrames < frames {
            let expected = frameCount * format.bytesPerFrame
            let found = framesRead * format.bytesPerFrame
            framesRead = frameCount
            throw CodecError.dataChunkTruncated(expected: expected, found: found)
        }
        return gotFrames
    }

    /// Reads every remaining frame into one array.
    public func readAll() throws -> [Float] {
        var samples = [Float](repeating: 0, count: remainingFrames * format.channels)
        var filled = 0
        try samples.withUnsafeMutableBufferPointer { buffer in
            while filled < buffer.count {
                let frames = try read(into: UnsafeMutableBufferPointer(rebasing: buffer[filled...]))
                if frames == 0 { break }
                filled += frames * format.channels
            }
        }
        return samples
    }

    /// Reads a whole file: its format and all samples (Float32 interleaved).
    public static func read(path: String) throws -> (format: WAVFormat, samples: [Float]) {
        let reader = try WAVReader(path: path)
        return (reader.format, try reader.readAll())
    }
}

/// Walks the RIFF chunk list up to the data chunk.
enum WAVHeaderParser {
    struct Header {
        var format: WAVFormat
        var dataOffset: Int
        var dataBytes: Int
    }

    static func parse(_ file: UnsafeMutablePointer<FILE>) throws -> Header {
        guard fseeko(file, 0, SEEK_END) == 0 else { throw CodecError.io("cannot seek in WAV file") }
        let fileSize = Int(ftello(file))
        rewind(file)

        var riff = [UInt8](repeating: 0, count: 12)
        guard fread(&riff, 1, 12, file) == 12, riff[0..<4].elementsEqual("RIFF".utf8) else { throw CodecError.notRIFF }
        guard riff[8..<12].elementsEqual("WAVE".utf8) else { throw CodecError.notWAVE }

        var format: WAVFormat?
        var chunkHeader = [UInt8](repeating: 0, count: 8)
        while true {
            guard fread(&chunkHeader, 1, 8, file) == 8 else {
                throw format == nil ? CodecError.noFmtChunk : CodecError.noDataChunk
            }
            let size = Int(littleEndian32(chunkHeader, 4))
            let position = Int(ftello(file))
            if chunkHeader[0..<4].elementsEqual("fmt ".utf8) {
                guard size <= 4096 else { throw CodecError.invalidWAVHeader("fmt chunk of \(size) bytes") }
                var body = [UInt8](repeating: 0, count: size)
                guard fread(&body, 1, size, file) == size else {
                    throw CodecError.fmtChunkTooShort(fileSize - position)
                }
                format = try parseFormat(body)
                if size & 1 == 1 { fseeko(file, 1, SEEK_CUR) }
            } else if chunkHeader[0..<4].elementsEqual("data".utf8) {
                guard let format else { throw CodecError.noFmtChunk }
                let available = fileSize - position
                var dataBytes = size
                if size == 0xFFFF_FFFF || (size == 0 && available > 0) {
                    dataBytes = available  // streamed file whose header was never patched
                } else if size > available {
                    throw CodecError.dataChunkTruncated(expected: size, found: available)
                }
                return Header(format: format, dataOffset: position, dataBytes: dataBytes)
            } else {
                guard fseeko(file, off_t(size + (size & 1)), SEEK_CUR) == 0 else {
                    throw format == nil ? CodecError.noFmtChunk : CodecError.noDataChunk
                }
                if Int(ftello(file)) >= fileSize {
                    throw format == nil ? CodecError.noFmtChunk : CodecError.noDataChunk
                }
            }
        }
    }

    static func parseFormat(_ body: [UInt8]) throws -> WAVFormat {
        guard body.count >= 16 else { throw CodecError.fmtChunkTooShort(body.count) }
        let tag = UInt16(body[0]) | UInt16(body[1]) << 8
        let channels = Int(UInt16(body[2]) | UInt16(body[3]) << 8)
        let rate = Int(littleEndian32(body, 4))
        let blockAlign = Int(UInt16(body[12]) | UInt16(body[13]) << 8)
        let bits = Int(UInt16(body[14]) | UInt16(body[15]) << 8)
        var effectiveTag = tag
        if tag == 0xFFFE {
            guard body.count >= 40 else { throw CodecError.fmtChunkTooShort(body.count) }
            effectiveTag = UInt16(body[24]) | UInt16(body[25]) << 8
        }
        let encoding = try WAVSampleEncoding(formatTag: effectiveTag, bitsPerSample: bits, reportedTag: tag)
        guard channels > 0 else { throw CodecError.invalidWAVHeader("0 channels") }
        guard rate > 0 else { throw CodecError.invalidWAVHeader("sample rate 0") }
        let format = WAVFormat(sampleRate: rate, channels: channels, encoding: encoding)
        guard blockAlign == format.bytesPerFrame else {
            throw CodecError.invalidWAVHeader(
                "block align \(blockAlign), expected \(format.bytesPerFrame) "
                    + "for \(channels) channels of \(bits) bits")
        }
        return format
    }

    private static func littleEndian32(_ b: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(b[offset]) | UInt32(b[offset + 1]) << 8 | UInt32(b[offset + 2]) << 16 | UInt32(b[offset + 3]) << 24
    }
}
