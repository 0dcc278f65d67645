import Bot
import XCTest

final class VoiceCatalogTests: XCTestCase {
    let catalog = VoiceCatalog()

    func testNamesWithoutCaseOrExtension() {
        XCTAssertEqual(try catalog.resolve("natf0").get(), "NATF0.pt")
        XCTAssertEqual(try catalog.resolve("NATM1.pt").get(), "NATM1.pt")
        XCTAssertEqual(try catalog.resolve(" varm4.PT ").get(), "VARM4.pt")
    }

    func testPathTraversalIsRefused() {
        for hostile in ["../../etc/passwd", "/etc/passwd", "..\\NATF0.pt", "NATF0.pt/../x", ".NATF0.pt", "..pt"] {
            guard case let .failure(refusal) = catalog.resolve(hostile) else {
                return XCTFail("\(hostile) accepted")
            }
            XCTAssertEqual(refusal.kind, .notAName, hostile)
            XCTAssertFalse(refusal.suggestions.isEmpty, "closest valid names offered")
            XCTAssertTrue(refusal.description.contains("not a voice name"), refusal.description)
        }
    }

    func testUnknownVoiceGetsClosestNames() {
        guard case let .failure(refusal) = catalog.resolve("NATF9") else { return XCTFail("NATF9 accepted") }
        XCTAssertEqual(refusal.kind, .unknown)
        XCTAssertTrue(refusal.suggestions.allSatisfy { $0.hasPrefix("NATF") }, "\(refusal.suggestions)")
        XCTAssertTrue(refusal.description.contains("Closest valid names: NATF0"), refusal.description)
    }

    func testHostileNameIsEscapedWhenEchoed() {
        guard case let .failure(refusal) = catalog.resolve("@everyone") else { return XCTFail("accepted") }
        XCTAssertFalse(refusal.description.contains("@everyone"), refusal.description)
    }

    func testOverLongNameIsRefusedUnread() {
        guard case let .failure(refusal) = catalog.resolve(String(repeating: "A", count: 10_000)) else {
            return XCTFail("accepted")
        }
        XCTAssertEqual(refusal.kind, .tooLong)
        XCTAssertLessThan(refusal.description.count, 300)
    }

    func testGroupsOfTheStockVoices() {
        let groups = catalog.groups
        XCTAssertEqual(groups.map(\.title), ["Natural Female", "Natural Male", "Varied Female", "Varied Male"])
        XCTAssertEqual(groups.map(\.voices.count), [4, 4, 5, 5])
        XCTAssertEqual(catalog.voices.count, 18)
    }

    func testCustomFilesGoUnderOther() {
        let custom = VoiceCatalog(voices: ["NATF0.pt", "Pirate.pt"], directory: "/voices")
        XCTAssertEqual(custom.groups.map(\.title), ["Natural Female", "Other"])
        XCTAssertEqual(try custom.resolve("pirate").get(), "Pirate.pt")
        XCTAssertNil(try? custom.resolve("NATM0").get(), "only the directory's files count when it is set")
    }
}
