import LuaShim

/// The row watchdog (LuaShim, `mlshim_watch_begin`): a served or scored row runs without
/// Lua's count hook, and its instruction budget is armed only when the row is still running
/// after a grace period of about 1 ms (the budget counts from then).
public enum RowWatch {
    /// Reward and detector calls armed so far in this process: calls that ran past the grace.
    public static var armed: UInt64 { UInt64(mlshim_watch_arms()) }
}
