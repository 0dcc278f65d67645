import COgg

/// Contiguous, reusable storage for whole Ogg pages waiting to be sent, with page boundaries kept so each
/// page can be handed out separately. Grows only when a burst exceeds its capacity.
struct OggPageQueue {
    private var bytes: UnsafeMutableRawBufferPointer
    private var pageEnds: UnsafeMutableBufferPointer<Int>
    private(set) var byteCount = 0
    private(set) var pageCount = 0

    init(byteCapacity: Int = 64 * 1024, pageCapacity: Int = 64) {
        bytes = .allocate(byteCount: byteCapacity, alignment: 16)
        pageEnds = .allocate(capacity: pageCapacity)
    }

    func deallocate() {
        bytes.deallocate()
        pageEnds.deallocate()
    }

    /// Copies a libogg page (header then body) to the end of the queue.
    mutating func append(_ page: ogg_page) {
        let header = page.header_len, body = page.body_len
        reserve(extraBytes: header + body)
        let base = bytes.baseAddress! + byteCount
        if header > 0 { base.copyMemory(from: page.header, byteCount: header) }
        if body > 0 { (base + header).copyMemory(from: page.body, byteCount: body) }
        byteCount += header + body
        pageEnds[pageCount] = byteCount
        pageCount += 1
    }

    /// Hands every queued page to `body` in order, then empties the queue.
    mutating func drain(_ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        var start = 0
        defer {
            byteCount = 0
            pageCount = 0
        }
        for index in 0..<pageCount {
            let end = pageEnds[index]
            try body(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
            start = end
        }
    }

    /// Bytes of the oldest `count` pages (all pages when fewer are queued).
    func byteCount(ofFirst count: Int) -> Int {
        let n = min(count, pageCount)
        return n > 0 ? pageEnds[n - 1] : 0
    }

    /// Hands the oldest `count` pages (all when fewer are queued) to `body` in order and removes them; the pages
    /// behind them move to the front. Nothing is allocated.
    mutating func drain(first count: Int, _ body: (UnsafeRawBufferPointer) throws -> Void) rethrows {
        let n = min(count, pageCount)
        guard n > 0 else { return }
        let removed = pageEnds[n - 1]
        defer {
            let remaining = byteCount - removed
            // copyMemory is a memmove, so the overlapping move is safe.
            if remaining > 0 { bytes.baseAddress!.copyMemory(from: bytes.baseAddress! + removed, byteCount: remaining) }
            for index in n..<pageCount { pageEnds[index - n] = pageEnds[index] - removed }
            byteCount = remaining
            pageCount -= n
        }
        var start = 0
        for index in 0..<n {
            let end = pageEnds[index]
            try body(UnsafeRawBufferPointer(rebasing: bytes[start..<end]))
            start = end
        }
    }

    private mutating func reserve(extraBytes: Int) {
        if byteCount + extraBytes > bytes.count {
            let grown = UnsafeMutableRawBufferPointer.allocate(
                byteCount: max(bytes.count * 2, byteCount + extraBytes),
                alignment: 16)
            grown.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: byteCount)
            bytes.deallocate()
            bytes = grown
        }
        if pageCount == pageEnds.count {
            let grown = UnsafeMutableBufferPointer<Int>.allocate(capacity: pageEnds.count * 2)
            _ = grown.initialize(from: pageEnds)
            pageEnds.deallocate()
            pageEnds = grown
        }
    }
}
