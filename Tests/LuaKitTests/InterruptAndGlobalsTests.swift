import Foundation
import XCTest
import LuaKit
import CLua

/// Issue 10 §2 and §5: host access to tables a user can give a metatable never unwinds
/// Swift, and Ctrl-C cannot be swallowed by a loop of pcalls.
final class InterruptAndGlobalsTests: XCTestCase {
    override func tearDown() { LuaInterrupt.clear() }

    /// The strict.lua idiom: reading an undefined global raises. Before the fix the host's
    /// getGlobal/setGlobal/setField ran it unprotected and the process aborted.
    func testStrictGlobalsNeverUnwindTheHost() throws {
        let lua = try LuaState()
        try lua.run("""
            setmetatable(_G, {
              __index = function(_, k) error("undefined " .. tostring(k), 2) end,
              __newindex = function(t, k, v) if k == "forbidden" then error("cannot set " .. k, 2) end rawset(t, k, v) end,
            })
            guarded = setmetatable({}, {__newindex = function(_, k) error("read-only " .. k) end})
            """, name: "=strict")
        XCTAssertEqual(lua.getGlobal("missing"), .nil)
        lua.pop()
        XCTAssertThrowsError(try lua.global("missing")) { e in
            XCTAssertTrue((e as? LuaError)?.message.contains("undefined missing") ?? false, "\(e)")
        }
        lua.push(1)
        XCTAssertFalse(lua.setGlobal("forbidden"))
        lua.push(1)
        XCTAssertThrowsError(try lua.storeGlobal("forbidden")) { e in
            XCTAssertTrue((e as? LuaError)?.message.contains("cannot set forbidden") ?? false, "\(e)")
        }
        lua.push(2)
        XCTAssertTrue(lua.setGlobal("allowed"))
        XCTAssertEqual(lua.getGlobal("guarded"), .table)
        lua.push(3)
        XCTAssertFalse(lua.setField("x", of: -2))
        lua.push(3)
        XCTAssertThrowsError(try lua.storeField("x", of: -2))
        lua.pop()
        XCTAssertEqual(lua.top, 0)
        XCTAssertEqual(try lua.evaluate("allowed"), "2")
    }

    /// `while true do pcall(function() while true do end end) end`: once interrupted the hook
    /// raises at every instruction, so the code after each pcall stops too.
    func testALoopOfPcallsCannotSwallowAnInterrupt() throws {
        let lua = try LuaState()
        lua.register(global: "arm") { _ in LuaInterrupt.raise(); return 0 }
        let code = """
            arm()
            local swallowed = 0
            while true do
              pcall(function() while true do end end)
              swallowed = swallowed + 1
              if swallowed > 100 then return "swallowed" end
            end
            """
        XCTAssertThrowsError(try lua.run(code, name: "=t")) { e in
            XCTAssertEqual((e as? LuaError)?.kind, .interrupted, "\(e)")
            XCTAssertTrue((e as? LuaError)?.message.hasSuffix("interrupted") ?? false, "\(e)")
        }
        // xpcall with a Lua handler and a coroutine loop are stopped the same way
        for swallow in ["xpcall(function() while true do end end, function(m) return m end)",
                        "coroutine.resume(coroutine.create(function() while true do end end))"] {
            XCTAssertThrowsError(try lua.run("arm() local n = 0 while true do \(swallow) n = n + 1 if n > 100000 then return 'swallowed' end end", name: "=t")) { e in
                XCTAssertEqual((e as? LuaError)?.kind, .interrupted, "\(swallow): \(e)")
            }
        }
        LuaInterrupt.clear()
        XCTAssertEqual(try lua.evaluate("2 * 21"), "42")
        // and after the stop, the hook runs at its normal rate again (a long loop finishes)
        XCTAssertEqual(try lua.evaluate("(function() local s = 0 for i = 1, 1e6 do s = s + 1 end return s end)()"), "1000000")
    }

