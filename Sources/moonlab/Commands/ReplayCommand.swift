import ArgumentParser
import Foundation
import LuaKit
import Workbench

/// `moonlab replay SESSION.jsonl`: re-run a recorded session and report divergences.
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a recorded session in a fresh state and compare every output (exit 1 on divergence).",
        discussion: "The random generators are seeded with the seed the session recorded.")

    // Not GlobalOptions: a replay always uses the seed its session recorded, so it takes no --seed.
    @OptionGroup var plugins: PluginOptions

    @Argument(help: "The session file (JSON Lines).")
    var file: String

    @Flag(help: "Rewrite the file with the new outputs.")
    var update = false

    @Option(help: "Relative tolerance for numbers inside outputs (default: exact).")
    var tolerance: Double?

    @Flag(help: "Replay at the prompt, one entry per Enter; the state stays live afterwards.")
    var step = false

    @Flag(help: "Print the session as a Lua script (failed entries as comments) instead of replaying.")
    var export = false

    @Option(help: "How many divergences to show.")
    var show: Int = 5

    mutating func run() throws {
        let session: SessionFormat.File
        do { session = try SessionFormat.read(path: file) } catch { fail("\(error)") }
        if export {
            do { Platform.writeStdout(try SessionExport.script(session)) } catch { fail("\(error)") }
            return
        }
        var options = plugins.workbenchOptions
        options.seed = session.header.seed
        if !step { options.output = { _ in } }
        let replayer: Replayer
        do { replayer = try Replayer(file: session, options: options) } catch { fail("\(error)") }
        replayer.tolerance = tolerance
        let style = Style(enabled: Platform.wantsColor(2))
        let problems = replayer.pluginProblems(loaded: replayer.workbench.loadedPlugins())
        if !problems.isEmpty {
            fail("cannot replay \(file):\n  " + problems.joined(separator: "\n  "))
        }
        if !session.unreadableLines.isEmpty {
            Platform.writeStderr(style.dim("note: skipped unreadable line(s) \(session.unreadableLines.map(String.init).joined(separator: ", ")) (cut by a crash?)") + "\n")
        }
        if step {
            try Prompt.stepThrough(replayer)
            return
        }
        LuaInterrupt.installHandler(secondExits: true)
        let report = replayer.run()
        if report.interrupted { fail("replay interrupted after \(report.entries) of \(session.entries.count) entries") }
        if update {
            do { try replayer.writeUpdated(to: file) } catch { fail("\(error)") }
            Platform.writeStdout("updated \(file): \(report.entries) entries, \(report.divergences.count) changed\n")
            return
        }
        for d in report.divergences.prefix(show) {
            var text = style.error("entry \(d.n) diverged") + ": " + d.input.replacingNewlinesForDisplay() + "\n"
            if d.expected.filter({ $0 == "\n" }).count > 3 || d.actual.filter({ $0 == "\n" }).count > 3 {
                text += OutputComparison.diff(d.expected, d.actual) + "\n"
            } else {
                text += "  expected: " + d.expected.debugTrimmed() + "\n  actual:   " + d.actual.debugTrimmed() + "\n"
            }
            Platform.writeStderr(text)
        }
        if report.divergences.count > show {
            Platform.writeStderr("... and \(report.divergences.count - show) more divergences\n")
        }
        let ms = String(format: "%.0f", report.seconds * 1000)
        if report.passed {
            Platform.writeStdout("replayed \(report.entries) entries in \(ms) ms: no divergence\n")
        } else {
            Platform.writeStdout("replayed \(report.entries) entries in \(ms) ms: \(report.divergences.count) diverged\n")
            throw ExitCode(1)
        }
    }
}

extension String {
    func replacingNewlinesForDisplay() -> String {
        let one = split(separator: "\n").joined(separator: " ⏎ ")
        return one.count > 80 ? String(one.prefix(77)) + "..." : one
    }

    func debugTrimmed() -> String {
        var s = self
        if s.hasSuffix("\n") { s.removeLast() }
        return s.replacingAll("\n", with: "\\n")
    }
}
