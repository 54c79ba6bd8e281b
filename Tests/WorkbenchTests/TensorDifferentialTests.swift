import XCTest
import Foundation
import AlignMath
import LuaKit
import Workbench
import TestSupport

/// Disagreements with numpy found by the randomized differential harness
/// (Tests/Differential/tensor_diff.py, run by hand), each checked against numpy's answer
/// (numpy 2.4.6; the numpy expression is next to each case).
final class TensorDifferentialTests: XCTestCase {
    /// The elements of a tensor expression as "%.17g" strings (keeps -0.0 and NaN visible).
    private func bits(_ h: LuaHarness, _ expr: String) throws -> String {
        try h.value("(function() local t = (\(expr)):to('f64'):flatten(); local s = {} for i = 1, t:numel() do s[i] = string.format('%.17g', t[i]) end return table.concat(s, ' ') end)()")
    }

    /// np.sign(np.array([-0.0, 0.0, -2.0, np.nan])) -> [0., 0., -1., nan]: both zeros give +0.0.
    func testSignOfNegativeZeroIsPositiveZero() throws {
        let h = try LuaHarness()
        try h.run("x = tensor{-0.0, 0.0, -2.0, 0/0}")
        XCTAssertEqual(try bits(h, "x:sign()"), "0 0 -1 " + (try h.value("string.format('%.17g', 0/0)")))
        XCTAssertEqual(try bits(h, "x:to('f32'):sign()"), "0 0 -1 " + (try h.value("string.format('%.17g', 0/0)")))
    }

    /// np.power(np.array([-0.0, -np.inf, 4.0, np.inf]), 0.5) -> [-0., nan, 2., inf]: numpy's
    /// power takes the square root for a scalar exponent of 0.5 (C's pow gives +0.0 and +inf).
    func testPowerOfOneHalfIsTheSquareRoot() throws {
        let h = try LuaHarness()
        let nan = try h.value("string.format('%.17g', 0/0)")
        try h.run("x = tensor{-0.0, -math.huge, 4.0, math.huge}")
        XCTAssertEqual(try bits(h, "x ^ 0.5"), "-0 \(nan) 2 inf")
        XCTAssertEqual(try bits(h, "x:to('f32') ^ 0.5"), "-0 \(nan) 2 inf")
        XCTAssertEqual(try bits(h, "x ^ tensor{0.5}"), "-0 \(nan) 2 inf")
        XCTAssertEqual(try h.value("(x ^ 0.5):dtype()"), "f64")
        // an array of exponents runs C's pow in numpy, 0.5 included:
        // np.power(np.array([-np.inf, -0.0]), np.array([0.5, 0.5])) -> [inf, 0.]
        XCTAssertEqual(try bits(h, "tensor{-math.huge, -0.0} ^ tensor{0.5, 0.5}"), "inf 0")
        // other exponents keep pow's answers (np.power(-0.0, 3.0) is -0.0, np.power(-inf, 1.5) inf)
        XCTAssertEqual(try bits(h, "x ^ 3"), "-0 -inf 64 inf")
    }

    /// Out-of-range positions given to t:index and t[i64 tensor] are errors that name the
    /// tensor's shape (numpy: np.take(np.zeros((2, 3)), [3], axis=1) raises IndexError).
    func testIndexErrorsNameTheShape() throws {
        let h = try LuaHarness()
        try h.run("a = tensor.zeros{2, 3}")
        let e1 = try XCTUnwrap(h.error("return a:index(2, {4})"))
        XCTAssertTrue(e1.contains("shape [2, 3]"), e1)
        XCTAssertTrue(e1.contains("axis 2"), e1)
        let e2 = try XCTUnwrap(h.error("return a:index(-2, {1, -3})"))
        XCTAssertTrue(e2.contains("position -3") && e2.contains("shape [2, 3]"), e2)
        let e3 = try XCTUnwrap(h.error("return a[tensor.from({3}, {dtype = 'i64'})]"))
        XCTAssertTrue(e3.contains("shape [2, 3]"), e3)
    }

