import XCTest
import TestSupport

/// The `random` module from Lua: generators, their state, split, the default generator
/// and tensor.randn. The streams themselves are pinned in AlignMathTests (RandomTests).
final class RandomModuleTests: XCTestCase {
    func testSameSeedSameStreamAcrossStates() throws {
        let draw = "(function() local g = random.new(42) return string.format('%.17g %.17g %.17g %d %d', g:uniform(), g:normal(), g:gumbel(), g:categorical{0.1, 0.2, 0.7}, g:categorical(tensor{1, 0, 0})) end)()"
        let a = try LuaHarness().value(draw), b = try LuaHarness(seed: 7).value(draw)
        XCTAssertEqual(a, b, "an explicit seed does not depend on --seed")
        XCTAssertTrue(a.hasSuffix(" 0"), "categorical ids are 0-based: all weight on the first gives 0 (\(a))")
        XCTAssertNotEqual(try LuaHarness().value("random.new(1):uniform()"), try LuaHarness().value("random.new(2):uniform()"))
        // Negative seeds are accepted (two's complement), and differ from positive ones.
        XCTAssertNotEqual(try LuaHarness().value("random.new(-1):uniform()"), try LuaHarness().value("random.new(1):uniform()"))
    }

    func testUniformNormalRanges() throws {
        let h = try LuaHarness()
        try h.run("""
            g = random.new(3); lo, hi, s, s2 = 1, 0, 0, 0
            for i = 1, 20000 do local u = g:uniform(); lo = math.min(lo, u); hi = math.max(hi, u) end
            for i = 1, 20000 do local z = g:normal(); s = s + z; s2 = s2 + z * z end
            """)
        XCTAssertEqual(try h.value("lo >= 0 and hi < 1"), "true")
        XCTAssertEqual(try h.value("math.abs(s / 20000) < 0.03 and math.abs(s2 / 20000 - 1) < 0.05"), "true")
        XCTAssertEqual(try h.value("(function() local u = g:uniform(5, 6) return u >= 5 and u < 6 end)()"), "true")
        XCTAssertEqual(try h.value("(function() local a = random.new(9); local b = random.new(9) return b:normal(10, 2) == 10 + 2 * a:normal() end)()"), "true")
    }

    func testCategoricalFrequenciesAndManyDraws() throws {
        let h = try LuaHarness()
        // 20000 draws of {0.2, 0.3, 0.5}: each count within 4 standard deviations.
        try h.run("""
            g = random.new(11); c = {[0] = 0, 0, 0}
            for i = 1, 20000 do local k = g:categorical{0.2, 0.3, 0.5}; c[k] = c[k] + 1 end
            """)
        XCTAssertEqual(try h.value("math.abs(c[0] - 4000) < 230 and math.abs(c[1] - 6000) < 260 and math.abs(c[2] - 10000) < 290"), "true")
        XCTAssertEqual(try h.value("c[3] == nil"), "true")
        // n draws through the alias table come back as a tensor of ids; zero weight never drawn.
        try h.run("ids = random.new(1):categorical({0, 1, 3}, 4000)")
        XCTAssertEqual(try h.value("ids:numel(), ids:dtype()"), "4000\ti64")
        XCTAssertEqual(try h.value("ids:min() >= 1 and ids:max() == 2"), "true")
        XCTAssertEqual(try h.value("math.abs((ids - 1):sum() / 4000 - 0.75) < 0.04"), "true")
        XCTAssertEqual(h.bareError("random.new(0):categorical{0, 0}"),
                       "bad argument #2 to 'random.generator:categorical' (probs must have a positive sum, got 0)")
        XCTAssertEqual(h.bareError("random.new(0):categorical{0.5, -1}"),
                       "bad argument #2 to 'random.generator:categorical' (probs must be finite and >= 0, got -1.0 at position 2)")
    }

