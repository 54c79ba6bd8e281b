import ArgumentParser
import LuaKit
import Workbench

/// `moonlab run FILE [ARGS...]`: as `lua5.4 FILE ARGS...`, with every moonlab module.
struct RunCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Run a Lua script; arg[0] is FILE, arg[1].. the ARGS. Exit status 1 if it fails.")

    @OptionGroup var global: GlobalOptions

    @Argument(help: "The script.")
    var file: String

    @Argument(parsing: .allUnrecognized, help: "Arguments for the script: everything after FILE, options included, as lua5.4 passes them.")
    var arguments: [String] = []

    /// Splits `moonlab ... run [OPTIONS] FILE ARGS...` after FILE, as lua5.4 does: what follows
    /// FILE is the script's, even `--seed` or `--help` (ArgumentParser would take the options
    /// it knows wherever they stand, and a script's own `--seed` would silently reseed moonlab).
    /// Returns the arguments to parse (up to FILE) and the script's, or nil when the command
    /// line is not `run` with a FILE.
    static func splitScriptArguments(_ args: [String]) -> (parse: [String], script: [String]?) {
        let withValue: Set<String> = ["--seed", "--plugin-path", "-e", "--record"]
        var i = 0
        var inRun = false
        while i < args.count {
            let a = args[i]
            if a == "--" {
                // A terminator: the next argument is FILE (for run) or the root's positional.
                guard inRun, i + 1 < args.count else { return (args, nil) }
                return (Array(args[...(i + 1)]), Array(args[(i + 2)...]))
            }
            if a.hasPrefix("-") {
                i += withValue.contains(a) ? 2 : 1
                continue
            }
            if !inRun {
                guard a == "run" else { return (args, nil) }
                inRun = true
                i += 1
                continue
            }
            return (Array(args[...i]), Array(args[(i + 1)...]))
        }
        return (args, nil)
    }

    mutating func run() throws {
        var failure: String?
        do {
            let wb = try makeWorkbench(global)
            LuaInterrupt.installHandler(secondExits: true)  // Ctrl-C stops the script with an error
            withExtendedLifetime(wb) {
                do { try wb.runFile(file, arguments: arguments) } catch let e as LuaError { failure = scriptFailure(e) } catch {
                    failure = "\(error)"
                }
                LuaInterrupt.clear()  // the state closes below: its finalizers run, as lua.c closes it
            }
        }
        if let failure { fail(failure) }
    }
}
