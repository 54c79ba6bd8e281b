import ArgumentParser
import Workbench

/// Options every command takes (Docs/design.md, "The command line").
struct GlobalOptions: ParsableArguments {
    @Option(name: .long, parsing: .unconditional, help: "Seed of the random generators and math.random (default 0).")
    var seed: Int = 0

    @OptionGroup var plugins: PluginOptions

    var pluginPath: [String] {
        get { plugins.pluginPath }
        set { plugins.pluginPath = newValue }
    }
    var sandbox: Bool {
        get { plugins.sandbox }
        set { plugins.sandbox = newValue }
    }
    var noPlugins: Bool {
        get { plugins.noPlugins }
        set { plugins.noPlugins = newValue }
    }

    /// The options when none are given (what parsing an empty command line gives).
    static var defaults: GlobalOptions {
        var g = GlobalOptions()
        g.seed = 0
        g.plugins = PluginOptions.defaults
        return g
    }

    var workbenchOptions: WorkbenchOptions {
        var o = plugins.workbenchOptions
        o.seed = seed
        return o
    }
}

/// The global options but `--seed`: what `replay` takes (it seeds from the session).
struct PluginOptions: ParsableArguments {
    @Option(name: .customLong("plugin-path"), help: "A folder to look for plugins in (repeatable).")
    var pluginPath: [String] = []

    @Flag(name: .long, help: "Run without io, os.execute/remove/exit, package.loadlib, debug and binary chunks.")
    var sandbox = false

    @Flag(name: .customLong("no-plugins"), help: "Do not load plugins at start.")
    var noPlugins = false

    static var defaults: PluginOptions {
        var p = PluginOptions()
        p.pluginPath = []
        p.sandbox = false
        p.noPlugins = false
        return p
    }

    var workbenchOptions: WorkbenchOptions {
        var o = WorkbenchOptions()
        o.pluginPaths = pluginPath
        o.sandbox = sandbox
        o.loadPlugins = !noPlugins
        return o
    }
}
