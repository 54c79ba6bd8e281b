import XCTest
import Foundation

/// Help that is true on the command line too: every `module.function` that `--help` of
/// moonlab or of a subcommand names exists in a moonlab state.
final class CommandHelpNamesTests: XCTestCase {
    func testEveryLuaNameInCommandHelpExists() throws {
        let root = try runMoonlab(["--help"])
        XCTAssertEqual(root.status, 0)
        let commands = root.stdout.components(separatedBy: "SUBCOMMANDS:").last?
            .split(separator: "\n").compactMap { line -> String? in
                let t = line.drop(while: { $0 == " " })
                guard line.hasPrefix("  "), !line.hasPrefix("   "), let w = t.split(separator: " ").first else { return nil }
                return String(w)
            } ?? []
        XCTAssertTrue(commands.contains("score") && commands.contains("doctest"), "\(commands)")
        var text = root.stdout
        for c in commands { text += try runMoonlab([c, "--help"]).stdout }
        let modules = try runMoonlab(["--no-plugins", "-e",
            "local m = {} for k, v in pairs(_G) do if type(v) == 'table' and k:match('^%l+$') then m[#m + 1] = k end end table.sort(m) return table.concat(m, ' ')"])
        let names = modules.stdout.split(separator: " ").map { $0.trimmingCharacters(in: .whitespacesAndNewlines) }
        let pattern = try NSRegularExpression(pattern: #"(?<![\w.:/-])(\#(names.joined(separator: "|")))(\.[a-z_][a-z0-9_]*)+"#)
        let ns = text as NSString
        var found = Set<String>()
        for m in pattern.matches(in: text, range: NSRange(location: 0, length: ns.length)) {
            let name = ns.substring(with: m.range)
            if !name.hasSuffix(".lua") && !name.hasSuffix(".json") && !name.hasSuffix(".jsonl") { found.insert(name) }
        }
        XCTAssertGreaterThan(found.count, 0, "the command help names some Lua functions: \(text)")
        let check = found.sorted().map { "if (load('return \($0)'))() == nil then missing[#missing + 1] = '\($0)' end" }.joined(separator: "\n")
        let r = try runMoonlab(["--no-plugins", "-e", "missing = {}\n" + check + "\nreturn table.concat(missing, ', ')"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertEqual(r.stdout.trimmingCharacters(in: .whitespacesAndNewlines), "", "named in --help but missing (checked: \(found.sorted()))")
    }
}
