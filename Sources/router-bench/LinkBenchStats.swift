import CAllocCounter
import Codecs
import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// One thread of this process at one instant: kernel id, name, CPU time (schedstat, ns) and heap allocations.
struct ThreadSample {
    var tid: Int32
    var name: String
    var cpuNanos: Int64
    var allocations: UInt64

    /// Every thread of the process (Linux `/proc/self/task`; empty elsewhere). Allocates: call outside the loop.
    static func all() -> [Int32: ThreadSample] {
        var out: [Int32: ThreadSample] = [:]
        guard let tids = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task") else { return out }
        for entry in tids {
            guard let tid = Int32(entry) else { continue }
            let dir = "/proc/self/task/\(entry)"
            let name =
                (try? String(contentsOfFile: dir + "/comm", encoding: .utf8))?
                .trimmingCharacters(in: .whitespacesAndNewlines) ?? "?"
            let stat = (try? String(contentsOfFile: dir + "/schedstat", encoding: .utf8)) ?? ""
            let cpu = Int64(stat.split(separator: " ").first ?? "") ?? 0
            out[tid] = ThreadSample(tid: tid, name: name, cpuNanos: cpu, allocations: alloc_counter_thread(tid))
        }
        return out
    }

    /// Per-thread CPU and allocations spent between `before` and `after`, busiest first (threads that did nothing
    /// are left out).
    static func delta(_ before: [Int32: ThreadSample], _ after: [Int32: ThreadSample]) -> [ThreadSample] {
        after.values.compactMap { now -> ThreadSample? in
            let then = before[now.tid]
            let d = ThreadSample(
                tid: now.tid, name: now.name, cpuNanos: now.cpuNanos - (then?.cpuNanos ?? 0),
                allocations: now.allocations &- (then?.allocations ?? 0))
            return d.cpuNanos > 0 || d.allocations > 0 ? d : nil
        }.sorted { $0.cpuNanos > $1.cpuNanos }
    }
}

/// Bare libopus on the session thread inside the paced loop: after each live tick, encodes the frame the feed just
/// played and decodes the server packets that arrived, so the bare cost sees the same cold caches as the graph.
/// Only the libopus calls are timed; the hook's whole cost (CPU and allocations) is kept apart to subtract it.
final class PacedBareOpus {
    private let encoder: OpusEncoder
    private let decoder: OpusDecoder
    private let reader = OggOpusStreamReader()
    private let packet = UnsafeMutableRawBufferPointer.allocate(byteCount: OpusEncoder.maxPacketBytes, alignment: 16)
    private let pcmOut: UnsafeMutableBufferPointer<Float>
    private var consumed = 0
    private(set) var encodeNanos: Int64 = 0
    private(set) var decodeNanos: Int64 = 0
    private(set) var frames = 0
    private(set) var decodedSamples = 0
    private(set) var packets = 0
    /// Thread CPU and allocations of the whole hook (libopus, Ogg parsing, clocks), to subtract from the link's.
    private(set) var hookNanos: Int64 = 0
    private(set) var hookAllocations: UInt64 = 0
    private let tid = alloc_counter_gettid()

    init() throws {
        encoder = try OpusEncoder(
            sampleRate: 24_000, channels: 1, application: .audio, bitrate: 32_000,
            complexity: 5, frameDuration: .ms20)
        decoder = try OpusDecoder(sampleRate: 24_000, channels: 1)
        pcmOut = UnsafeMutableBufferPointer<Float>.allocate(capacity: decoder.maxSamplesPerChannel)
    }

    deinit {
        packet.deallocate()
        pcmOut.deallocate()
    }

    /// One paced step: encode frame `index` of `pcm`, decode every complete server packet in `downlink` not seen yet.
    func step(pcm: [Float], index: Int, downlink: [UInt8]) throws {
        let h0 = cpuNanos(CLOCK_THREAD_CPUTIME_ID), a0 = alloc_counter_thread(tid)
        let n = 480
        let start = (index * n) % (pcm.count - n)
        let t0 = cpuNanos(CLOCK_THREAD_CPUTIME_ID)
        _ = try pcm.withUnsafeBufferPointer {
            try encoder.encode(UnsafeBufferPointer(rebasing: $0[start..<(start + n)]), into: packet)
        }
        encodeNanos += cpuNanos(CLOCK_THREAD_CPUTIME_ID) - t0
        frames += 1
        if downlink.count > consumed {
            downlink.withUnsafeBytes { reader.push(UnsafeRawBufferPointer(rebasing: $0[consumed...])) }
            consumed = downlink.count
            while let event = reader.next() {
                guard case .packet(let p) = event else { continue }
                let t1 = cpuNanos(CLOCK_THREAD_CPUTIME_ID)
                decodedSamples += try p.data.withUnsafeBytes { try decoder.decode(packet: $0, into: pcmOut) }
                decodeNanos += cpuNanos(CLOCK_THREAD_CPUTIME_ID) - t1
                packets += 1
            }
        }
        hookNanos += cpuNanos(CLOCK_THREAD_CPUTIME_ID) - h0
        hookAllocations += alloc_counter_thread(tid) &- a0
    }

    /// Encode per frame and decode per 20 ms of decoded audio, in nanoseconds.
    var perFrame: (encode: Double, decode: Double) {
        (Double(encodeNanos) / Double(max(1, frames)), Double(decodeNanos) / Double(max(1, decodedSamples / 480)))
    }
}