    /// Row reductions sum pairwise, as numpy does (a running total lost ~200 ulps):
    /// i = np.arange(4097); x = (i * 7) % 13 < 6; np.var(x.astype(np.float64), ddof=1)
    ///   -> 0.24858282832712958 (a running Σ(x - mean)² gave 0.2485828283271452);
    /// i = np.arange(1, 131074); y = (i * 37) % 101 / 8 - 6; m = y.max();
    /// np.log(np.sum(np.exp(y - m))) + m -> 15.809677485909507 (running: 15.80967748590932).
    func testRowVarianceAndLogSumExpArePairwiseSums() throws {
        let h = try LuaHarness()
        try h.run("local i = tensor.arange(0, 4097); x = ((i * 7) % 13):lt(6)")
        try h.run("local i = tensor.arange(1, 131074); y = ((i * 37) % 101) / 8 - 6")
        func close(_ got: Double, _ want: Double, _ what: String) {
            XCTAssertLessThanOrEqual(Swift.abs(got - want), 4 * want.ulp, "\(what): \(got) vs numpy's \(want)")
        }
        close(try h.number("x:var()"), 0.24858282832712958, "var")
        close(try h.number("x:reshape{1, -1}:var{axis = 2}[1]"), 0.24858282832712958, "var over axis 2")
        close(try h.number("x:std{ddof = 1}"), 0.24858282832712958.squareRoot(), "std")
        close(try h.number("y:logsumexp()"), 15.809677485909507, "logsumexp")
        close(try h.number("y:reshape{1, -1}:logsumexp{axis = -1}[1]"), 15.809677485909507, "logsumexp over the last axis")
    }

    /// numpy raises whenever the reduced axis is empty, even when the result would have no
    /// elements: np.argmax(np.zeros((0, 2, 0)), axis=2) and np.max(np.zeros((3, 0)), axis=1)
    /// raise ValueError; np.max(np.zeros((0, 3)), axis=1) is array([]) of shape (0,).
    func testMinMaxArgOverAnEmptyAxisAreErrors() throws {
        let h = try LuaHarness()
        for op in ["max", "min", "argmax", "argmin"] {
            XCTAssertNotNil(h.error("return tensor.zeros{0, 2, 0}:\(op){axis = 3, keepdim = true}"), op)
            XCTAssertNotNil(h.error("return tensor.zeros{3, 0}:\(op){axis = 2}"), op)
            XCTAssertNotNil(h.error("return tensor.zeros{0, 0}:\(op){axis = -1}"), op)
            XCTAssertEqual(try h.value("tensor.zeros{0, 3}:\(op){axis = 2}:shape()"), "{0}", op)
            XCTAssertEqual(try h.value("tensor.zeros{2, 0}:\(op){axis = 1}:shape()"), "{0}", op)
        }
    }
}

extension TensorDifferentialTests {
    /// Range bounds and steps at the ends of Lua's integers are errors (or one element), never
    /// an arithmetic-overflow trap of the host: numpy's a[-2**63:2] on shape (2, 3) raises no
    /// error but moonlab's positions are checked (lua-api.md: out of range is an error that
    /// gives the shape); a[0:2:-(2**63)] is empty, as numpy's.
    func testExtremeRangeBoundsAreErrorsNotCrashes() throws {
        let h = try LuaHarness()
        try h.run("a = tensor{{1, 2, 3}, {4, 5, 6}}; mi, ma = math.mininteger, math.maxinteger")
        for key in ["{{mi, 2}}", "{{ma, mi, -1}}", "{{1, ma}}", "{{}, {mi, ma, mi}}"] {
            let e = try XCTUnwrap(h.error("return a[\(key)]"), key)
            XCTAssertTrue(e.contains("shape [2, 3]"), "\(key): \(e)")
        }
        XCTAssertEqual(try h.value("a[{{1, 2, mi}}]:shape()"), "{0, 3}")
        XCTAssertEqual(try h.value("a[{{2, 1, mi}}]:totable()"), "{{4.0, 5.0, 6.0}}")
        XCTAssertEqual(try h.value("a[{{1, 2, ma}}]:totable()"), "{{1.0, 2.0, 3.0}}")
        XCTAssertEqual(try h.value("a[{{}, {-1, 1, mi}}]:totable()"), "{{3.0}, {6.0}}")
    }
}

