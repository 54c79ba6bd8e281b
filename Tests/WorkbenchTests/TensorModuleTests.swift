import XCTest
import Foundation
import AlignMath
import LuaKit
import Workbench
import TestSupport

/// Shared helpers for the Lua-level module tests.
extension LuaHarness {
    /// The value of a numeric Lua expression, at full precision.
    func number(_ expr: String) throws -> Double {
        let s = try value("string.format('%.17g', \(expr))")
        return Double(s) ?? .nan
    }

    /// The error message of `code` without the `[n]:1: ` position of the entry.
    func message(_ code: String) -> String? {
        guard let e = error(code) else { return nil }
        guard let r = e.range(of: #"^\[\d+\]:\d+: "#, options: .regularExpression) else { return e }
        return String(e[r.upperBound...])
    }
}

final class TensorModuleTests: XCTestCase {
    /// numpy 2.4.6 with Python ints: np.arange(2**53 + 1, 2**53 + 4, dtype=np.int64) is
    /// [9007199254740993, 9007199254740994, 9007199254740995]; np.arange(2**62, 2**62 + 10, 3,
    /// dtype=np.int64) is [4611686018427387904, ...907, ...910, ...913]; np.arange(-2**63,
    /// -2**63 + 3, dtype=np.int64) starts at -9223372036854775808; np.arange(2**63 - 1, -2**63,
    /// -2**63, dtype=np.int64) is [9223372036854775807, -1]. Through Doubles the first began
    /// at ...992 and the next two were empty.
    func testArangeOfLuaIntegersIntoI64IsExactAsNumpy() throws {
        let h = try LuaHarness()
        XCTAssertEqual(try h.value("tensor.arange((1 << 53) + 1, (1 << 53) + 4, {dtype = 'i64'}):totable()"),
                       "{9007199254740993, 9007199254740994, 9007199254740995}")
        XCTAssertEqual(try h.value("tensor.arange(1 << 62, (1 << 62) + 10, 3, {dtype = 'i64'}):totable()"),
                       "{4611686018427387904, 4611686018427387907, 4611686018427387910, 4611686018427387913}")
        XCTAssertEqual(try h.value("tensor.arange(math.mininteger, math.mininteger + 3, 1, {dtype = 'i64'}):totable()"),
                       "{-9223372036854775808, -9223372036854775807, -9223372036854775806}")
        XCTAssertEqual(try h.value("tensor.arange(math.maxinteger, math.mininteger, math.mininteger, {dtype = 'i64'}):totable()"),
                       "{9223372036854775807, -1}")
        XCTAssertEqual(try h.value("tensor.arange(5, 0, -2, {dtype = 'i64'}):totable()"), "{5, 3, 1}")
        XCTAssertEqual(try h.value("tensor.arange(4, {dtype = 'i64'}):totable()"), "{0, 1, 2, 3}")
        XCTAssertEqual(try h.value("tensor.arange(3, 3, {dtype = 'i64'}):numel()"), "0")
        XCTAssertThrowsError(try h.value("tensor.arange(0, 5, 0, {dtype = 'i64'})"))
        XCTAssertThrowsError(try h.value("tensor.arange(math.mininteger, math.maxinteger, {dtype = 'i64'})"))
    }

