import XCTest
import LuaShim
import TestSupport

/// `t[i]` and `t[i] = x` on 1-d tensors are answered by moonlab's Lua itself
/// (`lua_setelementaccess`, Sources/CLua/README.md) without calling a metamethod; every
/// other access still goes through `__index` / `__newindex`. Expected values are numpy
/// 2.4.6's: `float(np.float32(0.1))` is 0.10000000149011612, `np.int64` holds
/// 9223372036854775807, a view's writes reach its base (`b = a[::2]; b[1] = 30` sets `a[2]`).
final class TensorElementAccessTests: XCTestCase {
    /// The number of Lua "call" events (metamethod calls included) while `code` runs.
    private func calls(_ h: LuaHarness, _ code: String) throws -> Int {
        let v = try h.value("""
            local n = 0
            debug.sethook(function() n = n + 1 end, "c")
            \(code)
            debug.sethook()
            return n
            """)
        return Int(v) ?? -1
    }

    func testElementAccessOfOneDTensorsCallsNoMetamethod() throws {
        try XCTSkipIf(mlshim_has_element_access() == 0, "built on the system's liblua5.4 (MOONLAB_SYSTEM_LUA=1)")
        let h = try LuaHarness()
        try h.run("t = tensor{1, 2, 3}; tab = {1, 2, 3}; i = tensor({1, 2}, {dtype = 'i64'}); b = tensor{true, false}")
        let table = try calls(h, "local x = tab[2]; tab[3] = x; tab[1] = 7")
        XCTAssertEqual(try calls(h, "local x = t[2]; t[3] = x; t[-1] = 7"), table)
        XCTAssertEqual(try calls(h, "local x = i[2]; i[1] = x; local y = b[1]; b[2] = y"), table)
        // A strided view (a column) and a step slice take the same path.
        try h.run("m = tensor{{1, 2, 3}, {4, 5, 6}}; col = m[{{}, 2}]; odd = tensor{1, 2, 3, 4, 5}[{{1, -1, 2}}]")
        XCTAssertEqual(try calls(h, "local x = col[2]; col[1] = x; odd[3] = odd[1]"), table)
        // What it declines goes to the metamethods: a row of a 2-d tensor (the C __index,
        // then the Swift one it hands rows to), a float position (the C __index alone), a
        // position out of range (pcall, the function, both __index), a value it does not
        // store (both __newindex).
        XCTAssertEqual(try calls(h, "local r = m[1]"), table + 2)
        XCTAssertEqual(try calls(h, "local x = t[2.0]"), table + 1)
        XCTAssertEqual(try calls(h, "pcall(function() return t[4] end)"), table + 4)
        XCTAssertEqual(try calls(h, "i[1] = 2.5"), table + 2)
    }

    func testValuesThroughTheFastPathAreNumpys() throws {
        let h = try LuaHarness()
        try h.run("f = tensor({0, 0}, {dtype = 'f32'}); f[1] = 0.1; f[2] = 3")
        XCTAssertEqual(try h.value("string.format('%.17g', f[1]), math.type(f[1]), f[2], math.type(f[-1])"),
                       "0.10000000149011612\tfloat\t3.0\tfloat")
        try h.run("d = tensor.zeros{3}; d[2] = 1 / 3; d[-1] = 5")
        XCTAssertEqual(try h.value("string.format('%.17g', d[2]), d[3], math.type(d[3])"),
                       "0.33333333333333331\t5.0\tfloat")
        try h.run("i = tensor({0, 0, 0}, {dtype = 'i64'}); i[1] = math.maxinteger; i[-1] = math.mininteger")
        XCTAssertEqual(try h.value("i[1], i[3], math.type(i[2])"),
                       "9223372036854775807\t-9223372036854775808\tinteger")
        // numpy's casts where the fast path declines: 2.5 into int64 truncates, 1 into bool is true.
        try h.run("i[2] = 2.5")
        XCTAssertEqual(try h.value("i[2]"), "2")
        try h.run("b = tensor{true, false}; b[2] = true; b[1] = 0")
        XCTAssertEqual(try h.value("b[1], b[2], b:dtype()"), "false\ttrue\tbool")
        // Views write through to their base, in both directions.
        try h.run("m = tensor{{1, 2, 3}, {4, 5, 6}}; col = m[{{}, 2}]; col[2] = 50; m[1][2] = 20")
        XCTAssertEqual(try h.value("m[2][2], col[1], col[-1]"), "50.0\t20.0\t50.0")
        try h.run("s = tensor{1, 2, 3, 4, 5}; odd = s[{{1, -1, 2}}]; odd[2] = 30")
        XCTAssertEqual(try h.value("s[3], #odd, odd[3]"), "30.0\t3\t5.0")
        try h.run("tt = tensor{{1, 2}, {3, 4}}:T(); r = tt[1]; r[2] = 30")
        XCTAssertEqual(try h.value("tt[1][2], r[1]"), "30.0\t1.0")
        // A clone shares nothing: writing it leaves the original as it was.
        try h.run("a = tensor{1, 2, 3}; c = a:clone(); c[1] = 9")
        XCTAssertEqual(try h.value("a[1], c[1]"), "1.0\t9.0")
        // The errors are the metamethods' own.
        XCTAssertTrue(h.error("return a[4]")?.contains("tensor index 4 is out of range for axis 1 of shape [3]") ?? false)
        XCTAssertTrue(h.error("a[-4] = 1")?.contains("tensor index -4 is out of range") ?? false)
        XCTAssertTrue(h.error("a[1] = 'x'")?.contains("x must be a number, boolean, tensor or array, got string") ?? false)
        // Other userdata are untouched: files still index as before.
        XCTAssertTrue(h.error("return io.stdout[1]") == nil)
    }

    /// The loop the benchmark times gives the table loop's sum.
    func testLoopSumsAgreeWithTheTable() throws {
        let h = try LuaHarness()
        try h.run("t = tensor.arange(1, 1001); tab = t:totable()")
        XCTAssertEqual(try h.value("local s, u = 0, 0; for k = 1, #t do s = s + t[k]; u = u + tab[k] end; return s, u"),
                       "500500.0\t500500.0")
    }
}
