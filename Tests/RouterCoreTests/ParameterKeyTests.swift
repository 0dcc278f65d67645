import XCTest

@testable import RouterCore

/// Typed parameter keys: the schema entry and the typed read come from one declaration, and an unset parameter reads
/// as the schema's default (so nodes never write a default of their own).
final class ParameterKeyTests: XCTestCase {
    private enum Param {
        static let gain: ParameterKey<Double> = .double("gain_db", -60...24, default: -3, "Gain.")
        static let delay: ParameterKey<Double> = .duration("delay", default: 1.5, "Delay.")
        static let count: ParameterKey<Int> = .int("count", 1...9, default: 4, "Count.")
        static let rate: ParameterKey<Int> = .choice("rate", [8_000, 24_000], default: 24_000, "Rate.")
        static let outRate: ParameterKey<Int> = .requiredSampleRate("out_rate", probe: 48_000, "Output rate.")
        static let loud: ParameterKey<Bool> = .bool("loud", default: true, "Loud.")
        static let mode: ParameterKey<String> = .choice("mode", ["a", "b"], default: "b", "Mode.")
        static let kind: ParameterKey<MediaKind> = .choice("kind", [.ogg, .text], default: .text, "Kind.")
        static let file: ParameterKey<String?> = .optionalPath("file", "File.")
        static let name: ParameterKey<String?> = .requiredString("name", "Name.")
    }

    func testTheSchemaEntryCarriesTheDefault() {
        XCTAssertEqual(Param.gain.spec.defaultValue, .double(-3))
        XCTAssertEqual(Param.rate.spec.defaultValue, .string("24000"))
        XCTAssertEqual(Param.kind.spec.defaultValue, .string("text"))
        XCTAssertEqual("\(Param.kind.spec.type)", "ogg|text")
        XCTAssertEqual(Param.file.spec.defaultValue, nil)
        XCTAssertFalse(Param.file.spec.isRequired)
        XCTAssertTrue(Param.outRate.spec.isRequired)
        XCTAssertTrue(Param.name.spec.isRequired)
        XCTAssertEqual(Param.count.name, "count")
    }

    func testUnsetParametersReadAsTheSchemaDefault() {
        let p = Parameters()
        XCTAssertEqual(p[Param.gain], -3)
        XCTAssertEqual(p[Param.delay], 1.5)
        XCTAssertEqual(p[Param.count], 4)
        XCTAssertEqual(p[Param.rate], 24_000)
        XCTAssertEqual(p[Param.outRate], 48_000, "a required rate reads as its probe value only before validation")
        XCTAssertTrue(p[Param.loud])
        XCTAssertEqual(p[Param.mode], "b")
        XCTAssertEqual(p[Param.kind], .text)
        XCTAssertNil(p[Param.file])
        XCTAssertNil(p[Param.name])
    }

    /// Values as validation stores them (parsed by the same schema entries) read back typed.
    func testParsedValuesReadBackTyped() throws {
        var p = Parameters()
        for (key, text) in [
            (Param.gain.spec, "6"), (Param.delay.spec, "200ms"), (Param.count.spec, "9"),
            (Param.rate.spec, "8000"), (Param.outRate.spec, "16000"), (Param.loud.spec, "no"),
            (Param.mode.spec, "a"), (Param.kind.spec, "ogg"), (Param.file.spec, "x.wav"),
            (Param.name.spec, "bob"),
        ] {
            p[key.name] = try key.parse(text).get()
        }
        XCTAssertEqual(p[Param.gain], 6)
        XCTAssertEqual(p[Param.delay], 0.2, accuracy: 1e-12)
        XCTAssertEqual(p[Param.count], 9)
        XCTAssertEqual(p[Param.rate], 8_000)
        XCTAssertEqual(p[Param.outRate], 16_000)
        XCTAssertFalse(p[Param.loud])
        XCTAssertEqual(p[Param.mode], "a")
        XCTAssertEqual(p[Param.kind], .ogg)
        XCTAssertEqual(p[Param.file], "x.wav")
        XCTAssertEqual(p[Param.name], "bob")
        p[Param.file.name] = .string("")
        XCTAssertNil(p[Param.file], "an empty path reads as unset")
    }
}
