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

    @Argument(parsing: .allUnrecognized, help: "Arguments for the script (after FILE; use -- before ones that look like moonlab options).")
    var arguments: [String] = []

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
