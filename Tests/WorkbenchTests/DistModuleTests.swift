import XCTest
import AlignMath
import Workbench
import TestSupport

/// The `dist` module from Lua. Reference values are from scipy 1.17.1 / numpy 2.4.6
/// (x = [1, 2, 3], y = [3, 2, 1]; P = softmax(x), Q = softmax(y)):
///   scipy.special.logsumexp(x)                        = 3.40760596444438
///   scipy.special.softmax(x)                          = [0.09003057317038046, 0.24472847105479764, 0.6652409557748218]
///   scipy.special.log_softmax(x)                      = [-2.4076059644443806, -1.4076059644443804, -0.4076059644443804]
///   scipy.stats.entropy(P)                            = 0.8323955818399389
///   scipy.stats.entropy(P, Q)                         = 1.1504207652088827
///   scipy.spatial.distance.jensenshannon(P, Q) ** 2   = 0.2475880715384058
///   0.5 * np.abs(P - Q).sum()                         = 0.5752103826044414
///   scipy.special.softmax(x / 2)                      = [0.1863237232258476, 0.3071958857184984, 0.506480391055654]
///   scipy.special.logsumexp(x / 2)                    = 2.1802696706417346
///   scipy.stats.entropy(softmax(x / 2))               = 1.0201913367268314
///   scipy.stats.entropy([0.2, 0.3, 0.5])              = 1.0296530140645737
///   scipy.stats.entropy(p**0.5 / sum(p**0.5)), p = [0.2, 0.3, 0.5] = 1.0809736435470223
///   scipy.stats.entropy(softmax(b), softmax(c), axis=1) for b = [[1,2,3],[0,0,0]],
///     c = [[3,2,1],[0,1,2]]                           = [1.1504207652088827, 0.3089936757762705]
///   scipy.stats.entropy(softmax([0, 0, -inf]), softmax([0, 0, 0])) = 0.40546510810816444
final class DistModuleTests: XCTestCase {
    let tight = 1e-13

    func testOneDistributionGivesNumbersAndTensors() throws {
        let h = try LuaHarness()
        try h.run("x = {1, 2, 3}; y = tensor{3, 2, 1}")
        XCTAssertEqual(try h.number("dist.logsumexp(x)"), 3.40760596444438, accuracy: tight)
        XCTAssertEqual(try h.value("math.type(dist.logsumexp(x)), math.type(dist.entropy(x))"), "float\tfloat")
        let sm = [0.09003057317038046, 0.24472847105479764, 0.6652409557748218]
        XCTAssertEqual(try h.value("dist.softmax(x):shape()"), "{3}")
        for (i, p) in sm.enumerated() { XCTAssertEqual(try h.number("dist.softmax(x)[\(i + 1)]"), p, accuracy: tight) }
        let lsm = [-2.4076059644443806, -1.4076059644443804, -0.4076059644443804]
        for (i, p) in lsm.enumerated() { XCTAssertEqual(try h.number("dist.log_softmax(x)[\(i + 1)]"), p, accuracy: tight) }
        XCTAssertEqual(try h.number("dist.entropy(x)"), 0.8323955818399389, accuracy: tight)
        XCTAssertEqual(try h.number("dist.kl(x, y)"), 1.1504207652088827, accuracy: tight)
        XCTAssertEqual(try h.number("dist.js(x, y)"), 0.2475880715384058, accuracy: tight)
        XCTAssertEqual(try h.number("dist.tv(x, y)"), 0.5752103826044414, accuracy: tight)
        XCTAssertEqual(try h.number("dist.kl(x, x)"), 0)
        XCTAssertEqual(try h.number("dist.cross_entropy(x, 0)"), 2.4076059644443806, accuracy: tight)
        XCTAssertEqual(try h.number("dist.cross_entropy(x, 2)"), 0.4076059644443804, accuracy: tight)
        // An excluded token: -inf logits.
        XCTAssertEqual(try h.number("dist.kl({0, 0, -math.huge}, {0, 0, 0})"), 0.40546510810816444, accuracy: tight)
        XCTAssertEqual(try h.value("dist.kl({0, 0, 0}, {0, 0, -math.huge})"), "inf")
        XCTAssertEqual(try h.value("dist.cross_entropy({0, -math.huge}, 1)"), "inf")
        XCTAssertEqual(try h.value("dist.softmax{0, -math.huge}:totable()"), "{1.0, 0.0}")
    }

