import LuaShim

/// The memory a state may use: what Lua allocates plus what the host charges to it
/// (tensor storage lives outside Lua's allocator but is as much the script's memory), under
/// one ceiling. A charge is an object: the memory stays charged while it lives, so it can
/// be tied to the lifetime of the host object that holds the bytes.
extension LuaState {
    /// Bytes charged by the host (tensor storage) and not yet given back.
    public var externalMemory: Int { Int(mlshim_external(limits)) }

    /// Bytes that may still be allocated before the ceiling (nil: no ceiling).
    public var memoryHeadroom: Int? {
        guard let ceiling = memoryLimit else { return nil }
        return max(0, ceiling - memoryUsed - externalMemory)
    }

    /// Charges `bytes` of host memory to this state until the returned charge is released
    /// (dropped). Throws `LuaError(.memory)` when the ceiling would be passed; nothing is
    /// charged then.
    /// With `checked: false` the charge is always made (it never throws): for memory that
    /// already exists, such as a tensor being pushed; the ceiling is then enforced when the
    /// Swift function returns to Lua, after a collection, as for Lua's own allocations.
    public func chargeExternal(_ bytes: Int, checked: Bool = true) throws -> ExternalMemoryCharge {
        let n = Int64(max(0, bytes))
        guard mlshim_charge_external(limits, n, checked ? 1 : 0) != 0 else {
            throw LuaError(.memory, "not enough memory (\(LuaState.describeBytes(bytes)) over the memory limit of \(LuaState.describeBytes(memoryLimit ?? 0)))")
        }
        return ExternalMemoryCharge(box: limitsBox, bytes: n)
    }

    /// Charges `bytes` of memory that already exists as it reaches Lua (a tensor a Swift
    /// function returns). Inside a Swift function called from Lua, a charge still over the
    /// ceiling after one full collection (which gives back what dead tensors held) is
    /// refused: nil comes back, and the function's return raises "not enough memory" (push
    /// nil in place of the object, which Swift then frees). Host code outside such calls is
    /// always charged.
    public func chargeExternalOrRefuse(_ bytes: Int) -> ExternalMemoryCharge? {
        let n = Int64(max(0, bytes))
        let inSwiftFunction = shared.swiftCalls > 0
        if mlshim_charge_external(limits, n, inSwiftFunction ? 1 : 0) == 0 {
            // Over the ceiling: dead objects (tensors a loop made and dropped) may still hold
            // their charges until the collector runs. Collect, then refuse only if still over.
            collectGarbage()
            guard mlshim_charge_external(limits, n, 1) != 0 else {
                limits.pointee.host_refused = 1
                return nil
            }
        }
        return ExternalMemoryCharge(box: limitsBox, bytes: n)
    }

    /// Throws `LuaError(.memory)` if `bytes` more would pass the ceiling: for a host
    /// allocation of a size a script chose, checked before it is made.
    public func checkHeadroom(_ bytes: Int, for what: String) throws {
        guard let room = memoryHeadroom, bytes > room else { return }
        throw LuaError(.memory, "\(what): not enough memory (\(LuaState.describeBytes(bytes)) requested, \(LuaState.describeBytes(room)) left under the memory limit)")
    }

    /// Throws `LuaError(.memory)` when what Lua allocated plus the host's charges has passed
    /// the ceiling, after a full collection. Inside a Swift function Lua's allocations are
    /// not refused (an allocation error must not jump over Swift frames), so a Swift loop
    /// that pushes values for as long as a script's input lasts (matches, rows) calls this
    /// now and then to stop where a Lua loop would have stopped.
    public func checkMemoryCeiling(for what: String) throws {
        guard let ceiling = memoryLimit, memoryUsed + externalMemory > ceiling else { return }
        collectGarbage()
        guard memoryUsed + externalMemory > ceiling else { return }
        throw LuaError(.memory, "\(what): not enough memory (over the memory limit of \(LuaState.describeBytes(ceiling)))")
    }

    static func describeBytes(_ n: Int) -> String {
        if n >= 1 << 30 { return "\(n >> 30) GiB" }
        if n >= 1 << 20 { return "\(n >> 20) MiB" }
        if n >= 1 << 10 { return "\(n >> 10) KiB" }
        return "\(n) bytes"
    }
}

/// Host memory charged to a state's limits; given back when this object goes away (on
/// any thread). Keeps the limits alive, so it may outlive the state.
// @unchecked Sendable: its fields are lets; `deinit` gives the bytes back through
// mlshim_charge_external, which updates the limits' `external` atomically.
public final class ExternalMemoryCharge: @unchecked Sendable {
    private let box: LimitsBox
    public let bytes: Int64

    init(box: LimitsBox, bytes: Int64) {
        self.box = box
        self.bytes = bytes
    }

    deinit { _ = mlshim_charge_external(box.pointer, -bytes, 0) }
}

/// Owns the C limits of a state (the allocator's user data). Shared by the state and the
/// charges made against it; the pointer is read and written by the state's thread, except
/// `external`, which C updates atomically.
// @unchecked Sendable: the pointer is a let; see above for who touches the limits it points to.
final class LimitsBox: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<mlshim_limits>
    init() { pointer = .allocate(capacity: 1) }
    deinit { pointer.deallocate() }
}

/// Work done in Swift for Lua code (a loop calling a Lua function per row, a native loop
/// over a count a script chose) answers to Ctrl-C and the instruction budget as Lua code does.
extension LuaState {
    /// Throws `LuaError.interrupted` when Ctrl-C is pending (and this state obeys it), and
    /// charges `cost` instructions to the budget, throwing when it runs out. Call it between
    /// the steps of a loop whose length a script chose.
    public func checkpoint(cost: Int = 1) throws {
        if interruptible && LuaInterrupt.isPending { throw LuaError.interrupted }
        let lim = limits
        if lim.pointee.budget_exhausted != 0 { throw budgetError }
        guard lim.pointee.budget >= 0 else { return }
        lim.pointee.budget -= Int64(max(0, cost))
        if lim.pointee.budget < 0 {
            lim.pointee.budget = 0
            lim.pointee.budget_exhausted = 1
            throw budgetError
        }
    }

    private var budgetError: LuaError {
        LuaError(.runtime, "instruction budget exceeded (\(limits.pointee.budget_total) instructions)")
    }
}

extension LuaState {
    /// Whether a Lua function defined in a chunk whose name starts with one of `prefixes`
    /// is running anywhere on this thread's call stack (the host's own frames included): how
    /// a host function tells that code of a given origin (a sandboxed plugin's files) is
    /// calling it, directly or through any chain of calls.
    public func callStack(hasSourceWithPrefix prefixes: [String], maxLevels: Int = 10_000) -> Bool {
        guard !prefixes.isEmpty else { return false }
        var level: Int32 = 0
        while Int(level) < maxLevels, let p = mlshim_stack_source(L, level) {
            let source = String(cString: p)
            if prefixes.contains(where: { source.hasPrefix($0) }) { return true }
            level += 1
        }
        return false
    }
}
