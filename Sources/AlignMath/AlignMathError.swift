/// Errors from AlignMath's kernels. The message says what was wrong and what was
/// expected; the Lua glue prefixes the function name (`rl.gae: ...`).
public enum AlignMathError: Error, Equatable, CustomStringConvertible {
    /// An argument was out of its domain, e.g. `"p must be in (0, 1], got 1.5"`.
    case invalidArgument(String)
    /// Two inputs that must agree in shape or length do not.
    case shapeMismatch(String)
    /// A row of logits with every entry `-inf`: no distribution exists.
    case allMasked(row: Int)
    /// The computation was interrupted (Ctrl-C) between chunks of work.
    case interrupted

    public var description: String {
        switch self {
        case .invalidArgument(let m), .shapeMismatch(let m): return m
        case .allMasked(let row): return "row \(row) has every entry -inf (no token left to give probability to)"
        case .interrupted: return "interrupted"
        }
    }
}

/// A flag that long native loops poll between chunks of work, so Ctrl-C at the prompt
/// stops them. The host points it at the same flag its SIGINT handler sets.
public enum Interruption {
    nonisolated(unsafe) public static var flag: UnsafeMutablePointer<Int32>? = nil
    /// True when an interrupt is pending.
    @inline(__always) public static var isPending: Bool { (flag?.pointee ?? 0) != 0 }
}
