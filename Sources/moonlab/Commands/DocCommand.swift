import ArgumentParser
import Workbench

/// `moonlab doc [NAME]`: a docstring from the shell, as `help(NAME)` prints it; with
/// `--markdown`, the reference of every module and function (Docs/reference.md).
struct DocCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doc",
        abstract: "Print the doc of a module or function (as help(NAME)), or with --markdown the whole Lua reference.",
        discussion: "The repository's Docs/reference.md is `moonlab doc --markdown > Docs/reference.md` (plugins are not loaded).")

    @Argument(help: "A module or function, e.g. rl.gae (default: the list of modules).")
    var name: String?

    @Flag(help: "Print the reference of every module and function as Markdown.")
    var markdown = false

    mutating func run() throws {
        var options = GlobalOptions.defaults.workbenchOptions
        options.loadPlugins = false
        let wb: Workbench
        do { wb = try Workbench(options: options) } catch { fail("could not start: \(error)") }
        if markdown {
            guard name == nil else { fail("doc: --markdown prints every module; leave out NAME") }
            Platform.writeStdout(Help.markdownReference(wb.lua))
            return
        }
        guard let name else { Platform.writeStdout(Help.overview(wb.lua) + "\n"); return }
        guard Help.pushPath(wb.lua, name) else { fail("doc: no such name '\(name)'") }
        Platform.writeStdout(Help.text(wb.lua, at: -1) + "\n")
    }
}