extension TensorDifferentialTests {
    /// numpy's a[p] with an integer array p of any shape has shape p.shape + a.shape[1:]
    /// (moonlab flattened p): a = np.arange(1, 10.).reshape(3, 3); p = np.array([[0, 1], [2, 2]])
    /// a[p].tolist() -> [[[1, 2, 3], [4, 5, 6]], [[7, 8, 9], [7, 8, 9]]];
    /// np.array([10., 20, 30])[p].tolist() -> [[10, 20], [30, 30]]; a 0-d p drops the axis
    /// (t[np.array(2)] -> 30.0). Writes broadcast to that shape:
    /// b[np.array([[0], [2]])] = np.array([[[-1, -2, -3]], [[-4, -5, -6]]]) ->
    /// [[-1, -2, -3], [4, 5, 6], [-4, -5, -6]]; and leading size-1 axes of a written value
    /// are dropped: c[1] = np.ones((1, 1, 3)) * 7 -> [[1, 2, 3], [7, 7, 7], [7, 8, 9]].
    func testIntegerTensorKeysKeepTheirShape() throws {
        let h = try LuaHarness()
        try h.run("a = tensor.arange(1, 10):reshape{3, 3}; p = tensor.from({{1, 2}, {3, -1}}, {dtype = 'i64'})")
        XCTAssertEqual(try h.value("a[p]:shape()"), "{2, 2, 3}")
        XCTAssertEqual(try h.value("a[p]:totable()"), "{{{1.0, 2.0, 3.0}, {4.0, 5.0, 6.0}}, {{7.0, 8.0, 9.0}, {7.0, 8.0, 9.0}}}")
        XCTAssertEqual(try h.value("tensor{10, 20, 30}[p]:totable()"), "{{10.0, 20.0}, {30.0, 30.0}}")
        XCTAssertEqual(try h.value("tensor{10, 20, 30}[tensor.from({3}, {dtype = 'i64'}):reshape{}]"), "30.0")
        XCTAssertEqual(try h.value("a[tensor.from({3, 1}, {dtype = 'i64'})]:shape()"), "{2, 3}")
        try h.run("b = a:clone(); b[tensor.from({{1}, {3}}, {dtype = 'i64'})] = tensor{{{-1, -2, -3}}, {{-4, -5, -6}}}")
        XCTAssertEqual(try h.value("b:totable()"), "{{-1.0, -2.0, -3.0}, {4.0, 5.0, 6.0}, {-4.0, -5.0, -6.0}}")
        try h.run("c = a:clone(); c[2] = tensor.ones{1, 1, 3} * 7")
        XCTAssertEqual(try h.value("c:totable()"), "{{1.0, 2.0, 3.0}, {7.0, 7.0, 7.0}, {7.0, 8.0, 9.0}}")
        XCTAssertNotNil(h.error("b[tensor.from({{1}, {3}}, {dtype = 'i64'})] = tensor{1, 2}"))
    }
}

extension TensorDifferentialTests {
    /// .safetensors' unsigned integers load as i64, as .npy's do (numpy:
    /// np.array([65535], np.uint16).astype(np.int64) -> [65535]; uint32 4294967295 stays;
    /// uint64 2**64 - 1 wraps to -1 and 2**53 + 1 stays exact).
    func testSafetensorsUnsignedIntegersLoadAsI64() throws {
        var data = Data()
        func le<T: FixedWidthInteger>(_ v: T) -> Data { withUnsafeBytes(of: v.littleEndian) { Data($0) } }
        var blob = Data()
        blob += le(UInt16(65535))
        blob += le(UInt32(4_294_967_295))
        blob += le(UInt64.max) + le(UInt64(9_007_199_254_740_993))
        var header = #"{"a":{"dtype":"U16","shape":[1],"data_offsets":[0,2]},"b":{"dtype":"U32","shape":[1],"data_offsets":[2,6]},"c":{"dtype":"U64","shape":[2],"data_offsets":[6,22]}}"#
        while header.utf8.count % 8 != 0 { header += " " }
        data += le(UInt64(header.utf8.count)) + Data(header.utf8) + blob
        let path = NSTemporaryDirectory() + "moonlab-unsigned-\(getpid()).safetensors"
        try data.write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        let h = try LuaHarness()
        try h.run("r = tensor.load('\(path)')")
        XCTAssertEqual(try h.value("r.a:dtype() .. ' ' .. r.a[1]"), "i64 65535")
        XCTAssertEqual(try h.value("r.b[1]"), "4294967295")
        XCTAssertEqual(try h.value("r.c[1] .. ' ' .. r.c[2]"), "-1 9007199254740993")
    }
}

