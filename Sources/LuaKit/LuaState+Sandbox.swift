import LuaShim

/// Limits for one call: a tighter instruction budget and memory ceiling while a piece of
/// untrusted code runs (a sandboxed plugin's reward, say), inside whatever the state has.
extension LuaState {
    /// Instructions left in the current budget (nil: unlimited).
    public var instructionsLeft: Int? {
        guard let lim = mlshim_getlimits(L) else { return nil }
        let b = lim.pointee.budget
        return b < 0 ? nil : Int(b)
    }

    /// Runs `body` with at most `instructions` Lua instructions and at most `memory` more
    /// bytes than are allocated now; the outer budget is charged with what it used and the
    /// outer ceiling comes back afterwards. A call over its limits fails with the usual
    /// `instruction budget exceeded (N instructions)` or `not enough memory`.
    /// - Parameters:
    ///   - instructions: the call's budget (nil: the outer one only).
    ///   - memory: bytes the call may add (nil: the outer ceiling only).
    public func withCallLimits<T>(instructions: Int?, memory: Int?, _ body: () throws -> T) rethrows -> T {
        guard let lim = mlshim_getlimits(L) else { return try body() }
        let outerBudget = lim.pointee.budget, outerTotal = lim.pointee.budget_total
        let outerExhausted = lim.pointee.budget_exhausted, outerCeiling = lim.pointee.ceiling
        var start = outerBudget
        if let n = instructions.map({ Int64(max(1, $0)) }), outerBudget < 0 || n < outerBudget {
            start = n
            lim.pointee.budget = n
            lim.pointee.budget_total = n
        }
        if let m = memory {
            let cap = lim.pointee.used + mlshim_external(lim) + max(1, m)
            lim.pointee.ceiling = outerCeiling == 0 ? cap : min(outerCeiling, cap)
        }
        defer {
            let left = max(Int64(0), lim.pointee.budget)
            let used: Int64 = start < 0 ? 0 : max(0, start - left)
            lim.pointee.budget = outerBudget < 0 ? -1 : max(Int64(0), outerBudget - used)
            lim.pointee.budget_total = outerTotal
            lim.pointee.budget_exhausted = outerExhausted != 0 || (outerBudget >= 0 && lim.pointee.budget == 0) ? 1 : 0
            lim.pointee.ceiling = outerCeiling
        }
        return try body()
    }
}
