import XCTest
import Workbench
import TestSupport

/// The `spec` helpers (describe / it / expect) as users call them in their own scripts.
final class PluginSpecTests: XCTestCase {
    func testPassesAndFailuresAreCounted() throws {
        let h = try LuaHarness()
        try h.run("""
            describe("arith", function()
              it("adds", function() expect(1 + 1):to_be(2) end)
              it("is close", function() expect(0.1 + 0.2):to_be_close(0.3, 1e-12) end)
              it("fails", function() expect(1 + 1):to_be(3) end)
              it("raises", function() expect(function() error("bad input") end):to_fail("bad input") end)
              it("deep", function() expect({a = {1, 2}}):to_equal({a = {1, 2}}) end)
              it("tensors", function() expect(tensor{1, 2}):to_be_close({1, 2 + 1e-12}, 1e-9) end)
            end)
            """)
        XCTAssertEqual(try h.value("spec.results().passed"), "5")
        XCTAssertEqual(try h.value("spec.results().failed"), "1")
        XCTAssertEqual(try h.value("spec.results().failures[1].name"), "arith > fails")
        XCTAssertTrue(try h.value("spec.results().failures[1].message").hasSuffix("expected 3, got 2"))
        let err = h.error("spec.check()") ?? ""
        XCTAssertTrue(err.contains("1 of 6 checks failed") && err.contains("arith > fails"), err)
        _ = h.takeOutput()
        try h.run("spec.report()")
        XCTAssertTrue(h.takeOutput().contains("5 passed, 1 failed"))
    }

    func testMatcherMessages() throws {
        let h = try LuaHarness()
        let cases = [
            ("expect('abc'):to_contain('z')", "expected \"abc\" to contain \"z\""),
            ("expect(function() end):to_fail()", "expected an error, but it succeeded"),
            ("expect(function() error('x') end):to_fail('y')", "expected an error containing \"y\""),
            ("expect(1.5):to_be_close(2, 0.1)", "expected 2 (within 0.10000000000000001), got 1.5"),
            ("expect(nil):to_be_truthy()", "expected a true value, got nil"),
            ("expect(tensor{1}):to_be_a('table')", "expected a table, got tensor"),
        ]
        for (code, message) in cases {
            let err = h.error("local _ = " + code) ?? "(no error)"
            XCTAssertTrue(err.contains(message), "\(code): \(err)")
            XCTAssertTrue(err.hasPrefix("input:1:") || err.contains(":1:"), "raised at the caller: \(err)")
        }
    }

    func testSpecAndPluginHaveDocstrings() throws {
        let h = try LuaHarness()
        for name in ["spec", "spec.describe", "spec.it", "spec.expect", "spec.report", "spec.check", "plugin",
                     "plugin.list", "plugin.load", "plugin.reload", "plugin.info", "plugin.sampler", "plugin.paths"] {
            try h.run("help(\(quoted(name)))")
            let text = h.takeOutput()
            XCTAssertTrue(text.contains(name.split(separator: ".").last.map(String.init) ?? name) && text.contains("Example"),
                          "\(name): \(text)")
        }
    }
}