    /// `debug.sethook()` (or a hook of the user's) cannot take away the count hook that
    /// stops code on Ctrl-C and at the budget; the user's hook still runs.
    func testUserHooksKeepTheCountHook() throws {
        let lua = try LuaState(instructionBudget: 5_000_000)
        lua.register(global: "arm") { _ in LuaInterrupt.raise(); return 0 }
        XCTAssertThrowsError(try lua.run("debug.sethook() arm() while true do end", name: "=t")) { e in
            XCTAssertEqual((e as? LuaError)?.kind, .interrupted, "\(e)")
        }
        LuaInterrupt.clear()
        lua.resetBudget()
        XCTAssertThrowsError(try lua.run("debug.sethook(function() end, 'l') while true do end", name: "=t")) { e in
            XCTAssertTrue((e as? LuaError)?.message.contains("instruction budget exceeded") ?? false, "\(e)")
        }
        lua.resetBudget()
        XCTAssertThrowsError(try lua.run("debug.sethook(function() local x = 0 for i = 1, 50 do x = x + i end end, 'l') arm() while true do end", name: "=t")) { e in
            XCTAssertEqual((e as? LuaError)?.kind, .interrupted, "\(e)")
        }
        LuaInterrupt.clear()
        lua.resetBudget()
        XCTAssertEqual(try lua.evaluate("""
            (function()
              local calls, lines = 0, 0
              debug.sethook(function(e) calls = calls + 1 end, '', 100)
              for i = 1, 10000 do end
              local f, mask, count = debug.gethook()
              debug.sethook(function(e) lines = lines + 1 end, 'l')
              local x = 1
              x = x + 1
              debug.sethook()
              return (calls >= 90 and calls <= 120) and lines > 0 and mask == '' and count == 100 and debug.gethook() == nil
            end)()
            """), "true")
    }

    /// An unbudgeted main thread runs with no hook at all (a count hook sends every
    /// instruction through luaG_traceexec: a plain loop ran at half lua5.4's speed); a budget,
    /// a coroutine or the user's hook puts it back.
    func testTheMainThreadRunsHookFreeUnlessALimitNeedsTheHook() throws {
        let lua = try LuaState()
        lua.register(global: "mask") { a in
            a.state.push(Int(lua_gethookmask(a.state.L)))
            return 1
        }
        XCTAssertEqual(try lua.evaluate("mask()"), "0", "no budget, no Ctrl-C pending: no hook")
        XCTAssertEqual(try lua.evaluate("coroutine.wrap(function() return mask() end)()"), "\(LUA_MASKCOUNT)",
                       "a coroutine keeps its count hook")
        XCTAssertEqual(try lua.evaluate("select(2, coroutine.resume(coroutine.create(function() return mask() end)))"),
                       "\(LUA_MASKCOUNT)")
        lua.instructionBudget = 1_000_000
        XCTAssertEqual(try lua.evaluate("mask()"), "\(LUA_MASKCOUNT)", "a budget needs the count hook")
        lua.instructionBudget = nil
        XCTAssertEqual(try lua.evaluate("mask()"), "0")
        XCTAssertEqual(try lua.evaluate("(function() debug.sethook(function() end, 'l') local m = mask() debug.sethook() return m end)()"),
                       "\(LUA_MASKLINE)", "the user's line hook alone")
        XCTAssertEqual(try lua.evaluate("mask()"), "0")
    }

    /// With no hook on the main thread, Ctrl-C (raised on another thread, as the SIGINT
    /// handler runs) still stops a plain loop that calls nothing, on the main thread and in
    /// coroutines made before it, and pcall cannot swallow it.
    func testAnInterruptFromAnotherThreadStopsAHookFreeLoop() throws {
        let lua = try LuaState()
        try lua.run("""
            co = coroutine.create(function() while true do end end)
            wrapped = coroutine.wrap(function() local n = 0 while true do n = n + 1 end end)
            """, name: "=setup")
        for loop in ["while true do end",
                     "local ok = pcall(function() local x = 0 while true do x = x + 1 end end) while true do end",
                     "coroutine.resume(co) while true do end",
                     "pcall(wrapped) while true do end"] {
            LuaInterrupt.clear()
            let raiser = Thread { Thread.sleep(forTimeInterval: 0.1); LuaInterrupt.raise() }
            let start = Date()
            raiser.start()
            XCTAssertThrowsError(try lua.run(loop, name: "=t"), loop) { e in
                XCTAssertEqual((e as? LuaError)?.kind, .interrupted, "\(loop): \(e)")
            }
            XCTAssertLessThan(Date().timeIntervalSince(start), 2, loop)
            Thread.sleep(forTimeInterval: 0.15)
        }
        LuaInterrupt.clear()
        XCTAssertEqual(try lua.evaluate("(function() local s = 0 for i = 1, 1e6 do s = s + 1 end return s end)()"), "1000000",
                       "after the stop a long loop finishes")
    }

