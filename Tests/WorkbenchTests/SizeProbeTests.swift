import XCTest
import LuaKit
import TestSupport

/// Issue 10 §1 and §3: sizes, counts and nesting a user chooses are checked before use.
/// Every probe here killed the host on main (SIGILL/SIGABRT/SIGSEGV); in-process, a
/// regression kills this test run, which fails it.
final class SizeProbeTests: XCTestCase {
    /// Each probe ends with a result or a Lua error; `expect` (when given) is part of the error.
    private func probe(_ h: LuaHarness, _ code: String, expect: String? = nil, file: StaticString = #filePath, line: UInt = #line) {
        let e = h.eval(code)
        XCTAssertNotEqual(e.status, .incomplete, code, file: file, line: line)
        if let expect {
            XCTAssertEqual(e.status, .error, "\(code) should fail", file: file, line: line)
            XCTAssertTrue((e.error ?? "").contains(expect), "\(code): \(e.error ?? "no error")", file: file, line: line)
        }
    }

    func testHugeAndNegativeCountsAreArgumentErrors() throws {
        let h = try LuaHarness()
        probe(h, "sample.top_k(math.maxinteger)", expect: "bad argument #1 to 'sample.top_k' (k must be an integer in [0, 2147483647], got 9223372036854775807)")
        probe(h, "metrics.ece({0.2, 0.9}, {0, 1}, {bins = 2^40})",
              expect: "bad argument #3 to 'metrics.ece' (option 'bins' must be an integer in [1, 1000000], got 1099511627776.0)")
        probe(h, "timeit(function() end, {warmup = math.maxinteger})", expect: "option 'warmup' must be an integer in [0, 100000000]")
        probe(h, "timeit(function() end, {runs = 0/0})", expect: "option 'runs' must be an integer")
        for huge in ["math.maxinteger", "math.mininteger", "2^63", "-2^63", "1e308", "-1e308", "0/0", "1/0", "2^53", "-1"] {
            // -1 is llama.cpp's "top_k off": the stage is made, and refused when used without
            // llama.cpp semantics (SampleModuleTests.testBadArguments)
            if huge == "-1" {
                probe(h, "sample.chain{sample.top_k(-1)}", expect: "k must be an integer >= 0")
            } else {
                probe(h, "sample.top_k(\(huge))", expect: "sample.top_k")
            }
            probe(h, "sample.min_p(0.1, {min_keep = \(huge)})", expect: "option 'min_keep'")
            probe(h, "sample.penalties{last_n = \(huge)}", expect: huge == "-1" ? nil : "option 'last_n'")
            probe(h, "metrics.pass_at_k(\(huge), 1, 1)", expect: "metrics.pass_at_k")
            probe(h, "metrics.pass_at_k({\(huge)}, {1}, 1)", expect: "metrics.pass_at_k")
            probe(h, "metrics.self_bleu({'a b', 'a c'}, {n = \(huge)})", expect: "option 'n'")
            probe(h, "metrics.distinct_n({'a b'}, \(huge))")
            probe(h, "plot.hist({1, 2}, {bins = \(huge), print = false})", expect: "option 'bins'")
            probe(h, "plot.hist({1, 2}, {width = \(huge), print = false})", expect: "option 'width'")
            probe(h, "plot.line({1, 2}, {height = \(huge), print = false})", expect: "option 'height'")
            probe(h, "plot.calibration({0.5}, {1}, {bins = \(huge), print = false})", expect: "option 'bins'")
            probe(h, "rl.group_advantages({1, 2}, \(huge))", expect: "group_size")
            probe(h, "rl.adaptive_kl{horizon = \(huge)}")
            probe(h, "detect.repetition('a a a', {n = \(huge)})")
            probe(h, "random.new(1):categorical({0.5, 0.5}, \(huge))")
            probe(h, "reward.score(function() return 1 end, {{}}, {workers = \(huge), progress = false})")
            probe(h, "data.from({{a = 1}}):take(\(huge)):count()")
            probe(h, "sample.chain{sample.top_k(2)}:explain({1, 2, 3}, nil, {top = \(huge)})")
            probe(h, "sample.chain{sample.top_k(2)}:apply({1, 2, 3}, {history = tensor{\(huge)}})")
        }
        // a NaN table key from Swift was raised across the host's frames (lua_rawset)
        probe(h, "sample.self_consistency({0/0, 0/0, 1})")
        probe(h, "sample.self_consistency({'a', 'b'}, {normalize = function() return 0/0 end})")
        XCTAssertEqual(try h.value("1 + 1"), "2")
    }

