import Codecs
import FuzzSupport

#if canImport(Glibc)
    import Glibc
#endif

// The WAV reader (WavIn's file parser) on an in-memory file: [read size][WAV bytes...]. The bytes go into an unlinked
// file in /dev/shm that WAVReader opens by its /proc/self/fd path, so the public API runs unchanged and nothing is
// left behind; frames are read in chunks of 1...256.
var template = Array("/dev/shm/fuzz-wav-XXXXXX".utf8CString)
let fd = mkstemp(&template)
precondition(fd >= 0, "mkstemp failed")
unlink(template)
let path = "/proc/self/fd/\(fd)"
let output = UnsafeMutableBufferPointer<Float>.allocate(capacity: 256 * 65_535)  // 256 frames of the widest file

FuzzDriver.run { data in
    var input = FuzzInput(data)
    let framesPerRead = Int(input.byte()) + 1
    let file = input.rest()
    precondition(ftruncate(fd, 0) == 0, "ftruncate failed")
    if let base = file.baseAddress, file.count > 0 {
        precondition(pwrite(fd, base, file.count, 0) == file.count, "pwrite failed")
    }
    guard let reader = try? WAVReader(path: path) else { return }
    precondition(reader.format.channels > 0 && reader.format.sampleRate > 0, "a parsed format is usable")
    precondition(reader.frameCount * reader.format.bytesPerFrame <= file.count, "frames lie within the file")
    let buffer = UnsafeMutableBufferPointer(rebasing: output[0..<(framesPerRead * reader.format.channels)])
    var total = 0
    while true {
        guard let frames = try? reader.read(into: buffer), frames > 0 else { break }
        total += frames
    }
    precondition(total <= reader.frameCount, "never more frames than the header declares")
}