extension TensorDifferentialTests {
    /// np.full(2, 2**63 - 1, dtype=np.int64) -> [9223372036854775807, 9223372036854775807]
    /// (a Lua integer went through a Double: 2^63 - 1 came back as -2^63, 2^53 + 1 as 2^53);
    /// np.full(2, 2.7, dtype=np.int64) -> [2, 2].
    func testFullOfALargeIntegerIsExact() throws {
        let h = try LuaHarness()
        XCTAssertEqual(try h.value("tensor.full({2}, math.maxinteger, {dtype = 'i64'})[2]"), "9223372036854775807")
        XCTAssertEqual(try h.value("tensor.full({1, 1}, 9007199254740993, {dtype = 'i64'})[{1, 1}]"), "9007199254740993")
        XCTAssertEqual(try h.value("tensor.full({2}, 2.7, {dtype = 'i64'}):totable()"), "{2, 2}")
        XCTAssertEqual(try h.value("tensor.full({2}, 3):dtype()"), "f64")
    }

    /// Writing a float with no integer value into an i64 tensor is an error, as numpy's
    /// a = np.array([1, 2, 3]); a[0] = np.nan (ValueError: cannot convert float NaN to
    /// integer), a[0:2] = np.inf and a[a > 0] = 1e300 (OverflowError) are; a[0] = 2.7 truncates.
    func testNonIntegralFloatWritesIntoI64AreErrors() throws {
        let h = try LuaHarness()
        try h.run("a = tensor.from({1, 2, 3}, {dtype = 'i64'}); b = tensor.from({{1, 2}, {3, 4}}, {dtype = 'i64'})")
        for w in ["a[1] = 0/0", "a[{{1, 2}}] = math.huge", "a[a:gt(0)] = 1e300", "b[{1, 1}] = -math.huge", "a[1] = 2^63"] {
            let e = try XCTUnwrap(h.error(w), w)
            XCTAssertTrue(e.contains("i64"), e)
        }
        XCTAssertEqual(try h.value("a:totable()"), "{1, 2, 3}")
        try h.run("a[1] = 2.7; a[2] = -2^63")
        XCTAssertEqual(try h.value("a:totable()"), "{2, -9223372036854775808, 3}")
    }
}

extension TensorDifferentialTests {
    /// lua-api.md, dist: "NaN anywhere in a row gives NaN for that row, never a number" — also
    /// with {probs = true}, where a NaN probability was refused as "not >= 0" (numpy:
    /// p = np.array([0.2, np.nan, 0.8]); np.log(p) has NaN, so softmax(np.log(p)) is all NaN).
    func testNaNProbabilityRowsGiveNaN() throws {
        let h = try LuaHarness()
        try h.run("p = tensor{{0.2, 0/0, 0.8}, {0.5, 0.25, 0.25}}; o = {probs = true}")
        XCTAssertEqual(try h.value("dist.softmax(p, o)[1]:isnan():all()"), "true")
        XCTAssertEqual(try h.value("dist.softmax(p, o)[2]:totable()"), "{0.5, 0.25, 0.25}")
        for f in ["dist.entropy(p, o)", "dist.logsumexp(p, o)", "dist.kl(p, p, o)", "dist.js(p, p, o)", "dist.tv(p, p, o)", "dist.cross_entropy(p, {0, 0}, o)"] {
            XCTAssertEqual(try h.value("\(f)[1] ~= \(f)[1]"), "true", f)
            XCTAssertEqual(try h.value("\(f)[2] == \(f)[2]"), "true", f)
        }
        XCTAssertNotNil(h.error("return dist.softmax(tensor{0.5, -0.1}, o)"))
    }
}

