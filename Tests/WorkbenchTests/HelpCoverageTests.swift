import XCTest
import LuaKit
import Workbench
import TestSupport

/// Every function Workbench registers has a docstring that `help` prints: a signature
/// line naming the function, then its meaning and an example.
final class HelpCoverageTests: XCTestCase {
    func testEveryModuleFunctionHasADocstring() throws {
        let h = try LuaHarness()
        let lua = h.workbench.lua
        var missing: [String] = []
        var checked = 0
        for module in ["tensor", "dist", "rl", "pref", "metrics", "random", "sample", "reward", "detect",
                       "data", "plot", "session", "plugin", "spec"] {
            guard lua.getGlobal(module) == .table else { lua.pop(); missing.append("module \(module)"); continue }
            XCTAssertNotNil(Help.entry(lua, at: -1), "module \(module) has no doc")
            var names: [String] = []
            lua.forEachPair(of: -1) {
                if lua.type(at: -2) == .string, lua.type(at: -1) == .function, let k = lua.string(at: -2) { names.append(k) }
                return true
            }
            for name in names {
                lua.getField(name)
                if let e = Help.entry(lua, at: -1) {
                    checked += 1
                    let first = e.doc.split(separator: "\n").first.map(String.init) ?? ""
                    if !first.contains(name) { missing.append("\(module).\(name): signature line '\(first)'") }
                    if !e.doc.lowercased().contains("example") { missing.append("\(module).\(name): no example") }
                } else {
                    missing.append("\(module).\(name)")
                }
                lua.pop()
            }
            lua.pop()
        }
        XCTAssertGreaterThan(checked, 90)
        XCTAssertEqual(missing, [], "functions without a proper docstring")
    }

    func testGlobalsHaveDocstrings() throws {
        let h = try LuaHarness()
        for g in ["help", "print", "timeit"] {
            try h.run("help(\(g))")
            let text = h.takeOutput()
            XCTAssertTrue(text.hasPrefix(g + "("), "\(g): \(text)")
        }
    }
}