    func testConstructorsShapesAndDtypes() throws {
        let h = try LuaHarness()
        XCTAssertEqual(try h.value("tensor{1, 2, 3}:shape()"), "{3}")
        XCTAssertEqual(try h.value("tensor{{1, 2}, {3, 4}, {5, 6}}:shape()"), "{3, 2}")
        XCTAssertEqual(try h.value("tensor{{{1}, {2}}, {{3}, {4}}}:shape()"), "{2, 2, 1}")
        XCTAssertEqual(try h.value("tensor{}:shape()"), "{0}")
        XCTAssertEqual(try h.value("tensor{1, 2, 3}:dtype()"), "f64")
        XCTAssertEqual(try h.value("tensor.zeros{2, 3}:numel()"), "6")
        XCTAssertEqual(try h.value("tensor.zeros(4):shape()"), "{4}")
        XCTAssertEqual(try h.value("tensor.ones{2}:totable()"), "{1.0, 1.0}")
        XCTAssertEqual(try h.value("tensor.full({2, 2}, 7):totable()"), "{{7.0, 7.0}, {7.0, 7.0}}")
        XCTAssertEqual(try h.value("tensor.full({1}, -math.huge)[1]"), "-inf")
        XCTAssertEqual(try h.value("tensor.zeros({2}, {dtype = 'f32'}):dtype()"), "f32")
        XCTAssertEqual(try h.value("tensor.arange(0, 1, 0.25):totable()"), "{0.0, 0.25, 0.5, 0.75}")
        XCTAssertEqual(try h.value("tensor.arange(3):totable()"), "{0.0, 1.0, 2.0}")
        XCTAssertEqual(try h.value("tensor.arange(5, 1, -2):totable()"), "{5.0, 3.0}")
        // np.full((2,), True) is bool; a dtype casts it (numpy 2.4.6)
        XCTAssertEqual(try h.value("tensor.full({2}, true):dtype()"), "bool")
        XCTAssertEqual(try h.value("tensor.full({2}, true):totable()"), "{true, true}")
        XCTAssertEqual(try h.value("tensor.full({}, false, {dtype = 'i64'}):totable()"), "0")
        XCTAssertEqual(try h.value("tensor.full({1}, true, {dtype = 'f32'}):totable()"), "{1.0}")
        // sizes one per argument, as torch's x.reshape(6, 1) (it gave shape [6] before)
        XCTAssertEqual(try h.value("tensor{{1, 2, 3}, {4, 5, 6}}:reshape(6, 1):shape()"), "{6, 1}")
        XCTAssertEqual(try h.value("tensor{{1, 2, 3}, {4, 5, 6}}:reshape(3, -1):shape()"), "{3, 2}")
        XCTAssertEqual(try h.value("tensor{1, 2}:expand(3, 2):shape()"), "{3, 2}")
        XCTAssertEqual(try h.value("tensor.zeros{2, 3, 4}:permute(3, 1, 2):shape()"), "{4, 2, 3}")
        XCTAssertNotNil(h.error("tensor{1, 2}:reshape(2, 'x')"))
        // torch's positional forms: torch.zeros(2, 3), x.topk(k, dim), torch.cat(list, dim)
        XCTAssertEqual(try h.value("tensor.zeros(2, 3):shape()"), "{2, 3}")
        XCTAssertEqual(try h.value("tensor.ones(1, 2, {dtype = 'i64'}):totable()"), "{{1, 1}}")
        XCTAssertEqual(try h.value("select(2, tensor{{1, 5, 3}, {4, 2, 6}}:topk(1, 1)):totable()"), "{{2, 1, 2}}")
        XCTAssertEqual(try h.value("select(2, tensor{{1, 5, 3}, {4, 2, 6}}:topk(2, -1, {largest = false})):totable()"), "{{1, 3}, {2, 1}}")
        XCTAssertEqual(try h.value("tensor.cat({tensor{{1}}, tensor{{2}}}, 2):shape()"), "{1, 2}")
        XCTAssertEqual(try h.value("tensor.stack({tensor{1}, tensor{2}}, -1):shape()"), "{1, 2}")
        // np.round(x, 2) and torch.flatten(x, start_dim): both arguments were ignored
        XCTAssertEqual(try h.value("tensor{1.234, -5.678}:round(2):totable()"), "{1.23, -5.68}")
        XCTAssertEqual(try h.value("tensor.zeros{2, 3, 4}:flatten(2):shape()"), "{2, 12}")
        XCTAssertEqual(try h.value("tensor.zeros{2, 3, 4, 5}:flatten(2, -2):shape()"), "{2, 12, 5}")
        // np.linspace(-3.3, 8.1, 13, dtype=np.int64)[0] is floored, -4 (torch truncates to -3)
        XCTAssertEqual(try h.value("tensor.linspace(-3.3, 8.1, 13, {dtype = 'i64'})[1]"), "-4")
        XCTAssertEqual(try h.value("tensor.arange(0, 3, {dtype = 'f32'}):dtype()"), "f32")
        XCTAssertEqual(try h.value("tensor.from({1, 2, 3}, {dtype = 'f32'}):dtype()"), "f32")
        XCTAssertEqual(try h.value("tensor.from{{1, 2}, {3, 4}}:shape()"), "{2, 2}")
        // from() and tensor(t) copy; to() converts (or returns t itself when it matches).
        try h.run("a = tensor{1, 2}; b = tensor.from(a); c = tensor(a); b[1] = 9; c[2] = 9")
        XCTAssertEqual(try h.value("a:totable()"), "{1.0, 2.0}")
        XCTAssertEqual(try h.value("a:to('f32'):dtype(), a:to('f64') == a"), "f32\ttrue")
        XCTAssertEqual(try h.value("tensor({0.1}, {dtype = 'f32'})[1] == 0.1"), "false")
    }

    func testRandnDrawsNormalsFromTheGenerator() throws {
        let h = try LuaHarness()
        // The `random` module is written separately; without it, register the generator type here.
        if try h.value("type(random)") != "table" || (try h.value("type(random.new)")) != "function" {
            let lua = h.workbench.lua
            lua.register(type: RandomGenerator.self, name: "random.generator") { _ in }
            lua.push(function: "newrng") { a in a.state.push(object: RandomGenerator(seed: try a.integer(1))); return 1 }
            lua.setGlobal("newrng")
        } else {
            try h.run("newrng = random.new")
        }
        let reference = RandomGenerator(seed: 7)
        let expected = (0..<6).map { _ in reference.normal() }
        try h.run("r = tensor.randn({2, 3}, newrng(7))")
        XCTAssertEqual(try h.value("r:shape()"), "{2, 3}")
        for (k, e) in expected.enumerated() {
            XCTAssertEqual(try h.number("r[\(k / 3 + 1)][\(k % 3 + 1)]"), e)
        }
        XCTAssertEqual(try h.value("tensor.randn(4, newrng(1), {dtype = 'f32'}):dtype()"), "f32")
        XCTAssertEqual(try h.value("tensor.randn(3, newrng(5)):equal(tensor.randn(3, newrng(5)))"), "true")
        XCTAssertTrue(h.message("tensor.randn({2}, 5)")?.hasPrefix("bad argument #2 to 'tensor.randn' (") ?? false)
    }

