import AlignMath
import ArgumentParser
import LuaKit
import Workbench

/// `moonlab`: the prompt; `moonlab -e CODE`; `moonlab < script.lua`; and the subcommands.
@main
struct Moonlab: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "moonlab",
        abstract: "A Lua workbench for alignment research: rewards, samplers and detectors in Lua, the math in native Swift.",
        discussion: "With no command, starts the prompt (or, when standard input is not a terminal, runs it as a script).",
        version: Workbench.version,
        subcommands: [RunCommand.self, ScoreCommand.self, ServeCommand.self, ReplayCommand.self, PluginsCommand.self,
                      DocCommand.self, DoctestCommand.self, GenerateCommand.self, SynthCommand.self])

    @OptionGroup var global: GlobalOptions

    @Option(name: .customShort("e"), help: "Run a chunk and print what it returns (repeatable).")
    var execute: [String] = []

    @Flag(name: .customLong("no-record"), help: "Do not record this prompt session.")
    var noRecord = false

    @Option(name: .customLong("record"), help: "Record this prompt session to FILE (default: ~/.local/share/moonlab/sessions/<time>.jsonl).")
    var recordPath: String?

    /// Bare `moonlab` (the prompt, or a piped script) skips argument parsing: its
    /// reflection costs ~2 ms of start-up, and there is nothing to parse.
    static func main() {
        AlignMath.prepareBLAS()  // full-width kernels where OpenBLAS does not know this CPU
        AlignMath.parkBLASThreads()  // no spinning BLAS thread beside a process that has not asked for one
        if CommandLine.arguments.count == 1 {
            do {
                try runWithoutArguments(GlobalOptions.defaults, recordTo: SessionRecorder.defaultPath())
            } catch {
                exit(withError: error)
            }
            return
        }
        var command: ParsableCommand
        do {
            let (parsed, scriptArguments) = RunCommand.splitScriptArguments(Array(CommandLine.arguments.dropFirst()))
            command = try parseAsRoot(parsed)
            if let scriptArguments, var run = command as? RunCommand {
                run.arguments = scriptArguments
                command = run
            }
            try command.run()
        } catch {
            exit(withError: error)
        }
    }

    /// The prompt, or standard input run as a script when it is not a terminal.
    static func runWithoutArguments(_ global: GlobalOptions, recordTo: String?) throws {
        if !Platform.isTerminal(0) {
            var failure: String?
            do {
                let wb = try makeWorkbench(global)
                LuaInterrupt.installHandler(secondExits: true)
                withExtendedLifetime(wb) {
                    do {
                        wb.setArgTable(script: "stdin", arguments: [])
                        try wb.runChunk(Platform.readStandardInput(), name: "=stdin")
                    } catch let e as LuaError {
                        failure = scriptFailure(e)
                    } catch {
                        failure = "\(error)"
                    }
                    LuaInterrupt.clear()  // the state closes below and runs its finalizers
                }
            }
            if let failure { fail(failure) }
            return
        }
        try Prompt(options: global.workbenchOptions, recordTo: recordTo).run()
    }

    mutating func run() throws {
        if let recordPath, !execute.isEmpty || !Platform.isTerminal(0) {
            // a session is what is typed at the prompt: -e chunks and piped scripts are not one
            Platform.writeStderr("moonlab: --record \(recordPath): nothing is recorded with \(execute.isEmpty ? "standard input that is not a terminal" : "-e") (only a prompt session is)\n")
        }
        if !execute.isEmpty {
            var failure: String?
            do {
                let wb = try makeWorkbench(global)
                LuaInterrupt.installHandler(secondExits: true)
                let ev = Evaluator(wb)
                for (i, code) in execute.enumerated() {
                    let r = ev.evaluate(code, entry: i + 1, chunkName: "=(command line)")
                    switch r.status {
                    case .ok:
                        if !r.result.isEmpty { Platform.writeStdout(r.result + "\n") }
                    case .incomplete:
                        failure = "(command line): unfinished chunk"
                    case .error:
                        failure = (r.error ?? "error") + (r.traceback.map { "\n" + $0 } ?? "")
                    }
                    if failure != nil { break }
                }
                LuaInterrupt.clear()  // the state closes below and runs its finalizers
                withExtendedLifetime(ev) {}
            }
            if let failure { fail(failure) }
            return
        }
        try Moonlab.runWithoutArguments(global, recordTo: noRecord ? nil : (recordPath ?? SessionRecorder.defaultPath()))
    }
}

/// A workbench for a command, or exit 1 with the reason.
func makeWorkbench(_ global: GlobalOptions) throws -> Workbench {
    do {
        return try Workbench(options: global.workbenchOptions)
    } catch {
        fail("moonlab: could not start: \(error)")
    }
}

/// A script's error for standard error: message and traceback without the host's frames.
func scriptFailure(_ e: LuaError) -> String {
    guard let tb = e.traceback else { return e.message }
    let lines = tb.split(separator: "\n").filter { !$0.contains("[C]: in ?") }
    return e.message + "\n" + lines.joined(separator: "\n")
}

/// Every failure of a command ends here: the message on standard error, exit status 1.
func fail(_ message: String) -> Never {
    Platform.writeStderr("moonlab: " + message + "\n")
    Moonlab.exit(withError: ExitCode(1))
}
