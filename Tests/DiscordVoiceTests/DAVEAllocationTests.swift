import CAllocCounter
import DAVE
import DiscordSimulator
import Realtime
import XCTest

@testable import DiscordVoice

/// The DAVE media path in steady state allocates nothing: our encrypt (one GCM pass into a kept buffer) and a
/// member's decrypt of it (one GCM pass with the 8-byte tag check), as the send and receive paths run them.
final class DAVEAllocationTests: XCTestCase {
    func testDAVEEncryptAndDecryptAllocateNothingPerFrame() throws {
        try XCTSkipUnless(alloc_counter_active() == 1, "allocation counter not linked")
        let call = try InMemoryDAVECall(clock: SystemClock.shared)
        try call.join(1)
        try call.join(2)
        let alice = try XCTUnwrap(call.members[1]), bob = try XCTUnwrap(call.members[2])
        let opus = [0xFC] + [UInt8](repeating: 0x5A, count: 119)
        var failures = 0
        func encrypt() throws { try opus.withUnsafeBytes { try alice.encrypt(opus: $0) } }
        func decrypt() {
            let result = alice.withEncrypted { bob.decrypt(userID: 1, frame: $0) }
            if result != .opus { failures += 1 }
        }
        for _ in 0..<100 {
            try encrypt()
            decrypt()
        }
        let tid = alloc_counter_gettid()
        var encryptAllocations: UInt64 = 0
        var decryptAllocations: UInt64 = 0
        for _ in 0..<1000 {
            var before = alloc_counter_thread(tid)
            try encrypt()
            encryptAllocations += alloc_counter_thread(tid) - before
            before = alloc_counter_thread(tid)
            decrypt()
            decryptAllocations += alloc_counter_thread(tid) - before
        }
        XCTAssertEqual(failures, 0)
        XCTAssertEqual(encryptAllocations, 0, "allocations in 1000 DAVE encrypts")
        XCTAssertEqual(decryptAllocations, 0, "allocations in 1000 DAVE decrypts")
        let decrypted = bob.withDecrypted { Array($0) }
        XCTAssertEqual(decrypted, opus)
    }
}