    func testIndexingIsOneBasedAndRowsAreViews() throws {
        let h = try LuaHarness()
        try h.run("t = tensor{{1, 2, 3}, {4, 5, 6}}")
        XCTAssertEqual(try h.value("#t, t[2][3], #t[1]"), "2\t6.0\t3")
        XCTAssertEqual(try h.value("t[1]:shape()"), "{3}")
        // A row is a view: writes go through to the base, in both directions.
        try h.run("r = t[2]; r[1] = 40; t[1][2] = 20")
        XCTAssertEqual(try h.value("t:totable()"), "{{1.0, 20.0, 3.0}, {40.0, 5.0, 6.0}}")
        XCTAssertEqual(try h.value("r[1]"), "40.0")
        // Whole rows: a number fills, an array or tensor of the row's shape copies.
        try h.run("t[1] = 0; t[2] = {7, 8, 9}")
        XCTAssertEqual(try h.value("t:totable()"), "{{0.0, 0.0, 0.0}, {7.0, 8.0, 9.0}}")
        try h.run("t[1] = tensor{1, 1, 1}")
        XCTAssertEqual(try h.value("t[1]:totable()"), "{1.0, 1.0, 1.0}")
        // 3-d: t[i] is a 2-d view, t[i][j] a 1-d view.
        try h.run("c = tensor.zeros{2, 2, 2}; c[2][1][2] = 5")
        XCTAssertEqual(try h.value("c:totable()"), "{{{0.0, 0.0}, {0.0, 0.0}}, {{0.0, 5.0}, {0.0, 0.0}}}")
        // Writes into slices and reshapes reach the base too.
        try h.run("v = tensor{1, 2, 3, 4}; v:slice(2, 3)[1] = 20; v:reshape{2, 2}[2][2] = 40")
        XCTAssertEqual(try h.value("v:totable()"), "{1.0, 20.0, 3.0, 40.0}")
        // Unknown string keys are nil, like a table's; methods are found.
        XCTAssertEqual(try h.value("t.nope, type(t.sum)"), "nil\tfunction")
    }

    func testBadIndexesAreClearErrors() throws {
        let h = try LuaHarness()
        try h.run("t = tensor{1, 2, 3}; m = tensor{{1, 2}}")
        let range = "is out of range for axis 1 of shape [3] (positions are 1..3 or -3..-1)"
        XCTAssertEqual(h.message("return t[0]"), "tensor index 0 \(range)")
        XCTAssertEqual(h.message("return t[4]"), "tensor index 4 \(range)")
        XCTAssertEqual(h.message("return t[-4]"), "tensor index -4 \(range)")
        XCTAssertEqual(try h.value("t[-1], t[-3]"), "3.0\t1.0")
        XCTAssertEqual(h.message("t[5] = 1"), "tensor index 5 \(range)")
        XCTAssertEqual(h.message("return t[1.5]"), "tensor index must be an integer position, got 1.5")
        XCTAssertEqual(h.message("return t[{1, 1}]"), "tensor index has 2 entries, the tensor has 1 axes (shape [3])")
        XCTAssertEqual(h.message("t.x = 1"), "tensor index must be an integer position, a table of ranges or a bool mask, got string (a tensor has no fields to set)")
        XCTAssertEqual(h.message("t[1] = 'a'"), "tensor[...] = x: x must be a number, boolean, tensor or array, got string")
        XCTAssertEqual(h.message("m[1] = {1, 2, 3}"), "tensor[...] = x: cannot write a value of shape [3] into a view of shape [2]")
        XCTAssertEqual(h.message("return tensor.zeros{0}[1]"), "tensor index 1 is out of range for axis 1 of shape [0] (the axis is empty)")
        XCTAssertEqual(h.message("return #tensor.zeros{}"), "length of a 0-d tensor (it has no axis)")
        // Errors from indexing name the Lua line that indexed (the C fast path hands over to
        // Swift, whose error would otherwise have no position), and the shape.
        XCTAssertEqual(h.error("local m = tensor.zeros{2, 3}\nreturn m[{3}]"),
                       "[14]:2: tensor index 3 is out of range for axis 1 of shape [2, 3] (positions are 1..2 or -2..-1)")
        XCTAssertEqual(h.error("t[9] = 0"), "[15]:1: tensor index 9 \(range)")
        // The C fast path of t[i] reads only the boxes it made: the metamethods called on
        // another userdata go to the checked path and its error, never read foreign memory.
        try h.run("mt = getmetatable(t)")
        for call in ["mt.__index(io.stdout, 1)", "mt.__newindex(io.stdout, 1, 2)"] {
            let e = h.message("return " + call) ?? ""
            XCTAssertTrue(e.contains("bad argument #1"), "\(call): \(e)")
        }
        XCTAssertEqual(try h.value("mt.__index(t, 2), mt.__index(m, 1):shape()"), "2.0\t{2}")
        // AlignMath's own "matmul: " is not repeated after the function's name.
        XCTAssertEqual(h.message("return tensor.matmul(m, m)"), "tensor.matmul: shapes [1, 2] and [1, 2] do not align (2 vs 1 on the summed axis)")
    }

