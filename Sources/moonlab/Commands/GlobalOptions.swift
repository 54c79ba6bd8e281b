import ArgumentParser
import Workbench

/// Options every command takes (design.md, "The command line").
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, help: "Seed of the random generators and math.random (default 0).")
    var seed: Int = 0

    @Option(name: .customLong("plugin-path"), help: "A folder to look for plugins in (repeatable).")
    var pluginPath: [String] = []

    @Flag(name: .long, help: "Run without io, os.execute/remove/exit, package.loadlib, debug and binary chunks.")
    var sandbox = false

    @Flag(name: .customLong("no-plugins"), help: "Do not load plugins at start.")
    var noPlugins = false

    /// The options when none are given (what parsing an empty command line gives).
    static var defaults: GlobalOptions {
        var g = GlobalOptions()
        g.seed = 0
        g.pluginPath = []
        g.sandbox = false
        g.noPlugins = false
        return g
    }

    var workbenchOptions: WorkbenchOptions {
        var o = WorkbenchOptions()
        o.seed = seed
        o.pluginPaths = pluginPath
        o.sandbox = sandbox
        o.loadPlugins = !noPlugins
        return o
    }
}
