/// Docstrings of `plugin`.
enum PluginDocs {
    static let module = """
        plugin: plugins that bring rewards, detectors and samplers
        list, info, load, reload, sampler, paths. A plugin is a folder with plugin.lua (the
        manifest), init.lua (registers what it provides), spec.lua (its checks, run by
        `moonlab plugins test NAME`) and README.md. Looked for in each --plugin-path, each
        folder of $MOONLAB_PATH, ./Plugins, ~/.local/share/moonlab/plugins, and the bundled
        plugins; the first of a name wins. Loaded at start unless --no-plugins.
        A plugin with sandbox = true in its manifest (or every plugin under --sandbox) runs
        without io, os (but clock/time/date/difftime), debug, package, dofile/loadfile,
        binary chunks, the file readers and writers (tensor.load/save, data.jsonl/csv/json/
        write_jsonl, session, plot's svg) and data.from (its datasets can :write), with at
        most 10^8 instructions and 256 MB more memory per call of its init.lua and of each
        function it registers.
        Example: for _, p in ipairs(plugin.list()) do print(p.name, p.version, p.status) end
        """

    static let list = """
        plugin.list() -> {info, ...}
        Every plugin found, in search order, as plugin.info tables: loaded, failed (with
        error), available (found, not loaded: --no-plugins) or shadowed (an earlier plugin has
        its name).
        Example: for _, p in ipairs(plugin.list()) do print(p.name, p.status, p.error) end
        """

    static let info = """
        plugin.info(name) -> {name, version, description, path, origin, status, error, sandbox, requires, provides, registered}
        What is known of one plugin: its manifest, the folder it came from and which search
        entry found it (origin), its status and error, provides = {rewards, detectors,
        samplers} as declared and registered = what its last load registered.
        Example: plugin.info("math-answer").provides.rewards
        """

    static let load = """
        plugin.load(name) -> info
        Loads a plugin that is not loaded (with --no-plugins, or one that failed and was
        fixed, or a folder made since start). Loading checks the manifest, requires.moonlab,
        that no loaded plugin provides the same names, runs init.lua, and checks it registered
        everything in provides; on failure nothing it registered stays and the error names the file.
        Example: plugin.load("pope")
        """

    static let reload = """
        plugin.reload(name) -> info
        Re-reads a plugin in place: calls unload() of the table its init.lua returned (if
        any), removes every reward, detector and sampler it registered, then loads its files
        again. Names the new version no longer registers are gone.
        Example: plugin.reload("my-reward")
        """

    static let sampler = """
        plugin.sampler(name) -> stage
        A sampler a plugin provides: the samplers field of the table its init.lua returns
        (name -> a stage from sample.stage or a function making one). Use it in sample.chain.
        Example: sample.chain{plugin.sampler("no_digits"), sample.top_k(40)}
        """

    static let paths = """
        plugin.paths() -> {{path, origin}, ...}
        The folders searched for plugins, in order.
        Example: for _, p in ipairs(plugin.paths()) do print(p.origin, p.path) end
        """
}
