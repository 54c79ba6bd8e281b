import Workbench
import LuaKit

/// A workbench whose output goes to a buffer, for Lua-level tests:
/// `try h.value("1 + 1") == "2"`, `h.error("rl.gae()")` is the message.
public final class LuaHarness {
    public let workbench: Workbench
    public let evaluator: Evaluator
    private var entry = 0
    private let sink: Sink

    final class Sink { var text = "" }

    public init(seed: Int = 0, options: WorkbenchOptions = WorkbenchOptions()) throws {
        let sink = Sink()
        var o = options
        o.seed = seed
        o.output = { sink.text += $0 }
        self.sink = sink
        workbench = try Workbench(options: o)
        evaluator = Evaluator(workbench)
    }

    /// Evaluates one entry as the prompt would.
    public func eval(_ code: String) -> Evaluation {
        entry += 1
        return evaluator.evaluate(code, entry: entry)
    }

    /// The printed result of an expression (or statements' printed output); throws on error.
    @discardableResult
    public func value(_ code: String) throws -> String {
        let e = eval(code)
        switch e.status {
        case .ok: return e.result.isEmpty ? e.printed : e.result
        case .incomplete: throw HarnessError(message: "incomplete chunk: \(code)")
        case .error: throw HarnessError(message: e.error ?? "?")
        }
    }

    /// Runs statements; throws on error.
    public func run(_ code: String) throws { _ = try value(code) }

    /// The error message of code expected to fail (nil if it succeeded).
    public func error(_ code: String) -> String? {
        let e = eval(code)
        return e.status == .error ? e.error : nil
    }

    /// What `print`/`help` wrote since the last call, then cleared.
    public func takeOutput() -> String {
        defer { sink.text = "" }
        return sink.text
    }
}

public struct HarnessError: Error, CustomStringConvertible {
    public var message: String
    public var description: String { message }
}