    func testArithmeticMetamethods() throws {
        let h = try LuaHarness()
        try h.run("a = tensor{1, 2, 3}; b = tensor{4, 5, 6}; m = tensor{{1, 2, 3}, {4, 5, 6}}")
        XCTAssertEqual(try h.value("(a + b):totable()"), "{5.0, 7.0, 9.0}")
        XCTAssertEqual(try h.value("(b - a):totable()"), "{3.0, 3.0, 3.0}")
        XCTAssertEqual(try h.value("(a * b):totable()"), "{4.0, 10.0, 18.0}")
        XCTAssertEqual(try h.value("(b / a):totable()"), "{4.0, 2.5, 2.0}")
        XCTAssertEqual(try h.value("(a ^ 2):totable()"), "{1.0, 4.0, 9.0}")
        XCTAssertEqual(try h.value("(-a):totable()"), "{-1.0, -2.0, -3.0}")
        // A scalar on either side keeps its side.
        XCTAssertEqual(try h.value("(10 - a):totable()"), "{9.0, 8.0, 7.0}")
        XCTAssertEqual(try h.value("(a - 10):totable()"), "{-9.0, -8.0, -7.0}")
        XCTAssertEqual(try h.value("(2 ^ a):totable()"), "{2.0, 4.0, 8.0}")
        XCTAssertEqual(try h.value("(6 / a):totable()"), "{6.0, 3.0, 2.0}")
        // Last-axis broadcast, and Lua arrays as operands.
        XCTAssertEqual(try h.value("(m + a):totable()"), "{{2.0, 4.0, 6.0}, {5.0, 7.0, 9.0}}")
        XCTAssertEqual(try h.value("(a * m):totable()"), "{{1.0, 4.0, 9.0}, {4.0, 10.0, 18.0}}")
        XCTAssertEqual(try h.value("(a + {1, 1, 1}):totable()"), "{2.0, 3.0, 4.0}")
        XCTAssertEqual(try h.value("({1, 1, 1} - a):totable()"), "{0.0, -1.0, -2.0}")
        // The wider dtype wins; f32 with a scalar stays f32.
        XCTAssertEqual(try h.value("(tensor.from({1}, {dtype = 'f32'}) + tensor{1}):dtype()"), "f64")
        XCTAssertEqual(try h.value("(tensor.from({1}, {dtype = 'f32'}) * 2):dtype()"), "f32")
        // Results are new tensors.
        XCTAssertEqual(try h.value("a:totable()"), "{1.0, 2.0, 3.0}")
        XCTAssertEqual(h.message("return a + tensor{1, 2}"),
                       "tensor '+': shapes [3] and [2] do not broadcast (each axis, aligned from the last, must be equal or 1)")
        XCTAssertEqual(h.message("return a * 'x'"), "attempt to perform arithmetic ('*') on a tensor and a string value")
        XCTAssertEqual(try h.value("(true - a):totable()"), "{0.0, -1.0, -2.0}")  // a weak bool, as numpy's True - a
    }

    func testEqualityIsIdentityAndEqualComparesValues() throws {
        let h = try LuaHarness()
        try h.run("a = tensor{1, 2}; b = tensor{1, 2}; r = tensor{{1, 2}}")
        XCTAssertEqual(try h.value("a == a, a == b, a ~= b"), "true\tfalse\ttrue")
        XCTAssertEqual(try h.value("a:equal(b), a:equal{1, 2}, a:equal{1, 3}, a:equal(r)"), "true\ttrue\tfalse\tfalse")
        XCTAssertEqual(try h.value("a:equal(tensor.from({1, 2}, {dtype = 'f32'}))"), "true")
        XCTAssertEqual(try h.value("tensor{0/0}:equal(tensor{0/0})"), "false")
        try h.run("keys = {[a] = 1}")
        XCTAssertEqual(try h.value("keys[a], keys[b]"), "1\tnil")
    }

