import LuaKit
import Workbench
#if canImport(Glibc)
import Glibc
#endif

/// What the prompt does with one entry, apart from the terminal: Lua in, output out,
/// `?name`/`??fn`/`:commands`/`!cmd` handled. The terminal prompt and `moonlab doctest`
/// both drive one, so what the docs show is what the prompt does.
final class PromptSession {
    private(set) var workbench: Workbench
    private(set) var evaluator: Evaluator
    let options: WorkbenchOptions
    /// Colours as the terminal allows them; `style` also honours `moonlab.color = false`.
    private let baseStyle: Style
    var style: Style { Style(enabled: baseStyle.enabled && workbench.setting("color") != "false") }
    /// True at a terminal: `!cmd` and `:edit` hand it to the program they run.
    let interactive: Bool
    /// Where the prompt's own messages, results and errors go (`print` goes through the
    /// workbench's output, which the caller sets to the same place).
    let write: (String) -> Void
    private(set) var entry = 0
    /// Entries evaluated in the current state (since the start or the last `:reset`).
    private var entriesInState = 0

    enum Outcome: Equatable { case done, incomplete, quit }

    init(options: WorkbenchOptions, style: Style, interactive: Bool, write: @escaping (String) -> Void) throws {
        self.options = options
        baseStyle = style
        self.interactive = interactive
        self.write = write
        workbench = try Workbench(options: options)
        evaluator = Evaluator(workbench)
    }

    /// A session over an existing workbench (the state `replay --step` left).
    init(workbench: Workbench, evaluator: Evaluator, entry: Int, style: Style) {
        options = workbench.options
        baseStyle = style
        interactive = true
        write = Platform.writeStdout
        self.workbench = workbench
        self.evaluator = evaluator
        self.entry = entry
    }

    /// Whether a line (the first of an entry) is a command rather than Lua.
    static func isCommand(_ line: String) -> Bool {
        let t = line.trimmingSpaces()
        return t.hasPrefix("?") || t.hasPrefix(":") || t.hasPrefix("!")
    }

    /// Runs one entry: a command, or Lua (which may be incomplete: then nothing ran).
    @discardableResult
    func submit(_ text: String) -> Outcome {
        if PromptSession.isCommand(text) { return command(text) }
        if text.allSatisfy({ $0.isWhitespace }) { return .done }
        return evaluate(text).status == .incomplete ? .incomplete : .done
    }

    /// Evaluates Lua as an entry and shows its result or error, then a warning for each
    /// built-in module the entry replaced.
    @discardableResult
    func evaluate(_ text: String) -> Evaluation {
        LuaInterrupt.clear()
        let r = evaluator.evaluate(text, entry: entry + 1)
        switch r.status {
        case .incomplete: return r
        case .ok:
            if !r.result.isEmpty { write(r.result + "\n") }
        case .error:
            // the terminal has echoed ^C without a newline
            let lead = interactive && (r.error ?? "").hasSuffix("interrupted") ? "\n" : ""
            var msg = lead + style.error(r.error ?? "error")
            if let tb = r.traceback { msg += "\n" + style.dim(tb) }
            write(msg + "\n")
        }
        entry += 1
        entriesInState += 1
        for w in workbench.builtinWarnings() { write(style.error(w) + "\n") }
        return r
    }

    /// Shows an error of a command (not an entry).
    func complain(_ message: String) { write(style.error(message) + "\n") }

    /// `?name`, `??fn`, `!cmd` and the `:commands` of `Help.promptCommands`.
    private func command(_ line: String) -> Outcome {
        let trimmed = line.trimmingSpaces()
        if trimmed.hasPrefix("??") {
            showSource(PromptSession.name(String(trimmed.dropFirst(2))))
            return .done
        }
        if trimmed.hasPrefix("?") {
            let name = PromptSession.name(String(trimmed.dropFirst()))
            evaluate(name.isEmpty ? "help()" : "help(\(quoteLua(name)))")
            return .done
        }
        if trimmed.hasPrefix("!") {
            runShell(String(trimmed.dropFirst()).trimmingSpaces())
            return .done
        }
        let parts = trimmed.dropFirst().split(separator: " ", maxSplits: 1).map(String.init)
        let command = parts.first ?? ""
        let rest = parts.count > 1 ? parts[1].trimmingSpaces() : ""
        switch command {
        case "q", "quit", "exit":
            return .quit
        case "help", "h":
            if rest.isEmpty { write(Help.promptCommandHelp) } else { evaluate("help(\(quoteLua(rest)))") }
        case "plugins":
            write(workbench.pluginListing() + "\n")
        case "load":
            guard !rest.isEmpty else { complain(":load needs a file"); return .done }
            guard !options.sandbox else { complain(":load reads a file, which is not allowed under --sandbox"); return .done }
            evaluate("dofile(\(quoteLua(rest)))")
        case "time":
            guard !rest.isEmpty else { complain(":time needs code to time (:time -n N -r R CODE to choose the counts)"); return .done }
            time(rest)
        case "whos":
            whos()
        case "edit":
            edit(rest)
        case "record":
            guard !rest.isEmpty else {
                write((workbench.recorder.map { "recording to \($0.path)" } ?? "not recording") + "\n")
                return .done
            }
            guard !options.sandbox else { complain(":record FILE writes a file, which is not allowed under --sandbox"); return .done }
            do {
                try workbench.startRecording(path: rest)
                write(style.dim("recording to \(rest)") + "\n")
                if entriesInState > 0 {
                    // a replay starts from a fresh state: what those entries defined is missing there
                    let n = entriesInState == 1 ? "the entry before is" : "the \(entriesInState) entries before are"
                    write(style.dim("(from here on: \(n) not in it, and its replay runs without them; " +
                                    "--record FILE at the start records a whole session)") + "\n")
                }
            } catch {
                complain("\(error)")
            }
        case "reset":
            reset()
        default:
            complain("unknown command :\(command) (:help lists them)")
        }
        return .done
    }

    /// A fresh state, as at start (what MOONLAB_INIT ran runs again); the recording (if any) goes on.
    func reset() {
        do {
            let recorder = workbench.recorder
            let initChunk = workbench.initChunk
            workbench = try Workbench(options: options)
            workbench.recorder = recorder
            evaluator = Evaluator(workbench)
            entriesInState = 0
            if let i = initChunk {
                do { try workbench.runInitChunk(name: i.name, code: i.code) } catch {
                    complain("MOONLAB_INIT: \(error)")
                }
                workbench.initChunk = i
            }
            write(style.dim("fresh state") + "\n")
        } catch {
            complain("reset failed: \(error)")
        }
    }

    /// The name after `?`/`??`, without a trailing Lua comment (`?rl.gae -- the doc`).
    static func name(_ s: String) -> String {
        var t = s
        if let r = t.range(of: "--") { t = String(t[..<r.lowerBound]) }
        return t.trimmingSpaces()
    }
}
