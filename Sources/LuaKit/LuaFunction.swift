import LuaShim
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A Swift function Lua can call. It reads its arguments through `LuaArguments`, pushes
/// its results and returns how many. It throws instead of raising: the trampoline in
/// LuaShim turns the error into a Lua error from a C frame.
public typealias LuaFunction = (LuaArguments) throws -> Int32

/// The closure behind a Lua function value, kept alive by its userdata's `__gc`.
final class LuaFunctionBox {
    let name: String
    let body: LuaFunction
    init(name: String, body: @escaping LuaFunction) {
        self.name = name
        self.body = body
    }
}

/// Installs the C callbacks once per process.
enum LuaRuntime {
    static let installed: Bool = {
        mlshim_set_dispatch(luaKitDispatch)
        mlshim_set_release(luaKitRelease)
        return true
    }()

    static func installCallbacks() { _ = installed }

    static let functionMetatable = "moonlab.function"
}

/// Every Swift function's entry from Lua. Catches everything; returns a result count or
/// a sentinel that makes the trampoline raise.
private func luaKitDispatch(_ L: OpaquePointer?) -> Int32 {
    guard let L, let state = LuaState.from(L),
          let raw = mlshim_tobox(L, mlshim_upvalueindex(1)) else { return 0 }
    let box = Unmanaged<LuaFunctionBox>.fromOpaque(raw).takeUnretainedValue()
    state.shared.swiftCalls += 1
    let outer = pthread_getspecific(LuaState.runningKey)
    pthread_setspecific(LuaState.runningKey, Unmanaged.passUnretained(state).toOpaque())
    defer {
        pthread_setspecific(LuaState.runningKey, outer)
        state.shared.swiftCalls -= 1
    }
    do {
        return try box.body(LuaArguments(state: state, function: box.name))
    } catch let e as LuaError {
        state.push(e.message)  // already positioned by the Lua code that raised it
        return MLSHIM_RAISE
    } catch let e as LuaArgumentError {
        state.push(e.description)
        return MLSHIM_RAISE_WHERE
    } catch let e as LuaScriptError {
        state.push(e.message)
        return MLSHIM_RAISE_WHERE
    } catch {
        state.push("\(box.name): \(error)")
        return MLSHIM_RAISE_WHERE
    }
}

private func luaKitRelease(_ p: UnsafeMutableRawPointer?) {
    guard let p else { return }
    Unmanaged<AnyObject>.fromOpaque(p).release()
}

extension LuaState {
    /// The state whose Swift function is running innermost on this thread (a coroutine's
    /// view when it runs in one), nil when none is: how code below a Swift function that is
    /// given no state (a tensor allocation deep in a kernel) finds the state that called it,
    /// to run its collector (`collectGarbage`, `collectStep`: safe there, as in any Swift
    /// function; finalizers' errors become warnings). Only for this thread, and only for the
    /// duration of that call: do not keep it.
    public static var runningOnThisThread: LuaState? {
        guard let p = pthread_getspecific(runningKey) else { return nil }
        return Unmanaged<LuaState>.fromOpaque(p).takeUnretainedValue()
    }

    /// The thread-specific slot behind `runningOnThisThread`: set around every Swift
    /// function's call from Lua (the dispatch), restored afterwards (a state's function may
    /// call into another state).
    static let runningKey: pthread_key_t = {
        var key = pthread_key_t()
        guard pthread_key_create(&key, nil) == 0 else { fatalError("LuaKit: pthread_key_create failed") }
        return key
    }()

    /// Pushes a Swift closure as a Lua function. `name` is how errors name it
    /// (`'rl.gae'`). Stack: [] -> [function].
    public func push(function name: String, _ body: @escaping LuaFunction) {
        pushBox(function: name, body)
        mlshim_pushswiftfunction(L)
    }

    /// Pushes the box that a Swift function's C closure keeps as its upvalue 1.
    /// Stack: [] -> [box].
    func pushBox(function name: String, _ body: @escaping LuaFunction) {
        let box = LuaFunctionBox(name: name, body: body)
        mlshim_pushbox(L, Unmanaged.passRetained(box as AnyObject).toOpaque(), LuaRuntime.functionMetatable)
    }

    /// Sets `t[name] = function` on the table on top. Stack: [t] -> [t].
    public func setFunction(_ name: String, qualifiedName: String? = nil, _ body: @escaping LuaFunction) {
        push(function: qualifiedName ?? name, body)
        setField(name, of: -2)
    }

    /// Registers a global function.
    public func register(global name: String, _ body: @escaping LuaFunction) {
        push(function: name, body)
        setGlobal(name)
    }
}
