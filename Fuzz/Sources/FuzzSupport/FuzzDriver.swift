import CLibFuzzer

#if canImport(Glibc)
    import Glibc
#endif

/// Runs libFuzzer over one check. Every target's main.swift calls `FuzzDriver.run` once.
///
/// The program's entry point stays the target's own: SwiftPM links debug executables with
/// `--defsym main=<module>_main`, which overrides libFuzzer's `main`, so the target's top-level code starts libFuzzer
/// itself through `LLVMFuzzerRunDriver`. libFuzzer's `main` is still linked in (and in release builds not used), so
/// `LLVMFuzzerTestOneInput` is defined below with `@_cdecl`: the same callback the driver is given.
public enum FuzzDriver {
    // libFuzzer calls the callback on this one thread only, and `body` is set once before the driver starts.
    nonisolated(unsafe) fileprivate static var body: ((UnsafeRawBufferPointer) -> Void)?

    /// Hands the process's arguments to libFuzzer, runs `body` on each input, and exits with libFuzzer's status.
    public static func run(_ body: @escaping (UnsafeRawBufferPointer) -> Void) -> Never {
        Self.body = body
        var argc = CommandLine.argc
        var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = CommandLine.unsafeArgv
        exit(LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzOneInput(data, size) })
    }
}

/// libFuzzer's per-input callback.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    guard let body = FuzzDriver.body else {
        fatalError("libFuzzer's own main ran instead of the target's: FuzzDriver.run was never called")
    }
    body(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
