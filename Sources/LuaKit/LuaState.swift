import LuaShim

/// A Lua state that owns its `lua_State` and closes it. Every call into Lua from Swift
/// goes through `pcall` (a message handler keeps the traceback), so a Lua error never
/// unwinds a Swift frame.
public final class LuaState {
    /// The raw state, for the few places in LuaKit that need it.
    public let L: OpaquePointer
    /// The allocator's limits; owned by `limitsBox`, which host memory charges
    /// (`ExternalMemoryCharge`) keep alive past the state.
    let limits: UnsafeMutablePointer<mlshim_limits>
    let limitsBox: LimitsBox
    /// What the main thread and the views of its coroutines share.
    final class Shared {
        var typeNames: [ObjectIdentifier: String] = [:]
        /// The same names as C strings, made once: `object(at:)` runs on every method call
        /// of a userdata, where converting the name again cost an allocation.
        var typeCNames: [ObjectIdentifier: [CChar]] = [:]
        var userInfo: [String: AnyObject] = [:]
        /// Swift functions called from Lua that are running now (nested calls count each).
        var swiftCalls = 0
    }
    let shared: Shared
    /// The state that owns `L` when this is a view of a coroutine; nil for the owner.
    private let root: LuaState?

    /// Arbitrary per-state storage for the layers above (Workbench keeps its context here).
    public var userInfo: [String: AnyObject] {
        get { shared.userInfo }
        set { shared.userInfo = newValue }
    }

    /// Creates a state with the standard libraries open.
    /// - Parameters:
    ///   - memoryLimit: a ceiling in bytes for everything Lua allocates (nil: none);
    ///     going over it is a Lua error ("not enough memory"), not a crash.
    ///   - instructionBudget: instructions a call may run (nil: unlimited).
    ///   - interruptible: whether Ctrl-C (the SIGINT flag) stops running code.
    public init(memoryLimit: Int? = nil, instructionBudget: Int? = nil, interruptible: Bool = true,
                openLibraries: Bool = true) throws {
        LuaRuntime.installCallbacks()
        limitsBox = LimitsBox()
        limits = limitsBox.pointer
        // in_host starts at 1: the host's own code (outside any call into Lua) never has an
        // allocation refused, which would raise a Lua error with no protected call to catch it.
        limits.initialize(to: mlshim_limits(used: 0, external: 0, ceiling: memoryLimit.map { max(0, $0) } ?? 0,
                                            budget: -1, budget_total: 0, budget_exhausted: 0,
                                            interruptible: interruptible ? 1 : 0, user_hooks: 0, host_refused: 0, in_host: 1,
                                            slot: -1, pool: nil, watched: 0, armed: 0, gc_generational: 0))
        guard let state = mlshim_newstate(limits) else {
            throw LuaError(.memory, "could not create a Lua state")
        }
        L = state
        root = nil
        shared = Shared()
        mlshim_setextra(L, Unmanaged.passUnretained(self).toOpaque())
        if openLibraries {
            luaL_openlibs(L)
            // string.find/match/gmatch/gsub that Ctrl-C and the budget stop (luapattern.c)
            mlshim_open_patterns(L)
        }
        mlshim_wrap_finalizers(L)
        mlshim_installhook(L)
        self.instructionBudget = instructionBudget
        resetBudget()  // didSet does not run inside init
    }

    /// A view of a coroutine of `root`'s state: same globals, its own stack.
    init(thread: OpaquePointer, root: LuaState) {
        L = thread
        limits = root.limits
        limitsBox = root.limitsBox
        shared = root.shared
        self.root = root
        instructionBudget = root.instructionBudget
    }

    /// The LuaState for a raw state (the owner, or a view when `L` is a coroutine).
    static func from(_ L: OpaquePointer) -> LuaState? {
        guard let p = mlshim_getextra(L) else { return nil }
        let owner = Unmanaged<LuaState>.fromOpaque(p).takeUnretainedValue()
        return owner.L == L ? owner : LuaState(thread: L, root: owner)
    }

    deinit {
        guard root == nil else { return }
        // Closing runs every pending __gc finalizer; a looping one must not hang the exit.
        // They run on the hook (see mlshim_wrap_finalizers), so a budget and Ctrl-C stop them.
        limits.pointee.interruptible = 1
        limits.pointee.budget_exhausted = 0
        if limits.pointee.budget < 0 || limits.pointee.budget > LuaState.closingBudget {
            limits.pointee.budget = Int64(LuaState.closingBudget)
            limits.pointee.budget_total = Int64(LuaState.closingBudget)
        }
        mlshim_close(L)
        mlshim_pool_release(limits)
    }