    func testReductionsWholeAndAlongTheLastAxis() throws {
        let h = try LuaHarness()
        try h.run("v = tensor{1, 2, 3, 4}; m = tensor{{1, 5, 3}, {4, 2, 9}}")
        XCTAssertEqual(try h.value("v:sum(), v:mean(), v:min(), v:max(), v:argmax()"), "10.0\t2.5\t1.0\t4.0\t4")
        // Unbiased std, as torch.std / numpy.std(ddof=1): 1.2909944487358056.
        XCTAssertEqual(try h.number("v:std()"), 1.2909944487358056, accuracy: 1e-15)
        XCTAssertEqual(try h.value("m:sum{axis = -1}:totable()"), "{9.0, 15.0}")
        XCTAssertEqual(try h.value("m:mean{axis = -1}:totable()"), "{3.0, 5.0}")
        XCTAssertEqual(try h.value("m:min{axis = -1}:totable()"), "{1.0, 2.0}")
        XCTAssertEqual(try h.value("m:max{axis = 2}:totable()"), "{5.0, 9.0}")
        XCTAssertEqual(try h.number("m:std{axis = -1}[1]"), 2)
        XCTAssertEqual(try h.number("m:std{axis = -1}[2]"), sqrt(13.0), accuracy: 1e-15)
        XCTAssertEqual(try h.value("m:argmax{axis = -1}:totable()"), "{2, 3}")
        XCTAssertEqual(try h.value("m:argmax()"), "6")
        // A 1-d tensor reduced along its axis gives a number; a 3-d one a 2-d tensor.
        XCTAssertEqual(try h.value("v:sum{axis = -1}, v:argmax{axis = -1}"), "10.0\t4")
        XCTAssertEqual(try h.value("tensor.ones{2, 3, 4}:sum{axis = -1}:shape()"), "{2, 3}")
        XCTAssertEqual(try h.value("tensor{}:sum(), tensor{}:mean()"), "0.0\tnan")
        XCTAssertEqual(try h.value("tensor{1}:std()"), "nan")
        XCTAssertEqual(h.message("return tensor{}:max()"), "tensor:max: max of an empty tensor (shape [0]): it has no value")
        XCTAssertEqual(try h.value("m:sum{axis = 1}:totable(), m:sum(1):totable(), m:sum{1}:totable()"), "{5.0, 7.0, 12.0}\t{5.0, 7.0, 12.0}\t{5.0, 7.0, 12.0}")
        // The axis as a number, then an options table: its keepdim and ddof are read, not dropped.
        XCTAssertEqual(try h.value("m:sum(2, {keepdim = true}):shape(), m:sum{2, keepdim = true}:shape()"), "{2, 1}\t{2, 1}")
        XCTAssertEqual(try h.number("m:var(2, {ddof = 0})[1]"), try h.number("m:var{axis = 2, ddof = 0}[1]"))
        XCTAssertNotEqual(try h.number("m:var(2, {ddof = 0})[1]"), try h.number("m:var(2)[1]"))
        XCTAssertEqual(h.message("return m:sum(2, {keep = true})"),
                       "bad argument #3 to 'tensor:sum' (unknown option 'keep'; valid options: axis, keepdim)")
        XCTAssertEqual(h.message("return m:sum{axes = 1}"),
                       "bad argument #2 to 'tensor:sum' (unknown option 'axes'; valid options: axis, keepdim)")
        XCTAssertEqual(h.message("return m:sum{axis = 3}"), "bad argument #2 to 'tensor:sum' (axis 3 is out of range (axes are 1..2 or -2..-1))")
        XCTAssertEqual(h.message("return m:mean{axis = 'last'}"), "bad argument #2 to 'tensor:mean' (option 'axis' must be an integer, got string)")
    }

    func testElementwiseAndMap() throws {
        let h = try LuaHarness()
        try h.run("v = tensor{1, 4, 9}")
        XCTAssertEqual(try h.value("v:sqrt():totable()"), "{1.0, 2.0, 3.0}")
        XCTAssertEqual(try h.value("(-v):abs():totable()"), "{1.0, 4.0, 9.0}")
        XCTAssertEqual(try h.number("tensor{0, 1}:exp()[2]"), M_E)
        XCTAssertEqual(try h.value("tensor{1, 0}:log():totable()"), "{0.0, -inf}")
        XCTAssertEqual(try h.value("tensor{-2, 0.5, 3}:clamp(0, 1):totable()"), "{0.0, 0.5, 1.0}")
        XCTAssertEqual(try h.value("tensor{-2, 0.5, 3}:clamp(nil, 1):totable()"), "{-2.0, 0.5, 1.0}")
        XCTAssertEqual(try h.value("tensor{-2, 0.5, 3}:clamp(0):totable()"), "{0.0, 0.5, 3.0}")
        // np.clip([1, 4, 9], 2, 1) is [1, 1, 1] (numpy 2.4.6; torch.clamp the same): no error
        XCTAssertEqual(try h.value("v:clamp(2, 1):totable()"), "{1.0, 1.0, 1.0}")
        XCTAssertEqual(try h.value("v:map(function(x) return x % 2 end):totable()"), "{1.0, 0.0, 1.0}")
        XCTAssertEqual(try h.value("tensor{{1, 2}, {3, 4}}:map(function(x) return -x end):totable()"), "{{-1.0, -2.0}, {-3.0, -4.0}}")
        XCTAssertEqual(try h.value("tensor.from({1}, {dtype = 'f32'}):map(function(x) return x end):dtype()"), "f32")
        XCTAssertEqual(h.message("return v:map(function(x) return 'a' end)"),
                       "tensor:map: fn must return a number, got string for element 1")
        XCTAssertEqual(h.message("return v:map(5)"), "bad argument #2 to 'tensor:map' (function expected, got number)")
        // An error inside fn comes back as a Lua error, and the state keeps working.
        let e = h.message("return v:map(function(x) if x > 2 then error('too big: ' .. x) end return x end)")
        XCTAssertTrue(e?.hasSuffix("too big: 4.0") ?? false, e ?? "nil")
        XCTAssertEqual(try h.value("v:map(function(x) return x + 1 end):sum()"), "17.0")
        // The originals are untouched.
        XCTAssertEqual(try h.value("v:totable()"), "{1.0, 4.0, 9.0}")
    }