    func testStateRoundTrip() throws {
        let h = try LuaHarness()
        try h.run("g = random.new(5); g:normal(); s = g:state(); a = {g:uniform(), g:normal(), g:normal()}")
        XCTAssertEqual(try h.value("#s"), "96")
        XCTAssertEqual(try h.value("s:match('^%x+$') ~= nil"), "true")
        // Restoring replays the same numbers, including the cached second normal.
        try h.run("g:set_state(s); b = {g:uniform(), g:normal(), g:normal()}")
        XCTAssertEqual(try h.value("a[1] == b[1] and a[2] == b[2] and a[3] == b[3]"), "true")
        // Into another generator, and as an array of words.
        XCTAssertEqual(try h.value("random.new(99):set_state(s):uniform() == a[1]"), "true")
        XCTAssertEqual(try h.value("(function() local x = random.new(1); local w = random.new(1) w:set_state({1, 2, 3, 4}); x:set_state({1, 2, 3, 4, 0, 0}) return x:uniform() == w:uniform() end)()"), "true")
        XCTAssertEqual(h.bareError("g:set_state('abc')"),
                       "bad argument #2 to 'random.generator:set_state' (state must be the 96 hex digits that g:state() returns, got a string of 3 bytes)")
        XCTAssertEqual(h.bareError("g:set_state({0, 0, 0, 0})"),
                       "bad argument #2 to 'random.generator:set_state' (state must not be all zero (xoshiro would emit only zeros))")
    }

    func testSplitAndCopy() throws {
        let h = try LuaHarness()
        try h.run("""
            p = random.new(8); q = random.new(8)
            c1 = p:split(); d1 = q:split()
            """)
        // Deterministic: the same parent state gives the same child.
        XCTAssertEqual(try h.value("c1:uniform() == d1:uniform()"), "true")
        // Independent: child, next child and parent give different streams, uncorrelated.
        try h.run("""
            c2 = p:split()
            n, sxy, sx, sy = 5000, 0, 0, 0
            for i = 1, n do local x, y = c2:uniform(), p:uniform(); sx = sx + x; sy = sy + y; sxy = sxy + x * y end
            corr = sxy / n - (sx / n) * (sy / n)
            """)
        XCTAssertEqual(try h.value("math.abs(corr) < 0.01"), "true")
        XCTAssertEqual(try h.value("c1:uniform() ~= c2:uniform()"), "true")
        XCTAssertEqual(try h.value("(function() local g = random.new(4); g:uniform(); local k = g:copy() return k:uniform() == g:uniform() end)()"), "true")
    }

    func testDefaultGeneratorFollowsSeed() throws {
        let expr = "string.format('%.17g %.17g', random.default:uniform(), random.new():uniform())"
        XCTAssertEqual(try LuaHarness(seed: 3).value(expr), try LuaHarness(seed: 3).value(expr), "a session replays")
        XCTAssertNotEqual(try LuaHarness(seed: 3).value(expr), try LuaHarness(seed: 4).value(expr))
        XCTAssertEqual(try LuaHarness(seed: 3).value("random.default:uniform() == random.new(3):uniform()"), "true")
    }

    func testRandnAndPrinting() throws {
        let h = try LuaHarness()
        XCTAssertEqual(try h.value("tensor.randn({2, 3}, random.new(0)):equal(tensor.randn({2, 3}, random.new(0)))"), "true")
        XCTAssertEqual(try h.value("tensor.randn({4}, random.new(2))[1] == random.new(2):normal()"), "true")
        XCTAssertTrue(try h.value("random.new(0)").hasPrefix("random.generator(state "))
        XCTAssertEqual(h.bareError("random.new('x')"), "bad argument #1 to 'random.new' (integer expected, got string)")
    }

    func testEveryFunctionDocumented() throws {
        let h = try LuaHarness()
        for name in ["uniform", "normal", "gumbel", "categorical", "state", "set_state", "split", "copy"] {
            try h.run("help(random.methods.\(name))")
            let doc = h.takeOutput()
            XCTAssertTrue(doc.hasPrefix("g:\(name)("), "help for \(name): \(doc)")
            XCTAssertTrue(doc.contains("Example:"), "example for \(name)")
        }
        try h.run("help(random.new)")
        XCTAssertTrue(h.takeOutput().hasPrefix("random.new([seed], {engine = \"moonlab\"}) -> generator"))
        try h.run("help(random)")
        XCTAssertTrue(h.takeOutput().contains("random.new([seed]"))
    }
}
