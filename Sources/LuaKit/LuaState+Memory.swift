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

    /// Throws `LuaError(.memory)` if `bytes` more would pass the ceiling: for a host
    /// allocation of a size a script chose, checked before it is made.
    public func checkHeadroom(_ bytes: Int, for what: String) throws {
        guard let room = memoryHeadroom, bytes > room else { return }
        throw LuaError(.memory, "\(what): not enough memory (\(LuaState.describeBytes(bytes)) requested, \(LuaState.describeBytes(room)) left under the memory limit)")
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
final class LimitsBox: @unchecked Sendable {
    let pointer: UnsafeMutablePointer<mlshim_limits>
    init() { pointer = .allocate(capacity: 1) }
    deinit { pointer.deallocate() }
}