    func testSliceReshapeTotableCloneSort() throws {
        let h = try LuaHarness()
        try h.run("v = tensor{10, 20, 30, 40}")
        XCTAssertEqual(try h.value("v:slice(2, 3):totable()"), "{20.0, 30.0}")
        XCTAssertEqual(try h.value("v:slice(3):totable()"), "{30.0, 40.0}")
        XCTAssertEqual(try h.value("v:slice(3, 2):numel()"), "0")
        XCTAssertEqual(try h.value("tensor{{1, 2}, {3, 4}, {5, 6}}:slice(2, 3):totable()"), "{{3.0, 4.0}, {5.0, 6.0}}")
        XCTAssertEqual(h.message("return v:slice(0, 2)"),
                       "tensor:slice: rows 0..2 out of range for axis 1 of shape [4] (positions are 1..4 or -4..-1)")
        XCTAssertEqual(h.message("return v:slice(2, 5)"),
                       "tensor:slice: rows 2..5 out of range for axis 1 of shape [4] (positions are 1..4 or -4..-1)")
        XCTAssertEqual(try h.value("v:slice(1, 4, 2):totable(), v:slice(-1, 1, -2):totable()"), "{10.0, 30.0}\t{40.0, 20.0}")
        XCTAssertEqual(try h.value("v:reshape{2, 2}:totable()"), "{{10.0, 20.0}, {30.0, 40.0}}")
        XCTAssertEqual(try h.value("v:reshape{-1, 1}:shape()"), "{4, 1}")
        XCTAssertEqual(h.message("return v:reshape{3, 2}"), "tensor:reshape: cannot reshape [4] (4 elements) into [3, 2]")
        XCTAssertEqual(h.message("return v:reshape{-2, 2}"),
                       "bad argument #2 to 'tensor:reshape' (shape sizes must be >= 0 (or one -1), got -2 at entry 1)")
        XCTAssertEqual(try h.value("tensor{10}:reshape{}"), "tensor(10., dtype=f64)")
        XCTAssertEqual(try h.value("v:slice(1, 1):reshape{}:totable()"), "10.0")
        try h.run("c = v:clone(); c[1] = 0")
        XCTAssertEqual(try h.value("v[1], c[1]"), "10.0\t0.0")
        try h.run("s = tensor{3, 0/0, 1, 2}:sort()")
        XCTAssertEqual(try h.value("s[1], s[2], s[3], s[4] ~= s[4]"), "1.0\t2.0\t3.0\ttrue")
        XCTAssertEqual(try h.value("tensor{{3, 1}, {0, 5}}:sort():totable()"), "{{1.0, 3.0}, {0.0, 5.0}}")
        XCTAssertEqual(try h.value("tensor{3, 1, 2}:sort{descending = true}:totable()"), "{3.0, 2.0, 1.0}")
    }

    func testTostringIsPyTorchLike() throws {
        let h = try LuaHarness()
        XCTAssertEqual(try h.value("tostring(tensor{0.5, 0.25})"), "tensor([0.5000, 0.2500], dtype=f64)")
        XCTAssertEqual(try h.value("tensor{{1, 2}, {3, 4}}"), "tensor([[1., 2.],\n        [3., 4.]], shape=[2, 2], dtype=f64)")
        XCTAssertEqual(try h.value("tensor.from({1, 2}, {dtype = 'f32'})"), "tensor([1., 2.], dtype=f32)")
        // As torch: 0..1999 in f64 is scientific (the largest over the smallest passes 1000),
        // the summary shows 3 at each end and wraps at 80 columns.
        let big = try h.value("tensor.arange(2000)")
        XCTAssertEqual(big, "tensor([0.0000e+00, 1.0000e+00, 2.0000e+00,  ..., 1.9970e+03, 1.9980e+03,\n        1.9990e+03], dtype=f64)")
        XCTAssertEqual(try h.value("tensor.arange(2000, {dtype = 'i64'})"), "tensor([   0,    1,    2,  ..., 1997, 1998, 1999], dtype=i64)")
    }

    func testBadConstructorArguments() throws {
        let h = try LuaHarness()
        XCTAssertEqual(h.message("return tensor('x')"), "bad argument #1 to 'tensor' (table of numbers or tensor expected, got string)")
        XCTAssertEqual(h.message("return tensor{{1, 2}, {3}}"),
                       "bad argument #1 to 'tensor' (rows of different lengths (2 vs 1); a tensor must be rectangular)")
        XCTAssertEqual(h.message("return tensor{1, 'a'}"),
                       "bad argument #1 to 'tensor' (tensor or array of numbers expected, entry 2 is string)")
        XCTAssertEqual(h.message("return tensor.zeros{2, -1}"),
                       "bad argument #1 to 'tensor.zeros' (shape sizes must be >= 0, got -1 at entry 2)")
        XCTAssertEqual(h.message("return tensor.zeros{2.5}"),
                       "bad argument #1 to 'tensor.zeros' (shape entries must be integers, entry 1 is 2.5)")
        XCTAssertEqual(h.message("return tensor.ones('3')"), "bad argument #1 to 'tensor.ones' (shape (array of integers) expected, got string)")
        XCTAssertEqual(h.message("return tensor.zeros({2}, {dtype = 'f16'})"),
                       "bad argument #2 to 'tensor.zeros' (option 'dtype' must be one of \"f32\", \"f64\", \"i64\", \"bool\", got \"f16\")")
        XCTAssertEqual(h.message("return tensor.zeros({2}, {type = 'f32'})"),
                       "bad argument #2 to 'tensor.zeros' (unknown option 'type'; valid options: dtype)")
        XCTAssertEqual(h.message("return tensor.full({2})"), "bad argument #2 to 'tensor.full' (number expected, got no value)")
        XCTAssertEqual(h.message("return tensor.arange(0, 1, 0)"),
                       "tensor.arange: arange needs finite bounds and a non-zero step (got 0.0, 1.0, step 0.0)")
        XCTAssertEqual(h.message("return tensor.arange('a')"), "bad argument #1 to 'tensor.arange' (number expected, got string)")
        XCTAssertEqual(h.message("return tensor.from(3)"), "bad argument #1 to 'tensor.from' (tensor or array of numbers expected, got number)")
        XCTAssertEqual(h.message("return tensor{1}:to('f16')"), "bad argument #2 to 'tensor:to' (dtype must be \"f32\", \"f64\", \"i64\" or \"bool\", got \"f16\")")
    }