    /// Ctrl-C reaches hook-free loops on several threads at once, none of them the raiser's:
    /// each is hooked on its own thread (the watchdog's signal), as lua.c's handler hooks its
    /// state, never by lua_sethook from the raising thread.
    func testAnInterruptStopsHookFreeLoopsOnOtherThreads() throws {
        LuaInterrupt.clear()
        let done = DispatchGroup()
        let lock = NSLock()
        nonisolated(unsafe) var kinds: [String] = []
        for _ in 0..<3 {
            done.enter()
            Thread.detachNewThread {
                defer { done.leave() }
                do {
                    let lua = try LuaState()
                    try lua.run("local x = 0 while true do x = x + 1 end", name: "=spin")
                    lock.withLock { kinds.append("returned") }
                } catch {
                    lock.withLock { kinds.append("\((error as? LuaError)?.kind == .interrupted ? "interrupted" : "\(error)")") }
                }
            }
        }
        Thread.sleep(forTimeInterval: 0.3)
        LuaInterrupt.raise()
        let finished = done.wait(timeout: .now() + 10) == .success
        LuaInterrupt.clear()
        XCTAssertTrue(finished, "loops on other threads did not stop")
        XCTAssertEqual(kinds, ["interrupted", "interrupted", "interrupted"])
    }

    /// States made, run and closed on two threads while a third raises and clears the
    /// interrupt thousands of times: the signal that carries the interrupt to a thread may
    /// arrive as that thread leaves Lua or closes the state, and must then touch nothing.
    /// (Before, the raiser called lua_sethook itself on states other threads were running or
    /// had just closed; that race was too rare to reproduce here, so this is a smoke check of
    /// the signal path under churn, not a reproduction of the old bug.)
    func testRaisingWhileOtherThreadsOpenRunAndCloseStates() throws {
        LuaInterrupt.clear()
        let done = DispatchGroup()
        let stop = NSLock()
        nonisolated(unsafe) var stopping = false
        nonisolated(unsafe) var runs = [0, 0]
        for w in 0..<2 {
            done.enter()
            Thread.detachNewThread {
                defer { done.leave() }
                while !stop.withLock({ stopping }) {
                    guard let lua = try? LuaState() else { continue }
                    _ = try? lua.run("local t = {} for i = 1, 2000 do t[i] = {i} end local co = coroutine.wrap(function() for i = 1, 100 do coroutine.yield(i) end end) for i = 1, 50 do co() end", name: "=churn")
                    runs[w] += 1
                }
            }
        }
        let start = Date()
        var raised = 0
        while Date().timeIntervalSince(start) < 1.5 {
            LuaInterrupt.raise()
            LuaInterrupt.clear()
            raised += 1
        }
        stop.withLock { stopping = true }
        XCTAssertEqual(done.wait(timeout: .now() + 20), .success)
        LuaInterrupt.clear()
        XCTAssertGreaterThan(raised, 1000)
        XCTAssertGreaterThan(runs[0] + runs[1], 20, "the workers ran states meanwhile")
        let lua = try LuaState()
        XCTAssertEqual(try lua.evaluate("1 + 1"), "2")
    }

    /// A budget set after a coroutine was made still stops that coroutine's loop.
    func testABudgetReachesACoroutineMadeBeforeIt() throws {
        let lua = try LuaState()
        try lua.run("co = coroutine.wrap(function() while true do end end)", name: "=setup")
        lua.instructionBudget = 2_000_000
        XCTAssertThrowsError(try lua.run("co()", name: "=t")) { e in
            XCTAssertTrue((e as? LuaError)?.message.contains("instruction budget exceeded") ?? false, "\(e)")
        }
    }