    func testTemperatureAndProbs() throws {
        let h = try LuaHarness()
        try h.run("x = {1, 2, 3}")
        let t2 = [0.1863237232258476, 0.3071958857184984, 0.506480391055654]
        for (i, p) in t2.enumerated() {
            XCTAssertEqual(try h.number("dist.softmax(x, {temperature = 2})[\(i + 1)]"), p, accuracy: tight)
        }
        XCTAssertEqual(try h.number("dist.logsumexp(x, {temperature = 2})"), 2.1802696706417346, accuracy: tight)
        XCTAssertEqual(try h.number("dist.entropy(x, {temperature = 2})"), 1.0201913367268314, accuracy: tight)
        XCTAssertEqual(try h.number("dist.entropy({0.2, 0.3, 0.5}, {probs = true})"), 1.0296530140645737, accuracy: tight)
        XCTAssertEqual(try h.number("dist.entropy({2, 3, 5}, {probs = true})"), 1.0296530140645737, accuracy: tight)
        XCTAssertEqual(try h.number("dist.entropy({0.2, 0.3, 0.5}, {probs = true, temperature = 2})"), 1.0809736435470223, accuracy: tight)
        XCTAssertEqual(try h.number("dist.js({1, 0}, {0, 1}, {probs = true})"), log(2), accuracy: tight)
        XCTAssertEqual(try h.number("dist.tv({0.5, 0.5}, {1, 0}, {probs = true})"), 0.5, accuracy: tight)
        XCTAssertEqual(try h.number("dist.cross_entropy({0.25, 0.75}, 1, {probs = true})"), -log(0.75), accuracy: tight)
    }

    func testBatchesGiveOneValuePerRow() throws {
        let h = try LuaHarness()
        try h.run("b = tensor{{1, 2, 3}, {0, 0, 0}}; c = {{3, 2, 1}, {0, 1, 2}}")
        XCTAssertEqual(try h.value("dist.kl(b, c):shape()"), "{2}")
        XCTAssertEqual(try h.number("dist.kl(b, c)[1]"), 1.1504207652088827, accuracy: tight)
        XCTAssertEqual(try h.number("dist.kl(b, c)[2]"), 0.3089936757762705, accuracy: tight)
        XCTAssertEqual(try h.number("dist.logsumexp(b)[2]"), log(3), accuracy: tight)
        XCTAssertEqual(try h.value("dist.softmax(b):shape(), dist.log_softmax(c):shape()"), "{2, 3}\t{2, 3}")
        XCTAssertEqual(try h.value("dist.entropy(b):shape(), dist.js(b, c):shape(), dist.tv(b, c):shape()"), "{2}\t{2}\t{2}")
        XCTAssertEqual(try h.number("dist.cross_entropy(b, {2, 0})[1]"), 0.4076059644443804, accuracy: tight)
        XCTAssertEqual(try h.number("dist.cross_entropy(b, tensor{2, 0})[2]"), log(3), accuracy: tight)
        // torch's ignore_index: F.cross_entropy(logits, tensor([-100, 2]), reduction="none") is [0, 0.4076...]
        XCTAssertEqual(try h.number("dist.cross_entropy(b, {-100, 0})[1]"), 0)
        XCTAssertEqual(try h.number("dist.cross_entropy(b, {2, -100})[1]"), 0.4076059644443804, accuracy: tight)
        XCTAssertEqual(try h.number("dist.cross_entropy({1, 2, 3}, -100)"), 0)
        // 3-d: rows over the first two axes; targets nested or as a tensor of that shape.
        try h.run("t3 = tensor{{{1, 2, 3}, {0, 0, 0}}, {{3, 2, 1}, {0, 1, 2}}}")
        XCTAssertEqual(try h.value("dist.entropy(t3):shape(), dist.softmax(t3):shape()"), "{2, 2}\t{2, 2, 3}")
        XCTAssertEqual(try h.number("dist.kl(t3, t3)[2][1]"), 0)
        XCTAssertEqual(try h.number("dist.cross_entropy(t3, {{2, 0}, {0, 1}})[1][1]"), 0.4076059644443804, accuracy: tight)
        XCTAssertEqual(try h.number("dist.cross_entropy(t3, tensor{{2, 0}, {0, 1}})[2][2]"), 1.4076059644443804, accuracy: tight)
        // f32 logits keep their dtype through softmax; per-row values are f64.
        XCTAssertEqual(try h.value("dist.softmax(tensor.from(b, {dtype = 'f32'})):dtype()"), "f32")
        XCTAssertEqual(try h.value("dist.entropy(tensor.from(b, {dtype = 'f32'})):dtype()"), "f64")
    }

