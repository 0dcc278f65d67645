#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Streaming RIFF/WAVE writer. Writes the header up front with placeholder sizes, appends converted
/// samples as they come, and patches the RIFF and data sizes in `close()`. Uses WAVE_FORMAT_EXTENSIBLE
/// for more than two channels or integer samples wider than 16 bits. Not thread-safe.
public final class WAVWriter {
    /// Layout being written.
    public let format: WAVFormat
    /// Path of the file being written.
    public let path: String
    /// Sample frames written so far.
    public private(set) var framesWritten = 0

    private var file: UnsafeMutablePointer<FILE>?
    private let dataSizeOffset: Int
    private var rawBuffer = UnsafeMutableRawBufferPointer(start: nil, count: 0)

    /// Creates (or truncates) `path` and writes the header.
    public init(path: String, format: WAVFormat) throws {
        guard format.channels >= 1, format.channels <= 65_535, format.sampleRate > 0 else {
            throw CodecError.invalidArgument("WAV format needs 1...65535 channels and a positive rate")
        }
        guard let handle = fopen(path, "wb") else {
            throw CodecError.io("cannot open \(path) for writing: \(String(cString: strerror(errno)))")
        }
        self.format = format
        self.path = path
        let header = WAVWriter.header(for: format)
        dataSizeOffset = header.count - 4
        file = handle
        guard fwrite(header, 1, header.count, handle) == header.count else {
            fclose(handle)
            file = nil
            throw CodecError.io("cannot write WAV header to \(path)")
        }
    }

    deinit {
        try? close()
        rawBuffer.deallocate()
    }

    /// Appends interleaved samples (a whole number of frames); values outside -1...1 are clipped for PCM.
    public func write(_ samples: UnsafeBufferPointer<Float>) throws {
        guard let file else { throw CodecError.io("WAV writer for \(path) is closed") }
        guard samples.count % format.channels == 0 else {
            throw CodecError.invalidArgument(
                "\(samples.count) samples is not a whole number of \(format.channels)-channel frames")
        }
        guard let input = samples.baseAddress else { return }
        let bytes = samples.count * format.encoding.bytesPerSample
        if rawBuffer.count < bytes {
            rawBuffer.deallocate()
            rawBuffer = .allocate(byteCount: bytes, alignment: 8)
        }
        WAVSampleCodec.encode(input, count: samples.count, encoding: format.encoding, into: rawBuffer.baseAddress!)
        guard fwrite(rawBuffer.baseAddress!, 1, bytes, file) == bytes else {
            throw CodecError.io("write to \(path) failed: \(String(cString: strerror(errno)))")
        }
        framesWritten += samples.count / format.channels
    }

    /// Pads, patches the header sizes and closes the file. Safe to call more than once.
    public func close() throws {
        guard let file else { return }
        self.file = nil
        defer { fclose(file) }
        let dataBytes = framesWritten * format.bytesPerFrame
        if dataBytes & 1 == 1 { fputc(0, file) }
        let riffSize = dataSizeOffset + 4 + dataBytes + (dataBytes & 1) - 8
        guard dataBytes <= 0xFFFF_FFFF - dataSizeOffset else {
            throw CodecError.io("\(path): \(dataBytes) bytes of audio exceed the 4 GiB WAV limit")
        }
        var ok = fseeko(file, 4, SEEK_SET) == 0 && writeLittleEndian32(UInt32(riffSize), file)
        ok = ok && fseeko(file, off_t(dataSizeOffset), SEEK_SET) == 0 && writeLittleEndian32(UInt32(dataBytes), file)
        ok = ok && fflush(file) == 0
        if !ok { throw CodecError.io("cannot finalise WAV header of \(path): \(String(cString: strerror(errno)))") }
    }

    private func writeLittleEndian32(_ value: UInt32, _ file: UnsafeMutablePointer<FILE>) -> Bool {
        var bytes = [UInt8](repeating: 0, count: 4)
        for k in 0..<4 { bytes[k] = UInt8(truncatingIfNeeded: value >> (8 * k)) }
        return fwrite(bytes, 1, 4, file) == 4
    }

    static func header(for format: WAVFormat) -> [UInt8] {
        let bits = format.encoding.bytesPerSample * 8
        let extensible = format.channels > 2 || (format.encoding.formatTag == 1 && bits > 16)
        var fmt: [UInt8] = []
        appendLittleEndian(extensible ? UInt16(0xFFFE) : format.encoding.formatTag, to: &fmt)
        appendLittleEndian(UInt16(format.channels), to: &fmt)
        appendLittleEndian(UInt32(format.sampleRate), to: &fmt)
        appendLittleEndian(UInt32(format.sampleRate * format.bytesPerFrame), to: &fmt)
        appendLittleEndian(UInt16(format.bytesPerFrame), to: &fmt)
        appendLittleEndian(UInt16(bits), to: &fmt)
        if extensible {
            appendLittleEndian(UInt16(22), to: &fmt)
            appendLittleEndian(UInt16(bits), to: &fmt)
            let mask: UInt32 = format.channels >= 32 ? 0 : (UInt32(1) << UInt32(format.channels)) - 1
            appendLittleEndian(mask, to: &fmt)
            appendLittleEndian(format.encoding.formatTag, to: &fmt)
            fmt += [0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x80, 0x00, 0x00, 0xAA, 0x00, 0x38, 0x9B, 0x71]
        }
        var header: [UInt8] = Array("RIFF".utf8)
        appendLittleEndian(UInt32(0), to: &header)
        header += Array("WAVEfmt ".utf8)
        appendLittleEndian(UInt32(fmt.count), to: &header)
        header += fmt
        header += Array("data".utf8)
        appendLittleEndian(UInt32(0), to: &header)
        return header
    }
}