    /// A Swift loop over rows sees the stop as a typed error it must not record as a row's.
    func testInterruptedCallsAreTypedForSwiftLoops() throws {
        let lua = try LuaState()
        try lua.run("function f() while true do end end", name: "=t")
        LuaInterrupt.raise()
        lua.getGlobal("f")
        XCTAssertThrowsError(try lua.pcall(nargs: 0)) { e in
            XCTAssertTrue((e as? LuaError)?.isInterruption ?? false, "\(e)")
        }
        XCTAssertThrowsError(try LuaInterrupt.check()) { e in XCTAssertEqual((e as? LuaError)?.kind, .interrupted) }
        LuaInterrupt.clear()
        XCTAssertNoThrow(try LuaInterrupt.check())
    }

    /// Lua runs finalizers with hooks off; moonlab runs them on a coroutine so the budget
    /// (and Ctrl-C) stop a finalizer that loops. Before the fix collectgarbage() never returned.
    func testALoopingFinalizerObeysTheBudget() throws {
        let lua = try LuaState(instructionBudget: 2_000_000)
        try lua.run("""
            ran = 0
            setmetatable({}, {__gc = function() ran = ran + 1 while true do end end})
            local mt = {}
            setmetatable({}, mt)
            """, name: "=gc")
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) let collecting = lua  // used by the worker thread only, while this one waits
        let worker = Thread {
            collecting.collectGarbage()
            done.signal()
        }
        worker.start()
        guard done.wait(timeout: .now() + 30) == .success else {
            LuaInterrupt.raise()  // let the stuck collector go before failing
            return XCTFail("a looping __gc finalizer hung the collector")
        }
        lua.resetBudget()
        XCTAssertEqual(try lua.evaluate("ran"), "1")
        // the interrupt flag stops one too, and the state stays usable
        let interrupting = try LuaState()
        try interrupting.run("setmetatable({}, {__gc = function() while true do end end})", name: "=gc")
        LuaInterrupt.raise()
        interrupting.collectGarbage()
        LuaInterrupt.clear()
        XCTAssertEqual(try interrupting.evaluate("1 + 1"), "2")
    }

    /// A state closed with a looping finalizer pending still closes (the closing budget).
    func testClosingAStateWithALoopingFinalizerEnds() throws {
        let done = DispatchSemaphore(value: 0)
        let worker = Thread {
            do {
                let lua = try LuaState()
                try lua.run("keep = setmetatable({}, {__gc = function() while true do end end})", name: "=gc")
            } catch {}
            done.signal()
        }
        worker.start()
        XCTAssertEqual(done.wait(timeout: .now() + 60), .success, "closing the state hung in a finalizer")
    }

    /// The host's own code (outside any call into Lua) never has an allocation refused: it
    /// would raise a Lua error with nothing to catch it. Before the fix this aborted.
    func testHostCodeOutsideCallsIsNeverRefusedByTheCeiling() throws {
        let lua = try LuaState(memoryLimit: 4 << 20)
        XCTAssertThrowsError(try lua.run("keep = {} for i = 1, 1e8 do keep[i] = i end", name: "=t"))
        lua.push(String(repeating: "x", count: 8 << 20))  // host memory past the ceiling
        lua.pop()
        try lua.run("keep = nil", name: "=t")
        lua.collectGarbage()
        XCTAssertEqual(try lua.evaluate("1 + 1"), "2")
    }

    /// Host memory charged to a state counts against its ceiling, and is given back when
    /// the charge goes away.
    func testExternalChargesCountAgainstTheCeiling() throws {
        let lua = try LuaState(memoryLimit: 8 << 20)
        var charge: ExternalMemoryCharge? = try lua.chargeExternal(6 << 20)
        XCTAssertEqual(lua.externalMemory, 6 << 20)
        XCTAssertThrowsError(try lua.chargeExternal(4 << 20)) { e in XCTAssertEqual((e as? LuaError)?.kind, .memory) }
        XCTAssertThrowsError(try lua.run("local s = string.rep('x', 3 << 20)", name: "=t")) { e in
            XCTAssertEqual((e as? LuaError)?.kind, .memory, "\(e)")
        }
        XCTAssertThrowsError(try lua.checkHeadroom(4 << 20, for: "tensor.zeros"))
        charge = nil
        XCTAssertNil(charge)
        XCTAssertEqual(lua.externalMemory, 0)
        XCTAssertNoThrow(try lua.run("local s = string.rep('x', 3 << 20)", name: "=t"))
    }
}
