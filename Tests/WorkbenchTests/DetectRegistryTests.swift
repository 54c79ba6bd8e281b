import XCTest
import TestSupport

/// detect.get/list/remove, as reward's registry has them.
final class DetectRegistryTests: XCTestCase {
    func testGetListRemove() throws {
        let h = try LuaHarness()
        try h.run("detect.define('long', function(s) return #s.completion > 3, #s.completion, 'long' end)")
        try h.run("detect.define('empty', function(s) return #s.completion == 0 end)")
        XCTAssertEqual(try h.value("detect.list()"), "{\"empty\", \"long\"}")
        XCTAssertEqual(try h.value("detect.get('long'){completion = 'abcde'}"), "true\t5\tlong")
        XCTAssertEqual(try h.value("detect.remove('long'), detect.remove('long')"), "true\tfalse")
        XCTAssertEqual(try h.value("detect.list()"), "{\"empty\"}")
        XCTAssertEqual(h.error("detect.get('long')"), "[7]:1: detect.get: unknown detector 'long'")
        XCTAssertEqual(h.error("detect.get(1)"), "[8]:1: bad argument #1 to 'detect.get' (string expected, got number)")
    }
}
