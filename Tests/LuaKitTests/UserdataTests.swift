import XCTest
import LuaKit
import Synchronization

final class Counter {
    /// Instances alive: atomic, as a collection may free userdata on any state's thread.
    static let live = Atomic<Int>(0)
    var value: Double
    init(_ v: Double) { value = v; Counter.live.add(1, ordering: .relaxed) }
    deinit { Counter.live.subtract(1, ordering: .relaxed) }
}

final class UserdataTests: XCTestCase {
    private func makeState() throws -> LuaState {
        let lua = try LuaState()
        lua.register(type: Counter.self, name: "counter") { t in
            t.method("get") { c, args in args.state.push(c.value); return 1 }
            t.method("inc") { c, args in c.value += try args.number(2, default: 1); return 0 }
            t.index { c, args in
                if args.state.string(at: 2) == "doubled" { args.state.push(c.value * 2); return 1 }
                args.state.pushNil(); return 1
            }
            t.newIndex { c, args in
                guard args.state.string(at: 2) == "value" else { throw args.failure("no field \(args.state.string(at: 2) ?? "?")") }
                c.value = try args.number(3); return 0
            }
            t.meta("__tostring") { args in
                let c = try args.object(1, Counter.self)
                args.state.push("counter(\(c.value))"); return 1
            }
            t.meta("__len") { args in args.state.push(Int(try args.object(1, Counter.self).value)); return 1 }
            t.meta("__add") { args in
                let a = try args.object(1, Counter.self), b = try args.number(2)
                args.state.push(object: Counter(a.value + b)); return 1
            }
        }
        lua.register(global: "counter") { args in
            args.state.push(object: Counter(try args.number(1, default: 0))); return 1
        }
        return lua
    }

    func testMethodsAndMetamethods() throws {
        let lua = try makeState()
        XCTAssertEqual(try lua.evaluate("(function() local c = counter(1); c:inc(2); return c:get() end)()"), "3.0")
        XCTAssertEqual(try lua.evaluate("tostring(counter(5) + 1)"), "counter(6.0)")
        XCTAssertEqual(try lua.evaluate("#counter(7)"), "7")
        XCTAssertEqual(try lua.evaluate("counter(4).doubled"), "8.0")
        // __index: methods first (a C closure), then the getter; the getter's errors reach Lua
        XCTAssertEqual(try lua.evaluate("(function() local c = counter(2); return c.get == getmetatable(c).__methods.get and c.nope == nil and c[1] == nil end)()"), "true")
        XCTAssertThrowsError(try lua.run("getmetatable(counter()).__index(5, 'doubled')", name: "=t")) { e in
            XCTAssertTrue((e as? LuaError)?.message.contains("counter expected, got number") ?? false, "\(e)")
        }
        XCTAssertEqual(try lua.evaluate("(function() local c = counter(); c.value = 9; return c:get() end)()"), "9.0")
        XCTAssertThrowsError(try lua.run("counter().nope = 1", name: "=t")) { e in
            XCTAssertEqual((e as? LuaError)?.message, "t:1: counter.__newindex: no field nope")
        }
        XCTAssertThrowsError(try lua.run("counter.get({})", name: "=t"))
        XCTAssertThrowsError(try lua.run("local c = counter(); c.get(5)", name: "=t")) { e in
            XCTAssertEqual((e as? LuaError)?.message, "t:1: bad argument #1 to 'counter:get' (counter expected, got number)")
        }
    }

    func testGarbageCollectionReleasesSwiftObjects() throws {
        let before = Counter.live.load(ordering: .relaxed)
        let lua = try makeState()
        try lua.run("local t = {} for i = 1, 100 do t[i] = counter(i) end")
        lua.collectGarbage()
        XCTAssertEqual(Counter.live.load(ordering: .relaxed), before)
        try lua.run("keep = counter(1)")
        lua.collectGarbage()
        XCTAssertEqual(Counter.live.load(ordering: .relaxed), before + 1)
        try lua.run("keep = nil")
        lua.collectGarbage()
        XCTAssertEqual(Counter.live.load(ordering: .relaxed), before)
    }
}
