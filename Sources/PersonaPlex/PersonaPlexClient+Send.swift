import NIOCore
import NIOWebSocket

/// A page written to the channel whose arrival on the socket is not confirmed yet.
struct PersonaPlexUnacknowledged {
    var requestedAt: UInt64
    var bytes: Int
}

/// The event-loop side of `send(audio:)`: drains the outbox, frames every page (masked WebSocket binary frame,
/// kind byte `0x01`) into one reused buffer and writes it below the WebSocket encoder with a single flush.
/// Plaintext: when NIO released the buffer right after the flush, every page of the batch is on the socket (no
/// write promise); otherwise (socket full) a 1 ms poll waits for the release. TLS: one write promise per batch,
/// completed once the ciphertext is written. Every method here runs on `eventLoop`, the one consumer of `outbox`.
extension PersonaPlexClient {
    /// The drain the sender queued (`send(audio:)` woke the loop): writes the outbox while `live`, and with a
    /// `sendPeriod` takes over the schedule so the next pages need no wake-up. In any other state the queued pages
    /// count as send failures.
    func flushOutbox() {
        eventLoop.assertInEventLoop()
        flushScheduled.store(false, ordering: .sequentiallyConsistent)
        guard current == .live else {
            dropOutbox()
            return
        }
        if writeOutbox() > 0 { scheduleNextDrain() }
    }

    /// Frames and writes every page in `outbox` (live, or the last drain when closing begins); returns how many.
    @discardableResult
    func writeOutbox() -> Int {
        eventLoop.assertInEventLoop()
        guard let channel, channel.isActive else {
            dropOutbox()
            return 0
        }
        guard let context = rawContext else {
            return flushAsFrames(on: channel)
        }
        // The closure mutates only stored properties: captured local vars would be boxed on the heap.
        framing = takeSendBuffer(channel)
        let pages = outbox.drain { slot in
            slot.bytes.withUnsafeBytes { appendFrame($0, to: &framing) }
            unacknowledged.append(PersonaPlexUnacknowledged(requestedAt: slot.stamp, bytes: slot.bytes.count))
            newestDrainedStamp = slot.stamp
        }
        var buffer = framing
        framing = PersonaPlexClient.emptyBuffer
        guard pages > 0 else {
            sendBuffer = buffer
            return 0
        }
        if configuration.endpoint.secure {
            let promise = eventLoop.makePromise(of: Void.self)
            promise.futureResult.whenComplete { result in
                self.acknowledgeStalled(force: true)
                if case .success = result {
                    self.acknowledge(pages, written: true)
                } else {
                    self.acknowledge(pages, written: false)
                }
            }
            context.writeAndFlush(NIOAny(buffer), promise: promise)
            sendBuffer = buffer
            return pages
        }
        context.writeAndFlush(NIOAny(buffer), promise: nil)
        if stalled.isEmpty, buffer.modifyIfUniquelyOwned({ _ in }) != nil {
            acknowledge(pages, written: channel.isActive)
            sendBuffer = buffer
        } else {
            stalled.append((buffer, pages))
            watchStalled()
        }
        return pages
    }

    /// Counts pages accepted but never written (the session left `live`) as send failures.
    func dropOutbox() {
        eventLoop.assertInEventLoop()
        var bytes = 0
        let pages = outbox.drain { bytes += $0.bytes.count }
        guard pages > 0 else { return }
        pendingSendBytes.wrappingSubtract(bytes, ordering: .relaxed)
        PersonaPlexCounterCells.bump(counterCells.sendFailures, by: pages)
    }

    /// At the end of the session: unwritten and unconfirmed pages become send failures.
    func endSending() {
        eventLoop.assertInEventLoop()
        disarmDrain()
        acceptingSends.store(false, ordering: .sequentiallyConsistent)
        dropOutbox()
        stallPoll?.cancel()
        stallPoll = nil
        stalled.removeAll()
        if !unacknowledged.isEmpty { acknowledge(unacknowledged.count, written: false) }
        rawContext = nil
        sendBuffer = nil
    }

    /// The reused send buffer, emptied; a fresh one if NIO still holds the previous batch.
    private func takeSendBuffer(_ channel: Channel) -> ByteBuffer {
        if var buffer = sendBuffer.take(), buffer.modifyIfUniquelyOwned({ $0.clear() }) != nil { return buffer }
        return channel.allocator.buffer(capacity: 4096)
    }

