import NIOCore
import Realtime

/// The paced sender of `VoiceConnection`: one absolute deadline per 20 ms on the event loop.
extension VoiceConnection {
    func startPacer() {
        eventLoop.assertInEventLoop()
        pacerTask?.cancel()
        var pacer = VoiceSendPacer(start: SystemClock.now() &+ VoiceSendPacer.frameInterval)
        pacer.prefill = configuration.sendPrefill
        pacer.counters = sendCounters
        self.pacer = pacer
        schedulePacer()
    }

    private func schedulePacer() {
        guard let pacer else { return }
        // NIODeadline.uptimeNanoseconds is CLOCK_MONOTONIC, the same clock as `SystemClock`.
        pacerTask = eventLoop.scheduleTask(deadline: .uptimeNanoseconds(pacer.next)) { self.pacerDeadline() }
    }

    private func pacerDeadline() {
        guard var pacer else { return }
        let queue = outgoing.frames
        let excess = pacer.excess(queued: queue.count)
        if excess > 0 { queue.discard(keepingNewest: pacer.maximumQueued) }
        let step = pacer.deadlinePassed(now: SystemClock.now(), queued: queue.count)
        self.pacer = pacer
        if step.speaking == true, let ssrc = sealer?.ssrc { send(.text(VoiceGatewayCodec.speaking(1, ssrc: ssrc))) }
        switch step.packet {
        case .frame:
            queue.pop { slot in
                slot.bytes.withUnsafeBytes { sendFrame($0, daveEncrypt: true) }
            }
        case .silence:
            VoiceE2EE.silenceFrame.withUnsafeBytes { sendFrame($0, daveEncrypt: false) }
        case .none:
            sealer?.skipFrame()
        }
        if step.speaking == false, let ssrc = sealer?.ssrc { send(.text(VoiceGatewayCodec.speaking(0, ssrc: ssrc))) }
        schedulePacer()
    }

    /// DAVE-encrypts (not silence), seals and writes one frame, reusing one send buffer.
    private func sendFrame(_ opus: UnsafeRawBufferPointer, daveEncrypt: Bool) {
        guard let sealer, let udp, let udpRemote else { return }
        do {
            if daveEncrypt, let e2ee {
                try e2ee.encrypt(opus: opus)
                try e2ee.withEncrypted { try seal($0, sealer) }
            } else {
                try seal(opus, sealer)
            }
        } catch {
            // No sender key yet (alone in the call, or mid-transition): the frame is dropped, never sent plain.
            sealer.skipFrame()
            unkeyedFrames += 1
            if unkeyedFrames == 1 { log("voice: dropping frames until DAVE has a key: \(error)") }
            return
        }
        udp.writeAndFlush(AddressedEnvelope(remoteAddress: udpRemote, data: sendBuffer), promise: nil)
    }

    private func seal(_ frame: UnsafeRawBufferPointer, _ sealer: VoicePacketSealer) throws {
        sendBuffer.clear()
        let needed = VoicePacketSealer.packetLength(payload: frame.count)
        var failure: Error?
        sendBuffer.writeWithUnsafeMutableBytes(minimumWritableBytes: needed) { out in
            do { return try sealer.seal(frame: frame, into: out) } catch {
                failure = error
                return 0
            }
        }
        if let failure { throw failure }
    }
}
