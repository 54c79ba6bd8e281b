import LuaKit
import Workbench
#if canImport(Glibc)
import Glibc
#endif

/// The interactive prompt: libedit editing and history, completion, lua.c's rules for
/// incomplete chunks, Ctrl-C that drops the line or stops running code (never exits),
/// `?name` help and `:commands`.
final class Prompt {
    private var workbench: Workbench
    private var evaluator: Evaluator
    private let options: WorkbenchOptions
    private var style = Style.terminal
    private var entry = 0

    private let recordTo: String?

    init(options: WorkbenchOptions, recordTo: String?) throws {
        self.options = options
        self.recordTo = recordTo
        workbench = try Workbench(options: options)
        evaluator = Evaluator(workbench)
    }

    /// A prompt over an existing workbench (after `replay --step`).
    private init(workbench: Workbench, evaluator: Evaluator, entry: Int) {
        options = workbench.options
        recordTo = nil
        self.workbench = workbench
        self.evaluator = evaluator
        self.entry = entry
    }

    /// `replay --step`: each Enter replays one entry and shows it beside its record; when
    /// all are done (or on `c`), the prompt continues in the replayed state.
    static func stepThrough(_ replayer: Replayer) throws {
        LuaInterrupt.installHandler()
        let style = Style.terminal
        guard let editor = LineEditor(historyPath: nil) else { fail("could not open the line editor") }
        var last = 0
        stepping: while replayer.hasNext {
            switch editor.read(prompt: style.prompt("[Enter] next entry, c: continue at the prompt > ")) {
            case .line(let l) where l.trimmingSpaces() == "c": break stepping
            case .endOfInput: return
            default: break
            }
            let (e, r, d) = replayer.step()
            last = e.n
            Platform.writeStdout(style.accent("[\(e.n)] ") + e.input + "\n")
            if !r.output.isEmpty { Platform.writeStdout(r.output) }
            if let err = r.error { Platform.writeStdout(style.error(err) + "\n") }
            if let d { Platform.writeStdout(style.error("diverged; recorded: ") + d.expected.debugTrimmed() + "\n") }
        }
        Platform.writeStdout(style.dim("replay done; the state is live") + "\n")
        let p = Prompt(workbench: replayer.workbench, evaluator: replayer.evaluator, entry: last)
        try p.run(banner: false)
    }

    static var historyPath: String {
        Platform.environment("MOONLAB_HISTORY") ?? Platform.home + "/.moonlab_history"
    }

    func run(banner: Bool = true) throws {
        LuaInterrupt.installHandler()
        startRecording()
        guard let editor = LineEditor(historyPath: Prompt.historyPath) else {
            fail("could not open the line editor")
        }
        editor.setCompleter { [unowned self] before in
            let c = Completer(self.workbench.lua).complete(before)
            return (c.replace, c.candidates)
        }
        runInit()
        if banner, workbench.setting("banner") != "false" {
            Platform.writeStdout(style.bold("moonlab \(Workbench.version)") + " (Lua 5.4) " +
                style.dim("help() lists the modules, ?name shows a doc, :help the commands, Ctrl-D quits") + "\n")
        }
        var pending = ""
        while true {
            let promptText = (pending.isEmpty ? workbench.setting("prompt") : workbench.setting("prompt2")) ?? "> "
            switch editor.read(prompt: style.prompt(promptText)) {
            case .endOfInput:
                if pending.isEmpty { Platform.writeStdout("\n"); return }
                pending = ""
                Platform.writeStdout("\n")
            case .interrupted:
                pending = ""
                Platform.writeStdout("^C\n")
            case .line(let line), .paste(let line):
                let text = pending.isEmpty ? line : pending + "\n" + line
                if pending.isEmpty, handleCommand(line, editor: editor) { continue }
                if text.allSatisfy({ $0.isWhitespace }) { pending = ""; continue }
                let r = evaluate(text)
                if r.status == .incomplete { pending = text; continue }
                pending = ""
                editor.addHistory(text)
                if case .quit = lastCommand { return }
            }
        }
    }

    private enum CommandOutcome { case none, quit }
    private var lastCommand = CommandOutcome.none

    /// Evaluates an entry and shows its result or error.
    @discardableResult
    private func evaluate(_ text: String) -> Evaluation {
        LuaInterrupt.clear()
        let r = evaluator.evaluate(text, entry: entry + 1)
        switch r.status {
        case .incomplete: break
        case .ok:
            entry += 1
            if !r.result.isEmpty { Platform.writeStdout(r.result + "\n") }
        case .error:
            entry += 1
            // the terminal has echoed ^C without a newline
            let lead = (r.error ?? "").hasSuffix("interrupted") ? "\n" : ""
            var msg = lead + style.error(r.error ?? "error")
            if let tb = r.traceback { msg += "\n" + style.dim(tb) }
            Platform.writeStdout(msg + "\n")
        }
        return r
    }

