import ArgumentParser
import LuaKit
import Workbench

/// `moonlab plugins [list | info NAME | test NAME]`.
struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List plugins, show one, or run its spec.",
        discussion: """
            list (the default): every plugin found, its version, status and folder.
            info NAME: its manifest, where it came from, what it provides, why it failed.
            test NAME: runs the plugin's spec.lua and prints each check; exit status 1 if any fails.
            """)

    @OptionGroup var global: GlobalOptions

    @Argument(help: "list, info or test.")
    var action: String = "list"

    @Argument(help: "The plugin (for info and test).")
    var name: String?

    mutating func run() throws {
        var options = global.workbenchOptions
        options.loadPlugins = !global.noPlugins
        let wb: Workbench
        do { wb = try Workbench(options: options) } catch { fail("could not start: \(error)") }
        switch action {
        case "list":
            Platform.writeStdout(wb.pluginListing() + "\n")
        case "info":
            Platform.writeStdout(try plugin(wb).infoText + "\n")
        case "test":
            try test(wb, plugin(wb))
        default:
            fail("plugins: unknown action '\(action)' (list, info NAME, test NAME)")
        }
    }

    private func plugin(_ wb: Workbench) throws -> PluginRecord {
        guard let name else { fail("plugins \(action): which plugin? (moonlab plugins \(action) NAME)") }
        guard let m = PluginManager.of(wb.lua) else { fail("plugins are not available") }
        m.discoverIfNeeded(wb.lua)
        guard let r = m.record(named: name) else { fail("plugins: \(PluginError.unknown(name))") }
        return r
    }

    /// Loads the plugin (if --no-plugins kept it out), runs its spec.lua with spec.verbose.
    private func test(_ wb: Workbench, _ r: PluginRecord) throws {
        guard let m = PluginManager.of(wb.lua) else { fail("plugins are not available") }
        do { try m.load(wb.lua, r) } catch { fail("plugin '\(r.name)' did not load: \(error)") }
        Platform.writeStdout("\(r.name) \(r.manifest.map { $0.version.description } ?? "")  \(r.specPath)\n")
        do {
            try wb.runChunk("spec.reset(); spec.verbose = true", name: "=spec")
            try wb.runFile(r.specPath)
        } catch let e as LuaError {
            Platform.writeStdout("  ERROR \(scriptFailure(e))\n")
            _ = try? wb.runChunk("spec.report()", name: "=spec")
            fail("plugins test \(r.name): spec.lua stopped with an error")
        }
        let counts = try wb.lua.evaluate("(function() local r = spec.results() return r.passed .. ' ' .. r.failed end)()")
        let parts = counts.split(separator: " ").compactMap { Int($0) }
        let passed = parts.first ?? 0, failed = parts.count > 1 ? parts[1] : 0
        Platform.writeStdout("\(passed) passed, \(failed) failed\n")
        if failed > 0 { Moonlab.exit(withError: ExitCode(1)) }
        if passed == 0 { fail("plugins test \(r.name): spec.lua ran no checks") }
    }
}