extension TensorDifferentialTests {
    /// t:index with an i64 tensor of positions of another rank has numpy's np.take shape (the
    /// positions were flattened): a = np.arange(1, 13.).reshape(3, 4);
    /// np.take(a, np.array([[0, 1], [2, 2]]), axis=1) has shape (3, 2, 2), [0] = [[1, 2], [3, 3]];
    /// np.take(a, np.array(1), axis=0) -> [5, 6, 7, 8] (the axis dropped).
    func testIndexWithPositionsOfAnotherRank() throws {
        let h = try LuaHarness()
        try h.run("a = tensor.arange(1, 13):reshape{3, 4}; p = tensor.from({{1, 2}, {3, 3}}, {dtype = 'i64'})")
        XCTAssertEqual(try h.value("a:index(2, p):shape()"), "{3, 2, 2}")
        XCTAssertEqual(try h.value("a:index(2, p)[1]:totable()"), "{{1.0, 2.0}, {3.0, 3.0}}")
        XCTAssertEqual(try h.value("a:index(1, tensor.from({2}, {dtype = 'i64'}):reshape{}):totable()"), "{5.0, 6.0, 7.0, 8.0}")
        XCTAssertEqual(try h.value("a:index(-1, {4, 1}):totable()"), "{{4.0, 1.0}, {8.0, 5.0}, {12.0, 9.0}}")
    }
}

extension TensorDifferentialTests {
    /// f32 var/std are numpy's: mean, deviations, squares and sums in f32, in numpy's order
    /// (numpy 2.4.6: i = np.arange(4096 * 3); x = ((i * 37) % 101 / 7 - 7).astype(np.float32)
    /// .reshape(4096, 3); np.var(x, axis=0, ddof=1) -> [17.35532569885254, 17.33559799194336,
    /// 17.36762809753418]; np.std(x, axis=0) -> [4.165463924407959, 4.163095474243164,
    /// 4.166939735412598]). Computed in f64 they were the exact [17.35528564453125, ...]: up to
    /// 6e-5 away from numpy's on long columns.
    func testF32VarianceIsNumpys() throws {
        let h = try LuaHarness()
        try h.run("local i = tensor.arange(0, 4096 * 3); x = (((i * 37) % 101) / 7 - 7):to('f32'):reshape{4096, 3}")
        XCTAssertEqual(try h.value("x:var{axis = 1}:dtype()"), "f32")
        let v = try h.value("(function() local v = x:var{axis = 1, ddof = 1} return string.format('%.17g %.17g %.17g', v[1], v[2], v[3]) end)()")
        XCTAssertEqual(v, "17.355325698852539 17.335597991943359 17.36762809753418")
        let s = try h.value("(function() local v = x:std{axis = 1, ddof = 0} return string.format('%.17g %.17g %.17g', v[1], v[2], v[3]) end)()")
        XCTAssertEqual(s, "4.165463924407959 4.1630954742431641 4.1669397354125977")
        // numpy's edges: ddof past n gives inf (x / 0), no elements NaN (0 / 0)
        XCTAssertEqual(try h.value("x[{{}, 1}]:var{ddof = 5000}"), "inf")
        XCTAssertEqual(try h.value("tensor.zeros({0}, {dtype = 'f32'}):var() ~= tensor.zeros({0}, {dtype = 'f32'}):var()"), "true")
    }
}

extension TensorDifferentialTests {
    /// f64 sums and means of rows up to 2,048 long are numpy's bits (its pairwise order):
    /// numpy 2.4.6, i = np.arange(37); x = (i * 37) % 101 / 7; '%.17g' % x.sum() ->
    /// 259.42857142857144 (16 SIMD lanes gave ...139), x.mean() -> 7.0115830115830118;
    /// x = ((np.arange(600) * 37) % 101 / 7).reshape(2, 300); x.sum(axis=-1)[0] -> 2138.2857142857147.
    func testF64RowSumsAreNumpysBits() throws {
        let h = try LuaHarness()
        try h.run("x = (tensor.arange(0, 37) * 37 % 101) / 7; y = ((tensor.arange(0, 600) * 37 % 101) / 7):reshape{2, 300}")
        XCTAssertEqual(try h.value("string.format('%.17g %.17g', x:sum(), x:mean())"), "259.42857142857144 7.0115830115830118")
        XCTAssertEqual(try h.value("string.format('%.17g %.17g', y:sum{axis = -1}[1], y:sum{axis = 2}[2])"), "2138.2857142857147 2142.5714285714284")
    }
}