    func testSaveAndLoadRoundTrip() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moonlab-tensor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let h = try LuaHarness()
        try h.run("dir = '\(dir.path)'")
        try h.run("a = tensor{{1.5, -2}, {0, 1e300}}; tensor.save(dir .. '/a.npy', a)")
        try h.run("b = tensor.load(dir .. '/a.npy')")
        XCTAssertEqual(try h.value("b:equal(a), b:dtype(), b:shape()"), "true\tf64\t{2, 2}")
        try h.run("f = tensor.from({0.1, 0.2, 0.3}, {dtype = 'f32'}); tensor.save(dir .. '/f.npy', f)")
        try h.run("g = tensor.load(dir .. '/f.npy')")
        XCTAssertEqual(try h.value("g:dtype(), g:equal(f)"), "f32\ttrue")
        // A view is saved as its own elements; a Lua array can be saved directly.
        try h.run("tensor.save(dir .. '/row.npy', a[2]); tensor.save(dir .. '/arr.npy', {1, 2, 3})")
        XCTAssertEqual(try h.value("tensor.load(dir .. '/row.npy'):totable()"), "{0.0, 1e+300}")
        XCTAssertEqual(try h.value("tensor.load(dir .. '/arr.npy'):totable()"), "{1.0, 2.0, 3.0}")
        // What Swift's writer produced is what numpy would read: header and bytes checked.
        let bytes = try Data(contentsOf: dir.appendingPathComponent("arr.npy"))
        XCTAssertEqual(Array(bytes.prefix(8)), [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let header = String(decoding: bytes.dropFirst(10).prefix(Int(bytes[8]) | Int(bytes[9]) << 8), as: UTF8.self)
        XCTAssertTrue(header.hasPrefix("{'descr': '<f8', 'fortran_order': False, 'shape': (3,), }"), header)
        XCTAssertEqual(h.message("tensor.save(dir .. '/a.txt', a)"),
                       "tensor.save: \(dir.path)/a.txt: one tensor is saved as .npy (give a path ending in .npy, or a table of named tensors for .npz/.safetensors)")
        XCTAssertEqual(h.message("return tensor.load(dir .. '/missing.npy')"),
                       "tensor.load: \(dir.path)/missing.npy: cannot open (No such file or directory)")
        XCTAssertEqual(h.message("return tensor.load(dir .. '/a.csv')"),
                       "tensor.load: \(dir.path)/a.csv: unknown file type (expected .npy, .npz or .safetensors)")
        XCTAssertEqual(h.message("tensor.save(dir .. '/x.npy', 'a')"),
                       "bad argument #2 to 'tensor.save' (tensor or array of numbers expected, got string)")
    }

    /// An empty table saved to .npz or .safetensors is a file with no entries, byte for byte
    /// what numpy 2.4.6's `np.savez(p)` (an empty zip: its end record alone) and safetensors
    /// 0.8.0's `save_file({}, p)` (header `{}` padded to 8 bytes) write; to .npy it stays an
    /// empty f64 array, as `np.save(p, [])`. It was refused ("one tensor is saved as .npy").
    func testSavesAnEmptyTableOfNamedTensors() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moonlab-tensor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let h = try LuaHarness()
        try h.run("dir = '\(dir.path)'")
        try h.run("tensor.save(dir .. '/e.npz', {}); tensor.save(dir .. '/e.safetensors', {}); tensor.save(dir .. '/e.npy', {})")
        XCTAssertEqual(Array(try Data(contentsOf: dir.appendingPathComponent("e.npz"))),
                       [0x50, 0x4B, 0x05, 0x06] + [UInt8](repeating: 0, count: 18))
        XCTAssertEqual(Array(try Data(contentsOf: dir.appendingPathComponent("e.safetensors"))),
                       [8, 0, 0, 0, 0, 0, 0, 0] + Array("{}      ".utf8))
        XCTAssertEqual(try h.value("next(tensor.load(dir .. '/e.npz')), next(tensor.load(dir .. '/e.safetensors'))"), "nil\tnil")
        XCTAssertEqual(try h.value("tensor.load(dir .. '/e.npy'):shape(), tensor.load(dir .. '/e.npy'):dtype()"), "{0}\tf64")
    }

