import COpus

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Access to libopus's variadic `opus_encoder_ctl` / `opus_decoder_ctl`, which Swift cannot call directly.
///
/// The symbols are looked up once with `dlsym` and called through non-variadic C function types taking one
/// integer or pointer argument. On the SysV x86-64 and AAPCS64 (Linux) ABIs a variadic callee reads such
/// arguments from the same registers as a fixed-argument call, so this is exactly what the C macros expand to.
enum OpusControl {
    private typealias IntControl = @convention(c) (OpaquePointer, Int32, Int32) -> Int32
    private typealias PointerControl = @convention(c) (OpaquePointer, Int32, UnsafeMutablePointer<Int32>) -> Int32

    // Kept as addresses (plain integers, so the constants are safely shared between threads) and turned back into
    // pointers at each call.
    private static let encoderAddress: UInt = lookUp("opus_encoder_ctl")
    private static let decoderAddress: UInt = lookUp("opus_decoder_ctl")
    private static var encoderSymbol: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: encoderAddress) }
    private static var decoderSymbol: UnsafeMutableRawPointer? { UnsafeMutableRawPointer(bitPattern: decoderAddress) }

    /// Finds `name` among the symbols already loaded into the process (libopus is linked by the module map); 0 when
    /// it is missing.
    private static func lookUp(_ name: String) -> UInt {
        UInt(bitPattern: dlsym(dlopen(nil, RTLD_NOW), name))
    }

    /// Sends a setter request (OPUS_SET_*_REQUEST) with an integer value to an encoder.
    static func setEncoder(_ encoder: OpaquePointer, _ request: Int32, _ value: Int32, name: String) throws {
        guard let symbol = encoderSymbol else {
            throw CodecError.invalidArgument("opus_encoder_ctl not found in the loaded libopus")
        }
        let result = unsafeBitCast(symbol, to: IntControl.self)(encoder, request, value)
        if result != OPUS_OK { throw CodecError.opus(operation: name, code: result) }
    }

    /// Sends a getter request (OPUS_GET_*_REQUEST) to an encoder and returns the value.
    static func getEncoder(_ encoder: OpaquePointer, _ request: Int32, name: String) throws -> Int32 {
        guard let symbol = encoderSymbol else {
            throw CodecError.invalidArgument("opus_encoder_ctl not found in the loaded libopus")
        }
        var value: Int32 = 0
        let result = unsafeBitCast(symbol, to: PointerControl.self)(encoder, request, &value)
        if result != OPUS_OK { throw CodecError.opus(operation: name, code: result) }
        return value
    }

    /// Sends OPUS_RESET_STATE to a decoder.
    static func resetDecoder(_ decoder: OpaquePointer) {
        guard let symbol = decoderSymbol else { return }
        _ = unsafeBitCast(symbol, to: IntControl.self)(decoder, OPUS_RESET_STATE, 0)
    }

    /// Sends OPUS_RESET_STATE to an encoder.
    static func resetEncoder(_ encoder: OpaquePointer) {
        guard let symbol = encoderSymbol else { return }
        _ = unsafeBitCast(symbol, to: IntControl.self)(encoder, OPUS_RESET_STATE, 0)
    }
}
