import Foundation
import XCTest
import LuaKit
import Workbench
import TestSupport

/// Help that is true: every `module.function` (and `chain:method`-style name) that any
/// help text mentions exists, so a reader who types what a docstring says finds it.
final class HelpNamesTests: XCTestCase {
    func testEveryNameInHelpTextsExists() throws {
        let h = try LuaHarness()
        let lua = h.workbench.lua
        let texts = [Help.markdownReference(lua), Help.overview(lua), Help.promptCommandHelp]
        let modules = Help.moduleNames(lua)
        XCTAssertTrue(modules.contains("reward") && modules.contains("moonlab"), "\(modules)")
        let reference = texts[0]
        var missing: Set<String> = []
        var checked = 0
        let dotted = try NSRegularExpression(pattern: #"(?<![\w.:])(\#(modules.joined(separator: "|")))((?:\.[A-Za-z_]\w*)+)"#)
        let methods = try NSRegularExpression(pattern: #"(?<![\w.:])(tensor|chain|dataset|generator):([A-Za-z_]\w*)"#)
        for text in texts {
            let ns = text as NSString
            for m in dotted.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                var name = ns.substring(with: m.range)
                while name.hasSuffix(".") { name.removeLast() }
                // file names (plugin.lua) and families (moonlab.print_*) are not names to look up
                if name.hasSuffix(".lua") || name.hasSuffix("_") { continue }
                checked += 1
                if Help.pushPath(lua, name) { lua.pop() } else { missing.insert(name) }
            }
            for m in methods.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
                let name = ns.substring(with: m.range)
                checked += 1
                if !reference.contains("### \(name)\n") { missing.insert(name) }
            }
        }
        XCTAssertGreaterThan(checked, 300)
        XCTAssertEqual(missing.sorted(), [], "names in help texts that do not exist")
    }

    func testModuleListingsShowWholeSignaturesAndNoEmptyHeader() throws {
        let h = try LuaHarness()
        try h.run("help(pref)")
        let pref = h.takeOutput()
        XCTAssertTrue(pref.contains("  pref.dpo_loss{...} -> losses, chosen_rewards, rejected_rewards, stats\n"), pref)
        XCTAssertTrue(pref.contains("  pref.simpo_loss{...} -> losses, chosen_rewards, rejected_rewards, stats\n"), pref)
        for line in pref.split(separator: "\n") where line.hasPrefix("  pref.") {
            XCTAssertTrue(line.contains("->"), "a listed signature is whole: \(line)")
        }
        try h.run("help(spec)")
        XCTAssertFalse(h.takeOutput().contains("Functions:\n\n"))
        try h.run("help(moonlab)")
        let moonlab = h.takeOutput()
        XCTAssertTrue(moonlab.contains("Functions:\n  moonlab.restore("), moonlab)
    }

    func testOverviewNamesEveryPromptCommand() throws {
        let h = try LuaHarness()
        try h.run("help()")
        let text = h.takeOutput()
        for c in [":help", ":load", ":time", ":whos", ":edit", "!cmd", "??fn", ":plugins", ":record", ":reset", ":quit"] {
            XCTAssertTrue(text.contains(c), "help() names \(c): \(text)")
        }
    }
}