    /// `?name`, `:help`, `:load`, `:time`, `:reset`, `:quit`. Returns true if the line
    /// was a command.
    private func handleCommand(_ line: String, editor: LineEditor) -> Bool {
        let trimmed = line.trimmingSpaces()
        if trimmed.hasPrefix("?") {
            let name = String(trimmed.dropFirst()).trimmingSpaces()
            evaluate(name.isEmpty ? "help()" : "help(\(quoteLua(name)))")
            editor.addHistory(line)
            return true
        }
        guard trimmed.hasPrefix(":") else { return false }
        let parts = trimmed.dropFirst().split(separator: " ", maxSplits: 1).map(String.init)
        let command = parts.first ?? ""
        let rest = parts.count > 1 ? parts[1].trimmingSpaces() : ""
        editor.addHistory(line)
        switch command {
        case "q", "quit", "exit":
            Platform.writeStdout("")
            exit(0)
        case "help", "h":
            if rest.isEmpty {
                Platform.writeStdout("""
                    :help [topic]   this list, or the doc of a module or function (as ?topic)
                    :load FILE      run a Lua file in this session
                    :plugins        the plugins found: version, status, folder (plugin.list() as data)
                    :record [FILE]  where this session is recorded, or record to FILE from now
                    :time EXPR      time an expression (median, min, max of 5 runs)
                    :reset          start over with a fresh state
                    :quit           leave (or Ctrl-D)
                    ?name           the doc of a function or module; help() lists the modules
                    Ctrl-C drops the line being typed, or stops running code.

                    """)
            } else {
                evaluate("help(\(quoteLua(rest)))")
            }
        case "plugins":
            Platform.writeStdout(workbench.pluginListing() + "\n")
        case "load":
            guard !rest.isEmpty else { Platform.writeStdout(style.error(":load needs a file") + "\n"); return true }
            evaluate("dofile(\(quoteLua(rest)))")
        case "time":
            guard !rest.isEmpty else { Platform.writeStdout(style.error(":time needs an expression") + "\n"); return true }
            let code = "local m, lo, hi = timeit(function() return \(rest)\n end, {runs = 5, warmup = 1}) " +
                "return string.format('median %s  (min %s, max %s, 5 runs)', moonlab_fmt_time(m), moonlab_fmt_time(lo), moonlab_fmt_time(hi))"
            ensureTimeFormatter()
            evaluate(code)
        case "record":
            guard !rest.isEmpty else {
                Platform.writeStdout((workbench.recorder.map { "recording to \($0.path)" } ?? "not recording") + "\n")
                return true
            }
            do {
                try workbench.startRecording(path: rest)
                Platform.writeStdout(style.dim("recording to \(rest)") + "\n")
            } catch {
                Platform.writeStdout(style.error("\(error)") + "\n")
            }
        case "reset":
            do {
                let recorder = workbench.recorder
                workbench = try Workbench(options: options)
                workbench.recorder = recorder
                evaluator = Evaluator(workbench)
                Platform.writeStdout(style.dim("fresh state") + "\n")
            } catch {
                Platform.writeStdout(style.error("reset failed: \(error)") + "\n")
            }
        default:
            Platform.writeStdout(style.error("unknown command :\(command) (:help lists them)") + "\n")
        }
        return true
    }

    private func ensureTimeFormatter() {
        _ = try? workbench.lua.run("""
            function moonlab_fmt_time(s)
              if s < 1e-6 then return string.format('%.0f ns', s * 1e9)
              elseif s < 1e-3 then return string.format('%.2f us', s * 1e6)
              elseif s < 1 then return string.format('%.2f ms', s * 1e3)
              else return string.format('%.3f s', s) end
            end
            """, name: "=moonlab")
    }

    /// Starts the default recording, unless `--no-record`.
    private func startRecording() {
        guard let path = recordTo else { return }
        do { try workbench.startRecording(path: path) } catch {
            Platform.writeStdout(style.error("not recording: \(error)") + "\n")
        }
    }

    /// `MOONLAB_INIT`: code, or `@file`, run before the first prompt.
    private func runInit() {
        guard let initCode = Platform.environment("MOONLAB_INIT"), !initCode.isEmpty else { return }
        do {
            if initCode.hasPrefix("@") {
                try workbench.runFile(String(initCode.dropFirst()))
            } else {
                try workbench.runChunk(initCode, name: "=MOONLAB_INIT")
            }
        } catch {
            Platform.writeStdout(style.error("MOONLAB_INIT: \(error)") + "\n")
        }
    }
}

func quoteLua(_ s: String) -> String {
    "\"" + s.replacingAll("\\", with: "\\\\").replacingAll("\"", with: "\\\"").replacingAll("\n", with: "\\n") + "\""
}

extension String {
    func trimmingSpaces() -> String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s.removeFirst() }
        while let l = s.last, l.isWhitespace { s.removeLast() }
        return String(s)
    }

    func replacingAll(_ target: String, with replacement: String) -> String {
        guard !target.isEmpty else { return self }
        var out = ""
        var rest = Substring(self)
        while let r = rest.range(of: target) {
            out += rest[..<r.lowerBound] + replacement
            rest = rest[r.upperBound...]
        }
        return out + rest
    }
}
