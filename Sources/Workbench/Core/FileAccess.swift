import LuaKit

/// The one door from Lua to the file system: every moonlab function that opens a path
/// (`data.jsonl`, `tensor.load`, `sample.vocab`, `plot`'s `svg`, `ds:write`,
/// `session.record`, ...) reads it with `args.path(_:)`, which refuses when the calling code
/// is sandboxed. Sandboxed means: the whole state runs under `--sandbox`, or a function of a
/// sandboxed plugin is anywhere on the call stack (found by the chunk names of the running
/// functions, so a closure the plugin handed out, a finalizer or a metamethod it set is
/// caught as well as its own calls). New functions that touch files must use it.
public enum FileAccess {
    /// Whether code running now in `state` may not open files.
    public static func isSandboxed(_ state: LuaState) -> Bool {
        guard let wb = Workbench.of(state) else { return false }
        if wb.options.sandbox { return true }
        return state.callStack(hasSourceWithPrefix: wb.sandboxedSources)
    }

    /// The error of a refused call.
    static func refusal(_ function: String) -> LuaScriptError {
        LuaScriptError("sandbox: \(function) opens files, which is not available in the sandbox")
    }

    /// The chunk-name prefix of code that a sandboxed plugin loads with `load` (its files
    /// are known by their folder).
    public static let sandboxedChunkPrefix = "=(sandboxed plugin)"
}

extension LuaArguments {
    /// The path argument at `index` of a function that opens it; refused in the sandbox.
    public func path(_ index: Int32) throws -> String {
        try checkFileAccess()
        return try string(index)
    }

    /// Throws the sandbox's refusal when the calling code may not open files.
    public func checkFileAccess() throws {
        if FileAccess.isSandboxed(state) { throw FileAccess.refusal(function) }
    }
}