    /// Instructions all `__gc` finalizers together may run when a state is closed.
    public static let closingBudget = 10_000_000

    /// Bytes currently allocated by this state.
    public var memoryUsed: Int { Int(limits.pointee.used) }

    /// The memory ceiling in bytes (nil: none).
    public var memoryLimit: Int? {
        get { limits.pointee.ceiling == 0 ? nil : Int(limits.pointee.ceiling) }
        set { limits.pointee.ceiling = newValue.map { max(1, $0) } ?? 0 }
    }

    /// Instructions a script may run before it gets an error (nil: unlimited). Setting it
    /// (even to the same value) refills the budget.
    public var instructionBudget: Int? {
        didSet { if root == nil { resetBudget() } }
    }

    /// Refills the instruction budget and clears an exhausted budget.
    public func resetBudget() {
        limits.pointee.budget = instructionBudget.map { Int64($0) } ?? -1
        limits.pointee.budget_total = Int64(instructionBudget ?? 0)
        limits.pointee.budget_exhausted = 0
    }

    /// Whether this state obeys Ctrl-C.
    public var interruptible: Bool {
        get { limits.pointee.interruptible != 0 }
        set { limits.pointee.interruptible = newValue ? 1 : 0 }
    }

    // MARK: stack basics

    /// Index of the top element (the number of elements on the stack).
    public var top: Int32 {
        get { lua_gettop(L) }
        set { lua_settop(L, newValue) }
    }

    /// Pops `n` elements. Stack: [... x1..xn] -> [...].
    public func pop(_ n: Int32 = 1) { mlshim_pop(L, n) }

    /// The type of the value at `index`.
    public func type(at index: Int32) -> LuaType { LuaType(rawValue: lua_type(L, index)) ?? .none }

    /// Lua's name for the type at `index` (`"nil"`, `"table"`, ...), or the `__name` of a
    /// userdata's metatable (`"tensor"`), as Lua's own argument errors say it.
    public func typeName(at index: Int32) -> String {
        if lua_type(L, index) == LUA_TUSERDATA, luaL_getmetafield(L, index, "__name") == LUA_TSTRING {
            defer { pop() }
            return string(at: -1) ?? "userdata"
        }
        return String(cString: lua_typename(L, lua_type(L, index)))
    }

    /// Converts a relative index to an absolute one.
    public func absolute(_ index: Int32) -> Int32 { lua_absindex(L, index) }

    /// Pushes a copy of the value at `index`. Stack: [] -> [v].
    public func pushValue(at index: Int32) { lua_pushvalue(L, index) }

    /// Moves the top element to `index`, shifting up. Stack: [... x] -> [x ...].
    public func insert(at index: Int32) { mlshim_insert(L, index) }

    /// Removes the element at `index`.
    public func remove(at index: Int32) { mlshim_remove(L, index) }

    /// The identity of a table, function, userdata or thread (for cycle detection).
    public func pointer(at index: Int32) -> UnsafeRawPointer? { lua_topointer(L, index) }

    /// Runs a full garbage collection (tests use it to see `__gc` run).
    public func collectGarbage() { _ = mlshim_gc(L, LUA_GCCOLLECT) }

    /// Whether the collector runs in Lua's generational mode (else incremental, Lua's
    /// default). Setting it switches the mode (nothing changes inside a finalizer, where the
    /// collector cannot run); a script's `collectgarbage("generational")` or
    /// `("incremental")` changes it too.
    public var generationalCollector: Bool {
        get { limits.pointee.gc_generational != 0 }
        set { _ = mlshim_gc_setmode(L, newValue ? 1 : 0) }
    }

    /// One basic collector step: in generational mode a minor collection (the young objects
    /// and the old ones written since), in incremental mode one increment of a cycle.
    public func collectStep() { _ = mlshim_gc_minor(L) }
}

/// Lua's basic types.
public enum LuaType: Int32, Sendable {
    case none = -1, `nil` = 0, boolean = 1, lightUserdata = 2, number = 3, string = 4,
         table = 5, function = 6, userdata = 7, thread = 8
}