    /// The Lua results are AlignMath's, unchanged.
    func testAgreesWithAlignMath() throws {
        let h = try LuaHarness()
        let p: [Double] = [0.3, -1.2, 2.5, 0, -0.7, 1.1], q: [Double] = [1.0, 0.2, -0.5, 0.4, 0.0, -2.0]
        let tp = try Tensor(p, shape: [2, 3]), tq = try Tensor(q, shape: [2, 3])
        try h.run("p = tensor{{0.3, -1.2, 2.5}, {0, -0.7, 1.1}}; q = tensor{{1.0, 0.2, -0.5}, {0.4, 0.0, -2.0}}")
        let o = DistOptions(temperature: 0.7)
        let cases: [(String, Tensor)] = [
            ("dist.kl(p, q, {temperature = 0.7})", try Dist.kl(tp, tq, o)),
            ("dist.js(p, q, {temperature = 0.7})", try Dist.js(tp, tq, o)),
            ("dist.tv(p, q, {temperature = 0.7})", try Dist.tv(tp, tq, o)),
            ("dist.entropy(p, {temperature = 0.7})", try Dist.entropy(tp, o)),
            ("dist.logsumexp(q, {temperature = 0.7})", try Dist.logsumexp(tq, o)),
            ("dist.cross_entropy(p, {1, 2}, {temperature = 0.7})", try Dist.crossEntropy(tp, targets: [1, 2], o)),
        ]
        for (expr, expected) in cases {
            for r in 0..<2 { XCTAssertEqual(try h.number("\(expr)[\(r + 1)]"), expected[flat: r], expr) }
        }
        let sm = try Dist.softmax(tp, o)
        for k in 0..<6 { XCTAssertEqual(try h.number("dist.softmax(p, {temperature = 0.7})[\(k / 3 + 1)][\(k % 3 + 1)]"), sm[flat: k]) }
    }

    func testBadArgumentsHaveExactMessages() throws {
        let h = try LuaHarness()
        XCTAssertEqual(h.message("return dist.kl(tensor.zeros{2, 3}, tensor.zeros{2, 4})"),
                       "dist.kl: p and q differ in shape ([2, 3] vs [2, 4])")
        XCTAssertEqual(h.message("return dist.js({1, 2}, {1, 2, 3})"), "dist.js: p and q differ in shape ([2] vs [3])")
        XCTAssertEqual(h.message("return dist.softmax('x')"),
                       "bad argument #1 to 'dist.softmax' (tensor or array of numbers expected, got string)")
        XCTAssertEqual(h.message("return dist.tv({1}, 2)"),
                       "bad argument #2 to 'dist.tv' (tensor or array of numbers expected, got number)")
        XCTAssertEqual(h.message("return dist.entropy({1, 2}, {temp = 2})"),
                       "bad argument #2 to 'dist.entropy' (unknown option 'temp'; valid options: probs, temperature)")
        XCTAssertEqual(h.message("return dist.kl({1}, {1}, {probs = 1})"),
                       "bad argument #3 to 'dist.kl' (option 'probs' must be a boolean, got number)")
        XCTAssertEqual(h.message("return dist.softmax({1}, {temperature = 0})"),
                       "bad argument #2 to 'dist.softmax' (option 'temperature' must be a finite number > 0, got 0.0)")
        XCTAssertEqual(h.message("return dist.softmax({1}, {temperature = 'hot'})"),
                       "bad argument #2 to 'dist.softmax' (option 'temperature' must be a number, got string)")
        let inf = "-math.huge"
        XCTAssertEqual(h.message("return dist.entropy{{{0, 1}}, {{0, 0}, {\(inf), \(inf)}}}"),
                       "bad argument #1 to 'dist.entropy' (rows of different lengths (1 vs 2); a tensor must be rectangular)")
        XCTAssertEqual(h.message("return dist.entropy({-0.5, 1}, {probs = true})"),
                       "dist.entropy: probabilities must be >= 0, got -0.5 at flat index 0 (pass logits without probs = true)")
        XCTAssertEqual(h.message("return dist.entropy(tensor{1}:reshape{})"),
                       "bad argument #1 to 'dist.entropy' (tensor with at least one axis expected, got a 0-d tensor)")
        XCTAssertEqual(h.message("return dist.entropy(tensor.zeros{2, 0})"),
                       "dist.entropy: the last axis has length 0 (a distribution needs at least one token)")
    }

