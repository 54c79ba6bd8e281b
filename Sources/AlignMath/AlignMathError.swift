import Synchronization

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

/// What long native loops poll between chunks of work, so Ctrl-C at the prompt stops them.
/// The host installs a probe that reads its interrupt flag (LuaKit's, which the SIGINT
/// handler sets); AlignMath knows nothing of Lua, so it holds only the probe. The probe is
/// kept in an atomic: kernels on any thread read it while the host may install it.
public enum Interruption {
    /// A C function returning non-zero while an interrupt is pending.
    public typealias Probe = @convention(c) () -> Int32

    /// The probe's address (0: none installed).
    private static let probeAddress = Atomic<Int>(0)

    /// Installs (or with nil removes) the probe that `isPending` calls.
    public static func install(probe: Probe?) {
        let address = probe.map { Int(bitPattern: unsafeBitCast($0, to: UnsafeRawPointer.self)) } ?? 0
        probeAddress.store(address, ordering: .releasing)
    }

    /// True when an interrupt is pending.
    @inline(__always) public static var isPending: Bool {
        let address = probeAddress.load(ordering: .acquiring)
        guard let p = UnsafeRawPointer(bitPattern: address) else { return false }
        return unsafeBitCast(p, to: Probe.self)() != 0
    }
}
