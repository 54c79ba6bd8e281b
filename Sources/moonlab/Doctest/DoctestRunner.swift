import Foundation
import LuaKit
import Workbench
#if canImport(Glibc)
import Glibc
#endif

/// Runs the examples of one Markdown file (the convention is in `DocBlock`) the way a
/// reader would type them: prompt blocks and scripts in one state through the prompt's
/// own `PromptSession`, console blocks through `sh`, all in a scratch folder that has
/// the repository's `Examples` and `Scripts` beside it and its own `HOME`.
final class DoctestRunner {
    struct Failure { var line: Int; var message: String }

    let path: String
    private(set) var examples = 0
    private(set) var skipped = 0
    private(set) var failures: [Failure] = []
    private var captured = ""
    private var session: PromptSession?
    private let scratch: String
    /// An example stops (and fails) after this long.
    private let watchdog: Watchdog

    init(path: String, timeout: Double) throws {
        self.path = path
        watchdog = Watchdog(seconds: timeout)
        var template = Array(((Platform.environment("TMPDIR") ?? "/tmp") + "/moonlab-doctest-XXXXXX").utf8CString)
        guard let dir = template.withUnsafeMutableBufferPointer({ b in b.baseAddress.flatMap { mkdtemp($0) }.map { String(cString: $0) } }) else {
            throw DoctestError(message: "cannot make a scratch folder")
        }
        scratch = dir
    }

    deinit { try? FileManager.default.removeItem(atPath: scratch) }

    /// Expected output to write back with `--fix`: the file's lines [first, first + count)
    /// become `lines`.
    private(set) var fixes: [(first: Int, count: Int, lines: [String])] = []

    /// Runs every block; failures are collected, never thrown.
    func run() throws {
        guard let text = Platform.readFile(path) else { throw DoctestError(message: "cannot read \(path)") }
        checkLinks(text)
        try prepareScratch()
        let previous = FileManager.default.currentDirectoryPath
        guard FileManager.default.changeCurrentDirectoryPath(scratch) else {
            throw DoctestError(message: "cannot enter the scratch directory \(scratch)")
        }
        defer { _ = FileManager.default.changeCurrentDirectoryPath(previous) }
        for block in DocBlock.parse(text) {
            if block.fresh { session = nil }
            switch block.kind {
            case .prompt:
                for ex in block.promptExamples() { runEntry(ex) }
            case .script:
                runScript(block.scriptExample())
            case .console:
                for ex in block.consoleExamples() { runCommand(ex) }
            case .file(let name):
                writeFile(name, block.lines.joined(separator: "\n") + "\n", line: block.line)
            case .skipped(let reason):
                skipped += 1
                if reason.isEmpty { fail(block.line, "a skipped block must say why: ```\(block.language) skip: REASON") }
            case .shown:
                if let l = block.runnableLooking.first {
                    fail(block.line, "this ```\(block.language) block shows prompt or shell lines (\(l)): fence it ```lua or ```console so it runs, or mark it ```\(block.language) skip: REASON")
                }
            }
        }
    }

    // MARK: running

    private func promptSession() -> PromptSession? {
        if let s = session { return s }
        var o = GlobalOptions.defaults.workbenchOptions
        o.output = { [unowned self] in self.captured += $0 }
        o.pictureSize = (80, 23)
        do {
            let s = try PromptSession(options: o, style: Style(enabled: false), interactive: false) { [unowned self] in self.captured += $0 }
            session = s
            return s
        } catch {
            fail(0, "cannot start a workbench: \(error)")
            return nil
        }
    }

    private func runEntry(_ ex: DocExample) {
        guard let s = promptSession() else { return }
        examples += 1
        captured = ""
        var outcome = PromptSession.Outcome.done
        if watchdog.guarding({ outcome = s.submit(ex.input) }) {
            fail(ex.line, "stopped after \(Int(watchdog.seconds)) s:\n" + indent("> " + ex.input))
            return
        }
        if outcome == .incomplete {
            fail(ex.line, "the entry is not a complete chunk:\n" + indent("> " + ex.input))
            return
        }
        compare(ex, shownAs: "> " + ex.input.replacingOccurrences(of: "\n", with: "\n>> "))
        if outcome == .quit { session = nil }
    }

    private func runScript(_ ex: DocExample) {
        guard let s = promptSession() else { return }
        examples += 1
        captured = ""
        // Blank lines before the code make Lua's line numbers the Markdown file's.
        let padded = String(repeating: "\n", count: max(0, ex.line - 1)) + ex.input
        var failure: Error?
        if watchdog.guarding({ do { try s.workbench.runChunk(padded, name: "=" + (path as NSString).lastPathComponent) } catch { failure = error } }) {
            fail(ex.line - 1, "the script was stopped after \(Int(watchdog.seconds)) s")
            return
        }
        if let error = failure {
            let message = (error as? LuaError)?.message ?? "\(error)"
            fail(ex.line - 1, "the script failed:\n" + indent(message) + (captured.isEmpty ? "" : "\nafter printing:\n" + indent(captured)))
            return
        }
        if ex.checksOutput { compare(ex, shownAs: "(the script)", fixable: false) }
    }

