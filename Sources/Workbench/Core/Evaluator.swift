import LuaKit

/// What one piece of input produced.
public struct Evaluation {
    public enum Status: Equatable { case ok, error, incomplete }
    public var status: Status
    /// What `print` wrote while the entry ran.
    public var printed = ""
    /// The results, formatted and tab-separated ("" when none or suppressed with `;`).
    public var result = ""
    /// The error message (`[3]:1: boom`).
    public var error: String?
    /// The traceback, trimmed of the host's frames (nil when it adds nothing).
    public var traceback: String?
    public var seconds = 0.0

    /// Everything the entry showed, as a session records it.
    public var output: String { result.isEmpty ? printed : printed + result + "\n" }
}

/// Turns one piece of input into output with lua.c's rules: `return <input>` is tried
/// first (an expression prints), then statements with a last expression after a `;`
/// (`x = 1; x + 1` prints 2), then the input as statements; a syntax error ending in
/// `<eof>` means the chunk is incomplete; a trailing `;` suppresses the print; `_` holds
/// the last result.
public final class Evaluator {
    public let workbench: Workbench
    var lua: LuaState { workbench.lua }

    public init(_ workbench: Workbench) { self.workbench = workbench }

    /// Evaluates `input` as entry number `entry` (its chunk is named `[entry]`).
    public func evaluate(_ input: String, entry: Int, chunkName: String? = nil) -> Evaluation {
        let name = chunkName ?? "=[\(entry)]"
        var code = input
        let quiet = Evaluator.endsWithSemicolon(input)
        if quiet { code = Evaluator.droppingTrailingSemicolon(input) }
        do {
            do {
                try lua.load("return " + code + ";", name: name)
            } catch {
                // statements then an expression after a `;` (`x = 1; x + 1`) print its value
                if let last = TopLevelStatements.returningLast(code), (try? lua.load(last, name: name)) != nil {
                } else {
                    try lua.load(input, name: name)
                }
            }
        } catch let e as LuaError {
            if e.isIncompleteChunk { return Evaluation(status: .incomplete) }
            let r = Evaluation(status: .error, error: e.message)
            workbench.recorder?.record(input: input, evaluation: r, clock: [])
            return r
        } catch {
            return Evaluation(status: .error, error: "\(error)")
        }
        workbench.rememberChunk(name, input)
        let r = run(quiet: quiet)
        workbench.recorder?.record(input: input, evaluation: r, clock: workbench.clock.observed,
                                   model: workbench.modelTap.observed)
        return r
    }

    /// Calls the compiled chunk on top of the stack. Stack: [f] -> [].
    private func run(quiet: Bool) -> Evaluation {
        let base = lua.top - 1
        if !workbench.options.replaying {
            workbench.clock.begin(replaying: nil)
            workbench.modelTap.begin(replaying: nil)
        }
        lua.resetBudget()
        workbench.beginCapture()
        let start = Clock.now()
        var ev = Evaluation(status: .ok)
        do {
            try lua.pcall(nargs: 0)
            let n = lua.top - base
            if n > 0 {
                lua.pushValue(at: base + 1)
                lua.setGlobal("_")
                if !quiet {
                    let printer = PrettyPrinter(lua, limits: workbench.printLimits)
                    ev.result = (1...n).map { printer.format(at: base + $0) }.joined(separator: "\t")
                }
            }
            lua.top = base
        } catch let e as LuaError {
            lua.top = base
            ev.status = .error
            ev.error = e.message
            ev.traceback = Evaluator.trim(e.traceback)
        } catch {
            lua.top = base
            ev.status = .error
            ev.error = "\(error)"
        }
        ev.seconds = Clock.now() - start
        ev.printed = workbench.endCapture()
        return ev
    }

    static func endsWithSemicolon(_ s: String) -> Bool {
        s.reversed().first { !$0.isWhitespace } == ";"
    }

    static func droppingTrailingSemicolon(_ s: String) -> String {
        var chars = Array(s)
        while let last = chars.last, last.isWhitespace { chars.removeLast() }
        if chars.last == ";" { chars.removeLast() }
        return String(chars)
    }

    /// Drops the host's frames (`[C]: in ?`) and returns nil when what is left says no
    /// more than the message (an error raised directly in the entry).
    static func trim(_ traceback: String?) -> String? {
        guard let tb = traceback else { return nil }
        let lines = tb.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
        let frames = lines.dropFirst().filter { !$0.contains("[C]: in ?") }
        // native frames and the entry's own main chunk say nothing the message does not
        let informative = frames.filter { !$0.contains("in main chunk") && !$0.contains("[C]:") }
        if informative.isEmpty { return nil }
        return (["stack traceback:"] + frames).joined(separator: "\n")
    }
}
