/// An error that came out of Lua (or was raised toward it), typed by what failed.
public struct LuaError: Error, CustomStringConvertible, Equatable {
    /// What kind of failure: compiling a chunk, running it, running out of memory, or a stop
    /// by Ctrl-C (the interrupt flag): code that catches per-row errors must let
    /// `.interrupted` through (`isInterruption`), so a loop over rows stops.
    public enum Kind: Equatable, Sendable { case syntax, runtime, memory, handler, interrupted }
    public var kind: Kind
    /// The error message, e.g. `input:1: boom`.
    public var message: String
    /// `stack traceback:` lines, when the call ran under the message handler.
    public var traceback: String?

    public init(_ kind: Kind, _ message: String, traceback: String? = nil) {
        self.kind = kind
        self.message = message
        self.traceback = traceback
    }

    /// True when the call was stopped by Ctrl-C: rethrow it, never record it as a row's failure.
    public var isInterruption: Bool { kind == .interrupted }

    /// The error a Swift loop throws when it sees a pending interrupt between its steps.
    public static var interrupted: LuaError { LuaError(.interrupted, "interrupted") }

    /// True for a syntax error that only means "the chunk is not finished yet":
    /// lua.c reads another line when the message ends in `<eof>`.
    public var isIncompleteChunk: Bool { kind == .syntax && message.hasSuffix("<eof>") }

    public var description: String {
        if let tb = traceback, !tb.isEmpty { return message + "\n" + tb }
        return message
    }
}

/// An error in a Swift function called from Lua, reported as Lua's own argument errors
/// are: `bad argument #2 to 'rl.gae' (tensor or array of numbers expected, got string)`.
public struct LuaArgumentError: Error, CustomStringConvertible {
    public var function: String
    public var index: Int
    public var problem: String

    public init(function: String, index: Int, problem: String) {
        self.function = function
        self.index = index
        self.problem = problem
    }

    public var description: String { "bad argument #\(index) to '\(function)' (\(problem))" }
}

/// A plain error raised toward Lua with the caller's position: `rl.gae: rewards and
/// values differ in length (512 vs 511)`.
public struct LuaScriptError: Error, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