    /// A row with every logit -inf gives torch 2.15.0's values, not an error, and its batch keeps
    /// the other rows (Tests/AlignMathTests/Fixtures/generate_dist_masked.py: torch.logsumexp
    /// -inf; torch.softmax, log_softmax, Categorical.entropy, F.kl_div, F.cross_entropy NaN;
    /// torch.argmax 0). The other rows: x = [0, 1, 2] as in the header (3.40760596444438 - 1).
    func testAllMinusInfRowsGiveTorchsValues() throws {
        let h = try LuaHarness()
        try h.run("m = -math.huge; x = tensor{{0, 1, 2}, {m, m, m}}; y = tensor{{m, m, m}, {2, 1, 0}}")
        XCTAssertEqual(try h.value("dist.logsumexp(x)"), "tensor([2.4076,   -inf], dtype=f64)")
        XCTAssertEqual(try h.number("dist.logsumexp(x)[1]"), 2.40760596444438, accuracy: tight)
        XCTAssertEqual(try h.value("dist.softmax(x)"),
                       "tensor([[0.0900, 0.2447, 0.6652],\n        [   nan,    nan,    nan]], shape=[2, 3], dtype=f64)")
        XCTAssertEqual(try h.value("dist.log_softmax(tensor.from(x, {dtype = 'f32'}), {temperature = 2})[2]"),
                       "tensor([nan, nan, nan], dtype=f32)")
        XCTAssertEqual(try h.value("dist.entropy(x)"), "tensor([0.8324,    nan], dtype=f64)")
        for f in ["kl", "js", "tv"] {
            XCTAssertEqual(try h.value("dist.\(f)(x, y)"), "tensor([nan, nan], dtype=f64)", f)
            XCTAssertEqual(try h.value("dist.\(f)(x, x)"), "tensor([0., nan], dtype=f64)", f)
        }
        XCTAssertEqual(try h.value("dist.cross_entropy(x, {2, 0})"), "tensor([0.4076,    nan], dtype=f64)")
        XCTAssertEqual(try h.value("dist.cross_entropy(x, {2, -100})"), "tensor([0.4076, 0.0000], dtype=f64)")
        XCTAssertEqual(try h.value("dist.argmax(x)"), "tensor([2, 0], dtype=i64)")
        XCTAssertEqual(try h.value("dist.topk(x, 2)"),
                       "tensor([[2, 1],\n        [0, 1]], shape=[2, 2], dtype=i64)\ttensor([[2., 1.],\n        [-inf, -inf]], shape=[2, 2], dtype=f64)")
        // one row: numbers; NaN prints as nan (not -nan); with probs a row of zeros is such a row
        XCTAssertEqual(try h.value("dist.logsumexp{m, m}, dist.entropy{m, m}, dist.kl({m, m}, {0, 0}), dist.cross_entropy({m, m}, 1)"),
                       "-inf\tnan\tnan\tnan")
        XCTAssertEqual(try h.value("dist.logsumexp({0, 0}, {probs = true}), dist.entropy({0, 0}, {probs = true, temperature = 0.5})"),
                       "-inf\tnan")
        XCTAssertEqual(try h.value("dist.softmax({{0, 0}, {1, 3}}, {probs = true})"),
                       "tensor([[   nan,    nan],\n        [0.2500, 0.7500]], shape=[2, 2], dtype=f64)")
    }

