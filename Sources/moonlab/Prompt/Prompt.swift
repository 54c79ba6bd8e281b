import LuaKit
import Workbench
#if canImport(Glibc)
import Glibc
#endif

/// The interactive prompt at a terminal: libedit editing and history, completion, lua.c's
/// rules for incomplete chunks, Ctrl-C that drops the line or stops running code (never
/// exits). What an entry does (Lua, `?name`, `:commands`) is `PromptSession`'s.
final class Prompt {
    private let session: PromptSession
    private let style = Style.terminal
    private let recordTo: String?

    init(options: WorkbenchOptions, recordTo: String?) throws {
        self.recordTo = recordTo
        session = try PromptSession(options: options, style: Style.terminal, interactive: true, write: Platform.writeStdout)
    }

    /// A prompt over an existing workbench (after `replay --step`).
    private init(workbench: Workbench, evaluator: Evaluator, entry: Int) {
        recordTo = nil
        session = PromptSession(workbench: workbench, evaluator: evaluator, entry: entry, style: Style.terminal)
    }

    private var workbench: Workbench { session.workbench }

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
        guard let editor = LineEditor(historyPath: Prompt.historyPath) else {
            fail("could not open the line editor")
        }
        editor.setCompleter { [unowned self] before in
            let c = Completer(self.workbench.lua).complete(before)
            return (c.replace, c.candidates)
        }
        runInit()
        startRecording()  // after MOONLAB_INIT: the header holds what it ran
        if banner, workbench.setting("banner") != "false" {
            Platform.writeStdout(style.bold("moonlab \(Workbench.version)") + " (Lua 5.4) " +
                style.dim("help() lists the modules, ?name shows a doc, :help the commands, Ctrl-D quits") + "\n")
        }
        var pending = ""
        while true {
            let promptText = (pending.isEmpty ? workbench.setting("prompt") : workbench.setting("prompt2")) ?? "> "
            switch editor.read(prompt: session.style.prompt(promptText)) {
            case .endOfInput:
                if pending.isEmpty { Platform.writeStdout("\n"); return }
                pending = ""
                Platform.writeStdout("\n")
            case .interrupted:
                pending = ""
                Platform.writeStdout("^C\n")
            case .line(let line), .paste(let line):
                if pending.isEmpty, PromptSession.isCommand(line) {
                    editor.addHistory(line)
                    if session.submit(line) == .quit { return }
                    continue
                }
                let text = pending.isEmpty ? line : pending + "\n" + line
                if text.allSatisfy({ $0.isWhitespace }) { pending = ""; continue }
                if session.submit(text) == .incomplete { pending = text; continue }
                pending = ""
                editor.addHistory(text)
            }
        }
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
            try workbench.runInit(initCode)
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