    /// Plots of data spanning ±1e308 draw (or refuse), never trap on an overflowing range.
    func testPlotsOfExtremeDataDraw() throws {
        let h = try LuaHarness()
        for data in ["{1e308, -1e308, 0}", "{1e308, 1e308}", "{-1e308, -1e308, 1e308}", "{math.maxinteger, math.mininteger}",
                     "{5e-324, -5e-324}", "{1.7976931348623157e308, -1.7976931348623157e308}", "{0/0, 1e308, -1/0, -1e308}"] {
            for call in ["plot.hist(\(data), {width = 40, height = 12, print = false})",
                         "plot.histogram(\(data), {bins = 3})",
                         "plot.line(\(data), {width = 40, height = 12, print = false})",
                         "plot.scatter(\(data), \(data), {width = 40, height = 12, print = false})",
                         "plot.hist(\(data), {range = {-1e308, 1e308}, print = false, width = 40, height = 12})"] {
                let e = h.eval(call)
                XCTAssertEqual(e.status, .ok, "\(call): \(e.error ?? "")")
            }
        }
        let drawn = try h.value("plot.hist({1e308, -1e308, 0}, {width = 40, height = 12, print = false, bins = 2})")
        XCTAssertTrue(drawn.contains("█"), drawn)
        XCTAssertTrue(drawn.contains("-1e308") && drawn.contains("1e308"), drawn)
    }

    /// Deep and cyclic tables read as tensors, JSON and printing end with a clear error.
    func testDeepAndCyclicInputIsRefusedWithAClearError() throws {
        let h = try LuaHarness()
        try h.run("function deep(n) local t = {} local c = t for i = 1, n do c[1] = {} c = c[1] end c[1] = 1 return t end")
        try h.run("cyc = {} cyc[1] = cyc")
        for n in [250, 300, 5000, 100000] {
            probe(h, "tensor(deep(\(n)))", expect: "nested more than 64 deep")
            probe(h, "dist.softmax(deep(\(n)))", expect: "nested more than 64 deep")
            probe(h, "pref.dpo_loss{policy_chosen = deep(\(n)), policy_rejected = {1}, ref_chosen = {1}, ref_rejected = {1}}",
                  expect: "nested more than 64 deep")
            probe(h, "data.encode(deep(\(n)))", expect: "nested deeper than 200")
            probe(h, "data.decode(string.rep('[', \(n)) .. string.rep(']', \(n)))", expect: "nesting deeper than 200")
            probe(h, "deep(\(n))")
        }
        probe(h, "tensor(cyc)", expect: "nested more than 64 deep")
        probe(h, "dist.entropy(cyc)", expect: "nested more than 64 deep")
        probe(h, "moonlab.print_depth = 1e9; return deep(100000)")
        probe(h, "moonlab.print_depth = 100000; return deep(100000)")
        try h.run("moonlab.print_depth = 4")
        XCTAssertEqual(try h.value("1 + 1"), "2")
    }

    func testARewardTooDeepForWorkersSaysSo() throws {
        let h = try LuaHarness()
        let e = h.error("""
            local t = {} local c = t for i = 1, 100 do c.x = {} c = c.x end
            local big = t
            return reward.score(function(s) return big and 1 end, {{}, {}}, {workers = 2, progress = false})
            """) ?? ""
        XCTAssertTrue(e.contains("nested deeper than 60 levels"), e)
    }
}