    /// A one-hot row's entropy is exactly 0, as torch 2.15.0's torch.special.entr(p).sum() (and
    /// Categorical(logits).entropy(); Categorical(probs) clamps p to eps and gives 2.2e-16):
    /// with probs, with -inf logits, f64 and f32, at a temperature (MaskedRowsTests has more).
    func testOneHotEntropyIsExactlyZero() throws {
        let h = try LuaHarness()
        try h.run("m = -math.huge")
        XCTAssertEqual(try h.value("dist.entropy({0, 1}, {probs = true}) == 0, dist.entropy({0, m}) == 0"), "true\ttrue")
        XCTAssertEqual(try h.value("dist.entropy(tensor.from({{0, 0, 3}, {1, 1, 0}}, {dtype = 'f32'}), {probs = true, temperature = 0.7})"),
                       "tensor([0.0000, 0.6931], dtype=f64)")
        XCTAssertEqual(try h.value("dist.entropy(tensor{{m, 2.5, m}, {m, m, m}}, {temperature = 0.7})[1] == 0"), "true")
        // nearly one-hot: torch's 700·e^-700 (entr(softmax({0, -700})).sum()), not the clamp's residue
        XCTAssertEqual(try h.number("dist.entropy({0, -700})"), 6.90177358063184e-302, accuracy: 0x1p-1046)  // ~1.3e-315
    }

    func testCrossEntropyTargetsAreCheckedZeroBasedIds() throws {
        let h = try LuaHarness()
        XCTAssertEqual(h.message("return dist.cross_entropy({1, 2, 3}, 3)"),
                       "dist.cross_entropy: target id 3 is outside the vocabulary 0..2 (ids are 0-based)")
        XCTAssertEqual(h.message("return dist.cross_entropy({1, 2, 3}, -1)"),
                       "dist.cross_entropy: target id -1 is outside the vocabulary 0..2 (ids are 0-based)")
        XCTAssertEqual(h.message("return dist.cross_entropy({1, 2, 3}, 1.5)"), "dist.cross_entropy: target id 1.5 is not an integer")
        XCTAssertEqual(h.message("return dist.cross_entropy({1, 2, 3}, {1})"),
                       "bad argument #2 to 'dist.cross_entropy' (target id (integer) expected, got table)")
        XCTAssertEqual(h.message("return dist.cross_entropy({{1, 2}, {3, 4}}, 1)"),
                       "bad argument #2 to 'dist.cross_entropy' (array or tensor of target ids (one per row) expected, got number)")
        XCTAssertEqual(h.message("return dist.cross_entropy({{1, 2}, {3, 4}}, {0, 1, 1})"),
                       "dist.cross_entropy: 3 target ids of shape [3] for logits of shape [2, 2] (one id per row: shape [2])")
        XCTAssertEqual(h.message("return dist.cross_entropy({{1, 2}, {3, 4}}, {0, 2})"),
                       "dist.cross_entropy: target id 2 (row 2) is outside the vocabulary 0..1 (ids are 0-based)")
        XCTAssertEqual(h.message("return dist.cross_entropy({1, 2}, 0, {probs = 'yes'})"),
                       "bad argument #3 to 'dist.cross_entropy' (option 'probs' must be a boolean, got string)")
    }

    func testEveryFunctionHasADocstring() throws {
        let h = try LuaHarness()
        for fn in ["softmax", "log_softmax", "logsumexp", "entropy", "kl", "js", "tv", "cross_entropy"] {
            try h.run("help(dist.\(fn))")
            let doc = h.takeOutput()
            XCTAssertTrue(doc.hasPrefix("dist.\(fn)("), doc)
            XCTAssertTrue(doc.contains("temperature (1)") && doc.contains("probs (false)"), doc)
            XCTAssertTrue(doc.contains("\nExample: dist.\(fn)"), doc)
        }
        try h.run("help(dist.kl)")
        XCTAssertTrue(h.takeOutput().hasPrefix("dist.kl(p, q, {temperature = 1, probs = false}) -> number | tensor\nKL(P||Q)"))
        try h.run("help(dist)")
        let listing = h.takeOutput()
        XCTAssertTrue(listing.hasPrefix("dist: distributions over the last axis"), listing)
        XCTAssertTrue(listing.contains("dist.cross_entropy(logits, target_id"), listing)
    }
}