    private func runCommand(_ ex: DocExample) {
        examples += 1
        let r = ShellCommand.run(ex.input, capture: true)
        captured = r.output
        compare(ex, shownAs: "$ " + ex.input)
    }

    private func compare(_ ex: DocExample, shownAs input: String, fixable: Bool = true) {
        let got = OutputMatch.lines(Workbench.strippingANSI(captured))
        guard !OutputMatch.matches(expected: ex.expected, actual: got) else { return }
        let want = OutputMatch.lines(ex.expected.joined(separator: "\n"))
        if fixable {
            // the expected lines follow the input's lines; blank lines after them stay
            let first = ex.line + ex.input.split(separator: "\n", omittingEmptySubsequences: false).count
            let pad = String(repeating: " ", count: ex.indent)
            fixes.append((first, want.count, got.map { $0.isEmpty ? $0 : pad + $0 }))
        }
        fail(ex.line, input + "\nexpected:\n" + indent(want.isEmpty ? "(no output)" : want.joined(separator: "\n"))
             + "\ngot:\n" + indent(got.isEmpty ? "(no output)" : got.joined(separator: "\n")))
    }

    private func fail(_ line: Int, _ message: String) {
        failures.append(Failure(line: line, message: message))
    }

    private func indent(_ s: String) -> String {
        s.split(separator: "\n", omittingEmptySubsequences: false).map { "    " + $0 }.joined(separator: "\n")
    }

    /// Writes the output moonlab printed into the file where an example's differed
    /// (`doctest --fix`; scripts' `-->` lines are left for a person). Returns how many.
    func applyFixes() throws -> Int {
        guard !fixes.isEmpty, let text = Platform.readFile(path) else { return 0 }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        for f in fixes.sorted(by: { $0.first > $1.first }) {
            let start = f.first - 1
            guard start >= 0, start + f.count <= lines.count else { continue }
            lines.replaceSubrange(start..<(start + f.count), with: f.lines)
        }
        try lines.joined(separator: "\n").write(toFile: path, atomically: true, encoding: .utf8)
        return fixes.count
    }

    /// Relative links must name files of the repository (or beside the page).
    private func checkLinks(_ text: String) {
        let base = URL(fileURLWithPath: path).deletingLastPathComponent()
        let root = DoctestRunner.repositoryRoot(of: path)
        for link in DocLinks.relative(text) {
            let file = String(link.target.split(separator: "#", maxSplits: 1).first ?? "")
            guard !file.isEmpty else { continue }
            let target = URL(fileURLWithPath: file, relativeTo: base).standardizedFileURL.path
            if let root, !(target == root || target.hasPrefix(root + "/")) {
                fail(link.line, "the link \(link.target) leaves the repository")
            } else if !FileManager.default.fileExists(atPath: target) {
                fail(link.line, "the link \(link.target) names no file")
            }
        }
    }

    // MARK: the scratch folder

    /// `HOME` and links to the repository's `Examples` and `Scripts` (found above the
    /// Markdown file), so paths in the docs are the paths a reader at the repository's
    /// root types.
    private func prepareScratch() throws {
        let fm = FileManager.default
        try fm.createDirectory(atPath: scratch + "/home", withIntermediateDirectories: true)
        if let root = DoctestRunner.repositoryRoot(of: path) {
            for name in ["Examples", "Scripts"] where fm.fileExists(atPath: root + "/" + name) {
                try fm.createSymbolicLink(atPath: scratch + "/" + name, withDestinationPath: root + "/" + name)
            }
        }
        setenv("HOME", scratch + "/home", 1)
        unsetenv("XDG_DATA_HOME")  // ~/.local/share (plugins, sessions) is the scratch HOME's
    }

    /// The nearest folder above `file` that holds a Package.swift.
    static func repositoryRoot(of file: String) -> String? {
        var url = URL(fileURLWithPath: file).standardizedFileURL.deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.path + "/Package.swift") { return url.path }
            url = url.deletingLastPathComponent()
        }
        return nil
    }

    /// A `file=` block: `~/x` is in the scratch HOME, anything else relative to the scratch folder.
    private func writeFile(_ name: String, _ contents: String, line: Int) {
        let target = name.hasPrefix("~/") ? scratch + "/home/" + name.dropFirst(2) : scratch + "/" + name
        let url = URL(fileURLWithPath: target)
        guard url.standardizedFileURL.path.hasPrefix(scratch) else { fail(line, "file=\(name) is outside the scratch folder"); return }
        do {
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try contents.write(to: url, atomically: true, encoding: .utf8)
        } catch {
            fail(line, "cannot write \(name): \(error)")
        }
    }
}

struct DoctestError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}