    /// Files as numpy and safetensors write them, built byte by byte here (numpy 2.4.6:
    /// `np.save(p, np.array([[1, 2, 3], [4, 5, 6]], dtype='<i4'))` gives exactly these
    /// bytes; the .safetensors layout is huggingface/safetensors' documented format).
    func testLoadsNumpyIntegersAndNamedFiles() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moonlab-tensor-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        var header = "{'descr': '<i4', 'fortran_order': False, 'shape': (2, 3), }"
        header += String(repeating: " ", count: 128 - 10 - header.utf8.count - 1) + "\n"
        var npy: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0, UInt8(header.utf8.count), 0] + Array(header.utf8)
        for v: Int32 in [1, 2, 3, 4, 5, -6] { withUnsafeBytes(of: v.littleEndian) { npy += $0 } }
        try Data(npy).write(to: dir.appendingPathComponent("ints.npy"))

        let json = #"{"__metadata__":{"format":"pt"},"logits":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"ids":{"dtype":"I64","shape":[1],"data_offsets":[8,16]}}"#
        var st: [UInt8] = []
        withUnsafeBytes(of: UInt64(json.utf8.count).littleEndian) { st += $0 }
        st += Array(json.utf8)
        for v: Float in [0.5, -1] { withUnsafeBytes(of: v.bitPattern.littleEndian) { st += $0 } }
        withUnsafeBytes(of: Int64(42).littleEndian) { st += $0 }
        try Data(st).write(to: dir.appendingPathComponent("m.safetensors"))

        let h = try LuaHarness()
        try h.run("dir = '\(dir.path)'")
        try h.run("i = tensor.load(dir .. '/ints.npy')")
        XCTAssertEqual(try h.value("i:dtype(), i:totable()"), "i64\t{{1, 2, 3}, {4, 5, -6}}")
        try h.run("s = tensor.load(dir .. '/m.safetensors')")
        XCTAssertEqual(try h.value("type(s), s.logits:dtype(), s.logits:totable(), s.ids:totable(), s.__metadata__"),
                       "table\tf32\t{0.5, -1.0}\t{42}\tnil")
        // .npz is a zip of .npy files: a stored (uncompressed) archive of ints.npy.
        try Data(TensorModuleTests.storedZip(name: "ints.npy", data: npy)).write(to: dir.appendingPathComponent("z.npz"))
        XCTAssertEqual(try h.value("tensor.load(dir .. '/z.npz').ints:totable()"), "{{1, 2, 3}, {4, 5, -6}}")
    }

    /// A one-entry zip archive with the entry stored (method 0), as `np.savez` writes it.
    static func storedZip(name: String, data: [UInt8]) -> [UInt8] {
        func le(_ v: Int, _ n: Int) -> [UInt8] { (0..<n).map { UInt8((v >> (8 * $0)) & 0xff) } }
        let crc = crc32(data), nm = Array(name.utf8)
        var out = le(0x0403_4b50, 4) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(Int(crc), 4)
        out += le(data.count, 4) + le(data.count, 4) + le(nm.count, 2) + le(0, 2) + nm + data
        let cd = out.count
        out += le(0x0201_4b50, 4) + le(20, 2) + le(20, 2) + le(0, 2) + le(0, 2) + le(0, 4) + le(Int(crc), 4)
        out += le(data.count, 4) + le(data.count, 4) + le(nm.count, 2) + le(0, 2) + le(0, 2) + le(0, 2) + le(0, 2)
        out += le(0, 4) + le(0, 4) + nm
        let cdSize = out.count - cd
        out += le(0x0605_4b50, 4) + le(0, 2) + le(0, 2) + le(1, 2) + le(1, 2) + le(cdSize, 4) + le(cd, 4) + le(0, 2)
        return out
    }

    static func crc32(_ bytes: [UInt8]) -> UInt32 {
        var c: UInt32 = 0xffff_ffff
        for b in bytes {
            c ^= UInt32(b)
            for _ in 0..<8 { c = (c >> 1) ^ (0xedb8_8320 & (0 &- (c & 1))) }
        }
        return ~c
    }

    func testHelpDocumentsTheModuleTheFunctionsAndTheMethods() throws {
        let h = try LuaHarness()
        for fn in ["zeros", "ones", "full", "arange", "randn", "from", "load", "save"] {
            try h.run("help(tensor.\(fn))")
            let doc = h.takeOutput()
            XCTAssertTrue(doc.hasPrefix("tensor.\(fn)("), doc)
            XCTAssertTrue(doc.contains("Example: "), doc)
        }
        let methods = ["shape", "numel", "dtype", "to", "sum", "mean", "std", "min", "max", "argmax", "exp", "log",
                       "abs", "sqrt", "clamp", "map", "equal", "slice", "reshape", "totable", "clone", "sort"]
        for name in methods {
            try h.run("help(tensor{1}.\(name))")
            let doc = h.takeOutput()
            XCTAssertTrue(doc.hasPrefix("t:\(name)("), doc)
            XCTAssertTrue(doc.contains("Example: "), doc)
        }
        try h.run("help(tensor.methods)")
        let listing = h.takeOutput()
        for name in methods { XCTAssertTrue(listing.contains("t:\(name)("), name) }
        try h.run("help(tensor)")
        XCTAssertTrue(h.takeOutput().contains("tensor.zeros(shape"))
    }
}