    /// Appends one masked, final binary frame carrying `0x01` + `payload`.
    private func appendFrame(_ payload: UnsafeRawBufferPointer, to buffer: inout ByteBuffer) {
        let length = payload.count + 1
        buffer.writeInteger(UInt8(0x82))  // FIN, binary
        if length < 126 {
            buffer.writeInteger(UInt8(0x80 | length))
        } else if length <= 0xFFFF {
            buffer.writeInteger(UInt8(0x80 | 126))
            buffer.writeInteger(UInt16(length))
        } else {
            buffer.writeInteger(UInt8(0x80 | 127))
            buffer.writeInteger(UInt64(length))
        }
        let key = UInt32.random(in: .min ... .max, using: &maskRandom)
        buffer.writeInteger(key)
        let mask = (
            UInt8(truncatingIfNeeded: key >> 24), UInt8(truncatingIfNeeded: key >> 16),
            UInt8(truncatingIfNeeded: key >> 8), UInt8(truncatingIfNeeded: key)
        )
        buffer.writeWithUnsafeMutableBytes(minimumWritableBytes: length) { out in
            out[0] = PersonaPlexMessage.Kind.audio.rawValue ^ mask.0
            for i in 0..<payload.count {
                let m: UInt8
                switch (i + 1) & 3 {
                case 0: m = mask.0
                case 1: m = mask.1
                case 2: m = mask.2
                default: m = mask.3
                }
                out[i + 1] = payload[i] ^ m
            }
            return length
        }
    }

    /// Records the oldest `pages` unacknowledged pages as written now (timings, counters) or as failed.
    func acknowledge(_ pages: Int, written: Bool) {
        let count = min(pages, unacknowledged.count)
        guard count > 0 else { return }
        let writtenAt = clock.nowNanoseconds()
        var bytes = 0, lost = 0
        for i in 0..<count {
            let page = unacknowledged[i]
            bytes += page.bytes
            if written,
                timings.record(
                    PersonaPlexSendTiming(
                        requestedAtNanos: page.requestedAt,
                        writtenAtNanos: writtenAt, bytes: page.bytes))
            {
                lost += 1
            }
        }
        unacknowledged.removeFirst(count)
        pendingSendBytes.wrappingSubtract(bytes, ordering: .relaxed)
        if written {
            lastWrittenAt = writtenAt
            PersonaPlexCounterCells.bump(counterCells.audioSent, by: count)
            PersonaPlexCounterCells.bump(counterCells.bytesSent, by: bytes)
            PersonaPlexCounterCells.bump(counterCells.sendTimingsOverwritten, by: lost)
        } else {
            PersonaPlexCounterCells.bump(counterCells.sendFailures, by: count)
        }
    }

    /// Polls every millisecond until NIO released the stalled batches (written), or the channel closed.
    private func watchStalled() {
        guard stallPoll == nil else { return }
        stallPoll = eventLoop.scheduleRepeatedTask(initialDelay: .milliseconds(1), delay: .milliseconds(1)) { task in
            self.acknowledgeStalled(force: false)
            if self.stalled.isEmpty {
                task.cancel()
                self.stallPoll = nil
            }
        }
    }

    /// Acknowledges stalled batches in order while their buffers are released (all of them when `force`).
    private func acknowledgeStalled(force: Bool) {
        while !stalled.isEmpty {
            let active = channel?.isActive ?? false
            guard force || !active || stalled[0].buffer.modifyIfUniquelyOwned({ _ in }) != nil else { return }
            let batch = stalled.removeFirst()
            acknowledge(batch.pages, written: active)
        }
    }

    /// Without access to the encoder's context: one WebSocket frame and write promise per page.
    private func flushAsFrames(on channel: Channel) -> Int {
        outbox.drain { slot in
            var buffer = channel.allocator.buffer(capacity: slot.bytes.count + 1)
            buffer.writeInteger(PersonaPlexMessage.Kind.audio.rawValue)
            buffer.writeBytes(slot.bytes)
            unacknowledged.append(PersonaPlexUnacknowledged(requestedAt: slot.stamp, bytes: slot.bytes.count))
            let promise = eventLoop.makePromise(of: Void.self)
            promise.futureResult.whenComplete { result in
                if case .success = result {
                    self.acknowledge(1, written: true)
                } else {
                    self.acknowledge(1, written: false)
                }
            }
            channel.writeAndFlush(
                WebSocketFrame(fin: true, opcode: .binary, maskKey: .random(), data: buffer), promise: promise)
        }
    }
}
