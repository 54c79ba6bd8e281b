import XCTest
import Foundation
import TestSupport
import LuaKit
import Workbench

/// `detect` from Lua: define/run and its report, each built-in detector with values checked
/// (SelfCheck against selfcheckgpt's README numbers, POPE against evaluate.py's on the real
/// question file via AlignMath's fixtures), bad arguments with their messages.
final class DetectTests: XCTestCase {
    func msg(_ h: LuaHarness, _ code: String) -> String? {
        guard let e = h.error(code) else { return nil }
        guard e.hasPrefix("["), let r = e.range(of: ": ") else { return e }
        return String(e[r.upperBound...])
    }

    static func fixture(_ name: String) throws -> [String: Any] {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../AlignMathTests/Fixtures/\(name)")
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
    }

    /// A Lua string literal.
    static func lit(_ s: String) -> String {
        "\"" + s.unicodeScalars.map { u -> String in
            switch u {
            case "\\": return "\\\\"
            case "\"": return "\\\""
            case "\n": return "\\n"
            default: return u.value < 32 ? String(format: "\\%03d", u.value) : String(u)
            }
        }.joined() + "\""
    }

    static func list(_ a: [String]) -> String { "{" + a.map(lit).joined(separator: ", ") + "}" }

    /// A detector may return one table {flag =, score =, reason =} for its three values (it
    /// was counted as flagged with no score); a number, a string or a table without a boolean
    /// flag is an error for that row naming the detector, and the other rows are scored.
    func testDetectorReturningATableOrAWrongFlag() throws {
        let h = try LuaHarness()
        try h.run("""
            detect.define("tab", function(s) return {flag = s.i == 3, score = s.i * 2, reason = "row " .. s.i} end)
            detect.define("num", function(s) if s.i == 2 then return 1, 5 end return false, 0 end)
            detect.define("str", function(s) if s.i == 4 then return "yes" end return true end)
            detect.define("noflag", function(s) if s.i == 1 then return {flagged = true} end end)
            rows = {}
            for i = 1, 4 do rows[i] = {i = i} end
            report = detect.run({"tab", "num", "str", "noflag", function(s) return {flag = false, score = 2, reason = "x"} end}, rows)
            """)
        XCTAssertEqual(try h.value("report.rules.tab.flag_rate, report.rules.tab.mean_score, report.rules.tab.errors"), "0.25\t5.0\t0")
        XCTAssertEqual(try h.value("report.rows[3].flags.tab, report.rows[3].scores.tab, report.rows[3].reasons.tab"), "true\t6\trow 3")
        XCTAssertEqual(try h.value("report.rows[1].flags.tab, report.rows[1].scores.tab"), "false\t2")
        XCTAssertEqual(try h.value("report.rules.rule5.flag_rate, report.rules.rule5.mean_score, report.rows[1].reasons.rule5"), "0.0\t2.0\tx")
        XCTAssertEqual(try h.value("report.rules.num.errors, report.rules.num.flag_rate, report.rows[2].flags.num"), "1\t0.0\tfalse")
        XCTAssertEqual(try h.value("report.rows[2].reasons.num"),
                       "error: detector 'num' returned number 1 as its flag; expected a boolean (return flag, score, reason) or a table {flag = boolean, score =, reason =}")
        XCTAssertEqual(try h.value("report.rules.str.errors, report.rules.str.flagged"), "1\t3")
        XCTAssertEqual(try h.value("report.rows[4].reasons.str"),
                       #"error: detector 'str' returned string "yes" as its flag; expected a boolean (return flag, score, reason) or a table {flag = boolean, score =, reason =}"#)
        XCTAssertEqual(try h.value("report.rules.noflag.errors, report.rules.noflag.flagged"), "1\t0")
        XCTAssertEqual(try h.value("report.rows[1].reasons.noflag"),
                       "error: detector 'noflag' returned a table whose flag is missing; expected flag = true or false (score and reason optional)")
        // Called directly, a detector gives the same three values.
        XCTAssertEqual(try h.value("detect.get('tab'){i = 3}"), "true\t6\trow 3")
        XCTAssertEqual(msg(h, "detect.get('num'){i = 2}"),
                       "detector 'num' returned number 1 as its flag; expected a boolean (return flag, score, reason) or a table {flag = boolean, score =, reason =}")
    }

    func testDefineAndRunReport() throws {
        let h = try LuaHarness()
        try h.run("""
            detect.define("long", function(s) local n = #s.completion; return n > 20, n, "over 20 bytes" end, {doc = "length"})
            detect.define("fragile", function(s) if s.i == 2 then error("cannot read row") end return false, 0 end)
            rows = {}
            for i = 1, 4 do rows[i] = {i = i, completion = string.rep("x", i * 8)} end
            report = detect.run({"long", "fragile", function(s) return s.i % 2 == 0 end}, rows)
            """)
        XCTAssertEqual(try h.value("report.n"), "4")
        XCTAssertEqual(try h.value("report.rules.long.flag_rate"), "0.5")
        XCTAssertEqual(try h.value("report.rules.long.mean_score"), "20.0")
        XCTAssertEqual(try h.value("report.rules.fragile.errors"), "1")
        XCTAssertEqual(try h.value("report.rules.rule3.flag_rate"), "0.5")
        XCTAssertEqual(try h.value("report.rows[3].flags.long, report.rows[3].reasons.long"), "true\tover 20 bytes")
        XCTAssertEqual(try h.value("report.rows[2].reasons.fragile:match('cannot read row') ~= nil"), "true")
        let shown = try h.value("tostring(report)")
        XCTAssertTrue(shown.hasPrefix("detect report: 4 rows, 3 rules"), shown)
        XCTAssertTrue(shown.contains("row 3: long (over 20 bytes)"), shown)
        XCTAssertEqual(msg(h, #"detect.run({"nope"}, rows)"#), "detect.run: unknown detector 'nope'")
        XCTAssertEqual(msg(h, #"detect.define("x", 1)"#), "bad argument #2 to 'detect.define' (function expected, got number)")
        XCTAssertEqual(msg(h, #"detect.run("long", 5)"#), "bad argument #2 to 'detect.run' (array of records expected, got number)")
    }

    func testTokenUncertaintyAndPerplexity() throws {
        let h = try LuaHarness()
        try h.run("""
            lp = {tokens = {"a", "b", "c"}, logprobs = {-0.1, -2.0, -0.6},
                  top_logprobs = {{{token = "a", logprob = -0.1}, {token = "x", logprob = -2.4}},
                                  {-2.0, -0.3}, {c = -0.6, d = -0.8}}}
            u = detect.token_uncertainty(lp)
            """)
        XCTAssertEqual(try h.value("string.format('%.6f %.6f', u.avg_neg_logprob, u.max_neg_logprob)"), "0.900000 2.000000")
        // renormalised entropies of {e^-0.1, e^-2.4}, {e^-2, e^-0.3}, {e^-0.6, e^-0.8}
        func h2(_ a: Double, _ b: Double) -> Double {
            let z = exp(a) + exp(b), p = exp(a) / z, q = exp(b) / z
            return -(p * log(p) + q * log(q))
        }
        let e = [h2(-0.1, -2.4), h2(-2.0, -0.3), h2(-0.6, -0.8)]
        XCTAssertEqual(Double(try h.value("u.avg_entropy")) ?? .nan, e.reduce(0, +) / 3, accuracy: 1e-12)
        XCTAssertEqual(Double(try h.value("u.max_entropy")) ?? .nan, e.max() ?? .nan, accuracy: 1e-12)
        XCTAssertEqual(try h.value("detect.token_uncertainty({logprobs = {-1, -3}}).avg_entropy"), "nil")
        XCTAssertEqual(Double(try h.value("detect.perplexity(lp)")) ?? .nan, exp(0.9), accuracy: 1e-12)
        XCTAssertEqual(Double(try h.value("detect.perplexity({-1, -3})")) ?? .nan, exp(2.0), accuracy: 1e-12)
        XCTAssertEqual(msg(h, "detect.token_uncertainty(3)"),
                       "bad argument #1 to 'detect.token_uncertainty' (logprobs record {tokens, logprobs, top_logprobs} expected, got number)")
        XCTAssertEqual(msg(h, "detect.token_uncertainty({logprobs = {-1}, top_logprobs = {{-1}, {-2}}})"),
                       "detect.token_uncertainty: logprobs and top_logprobs differ in length (1 vs 2)")
        XCTAssertEqual(msg(h, "detect.token_uncertainty(lp, {renorm = false})"),
                       "bad argument #2 to 'detect.token_uncertainty' (unknown option 'renorm'; valid options: renormalize)")
    }

    func testOnRealOpenAIResponseThroughDataLogprobs() throws {
        let want = try XCTUnwrap(try DetectTests.fixture("detection_uncertainty.json")["real"] as? [String: Any])
        let path = exampleData("openai-logprobs-radicalbit/text-generation.json")
        let h = try LuaHarness()
        try h.run("lp = data.logprobs(data.json(\(DetectTests.lit(path)))[1]); u = detect.token_uncertainty(lp)")
        XCTAssertEqual(Double(try h.value("string.format('%.17g', u.avg_neg_logprob)")) ?? .nan, want["avg_neg_logprob"] as? Double ?? .nan, accuracy: 1e-12)
        XCTAssertEqual(Double(try h.value("string.format('%.17g', u.max_neg_logprob)")) ?? .nan, want["max_neg_logprob"] as? Double ?? .nan, accuracy: 1e-12)
        XCTAssertEqual(try h.value("u.avg_entropy"), "nil")  // the file's top_logprobs are all empty
        XCTAssertEqual(Double(try h.value("string.format('%.17g', detect.perplexity(lp))")) ?? .nan, want["perplexity"] as? Double ?? .nan, accuracy: 1e-10)
    }

    func testSelfCheckReproducesReadme() throws {
        let f = try DetectTests.fixture("detection_selfcheck.json")
        let cases = try XCTUnwrap(f["cases"] as? [[String: Any]])
        let r = try XCTUnwrap(cases.first { $0["name"] as? String == "readme" })
        let h = try LuaHarness()
        try h.run("""
            out = detect.selfcheck_ngram(\(DetectTests.list(r["sentences"] as? [String] ?? [])),
              \(DetectTests.lit(r["passage"] as? String ?? "")), \(DetectTests.list(r["samples"] as? [String] ?? [])), {n = 1})
            """)
        // README.md of potsawee/selfcheckgpt: sent_level [3.184312, 3.279774] / [3.476098, 4.57471]
        XCTAssertEqual(try h.value("string.format('%.6f %.6f', out.sentences[1].avg_neg_logprob, out.sentences[2].avg_neg_logprob)"),
                       "3.184312 3.279775")
        XCTAssertEqual(try h.value("string.format('%.6f %.5f', out.sentences[1].max_neg_logprob, out.sentences[2].max_neg_logprob)"),
                       "3.476099 4.57471")
        XCTAssertEqual(try h.value("string.format('%.15f', out.doc.avg_neg_logprob)"), "3.218678904916201")
        XCTAssertEqual(try h.value("string.format('%.14f', out.doc.avg_max_neg_logprob)"), "4.02540483416933")
        XCTAssertEqual(try h.value(#"detect.selfcheck_ngram({{"The", "cat"}}, {"the", "cat"}, {}, {n = 2}).sentences[1].avg_neg_logprob"#), "0.69314718055995")
        XCTAssertEqual(msg(h, #"detect.selfcheck_ngram({}, "p", {})"#),
                       "bad argument #1 to 'detect.selfcheck_ngram' (at least one sentence expected, got an empty array)")
        XCTAssertEqual(msg(h, #"detect.selfcheck_ngram({"a"}, "p", {3})"#),
                       "bad argument #3 to 'detect.selfcheck_ngram' (sample 1 must be a string or an array of token strings, got number)")
        XCTAssertEqual(msg(h, #"detect.selfcheck_ngram({"a"}, "p", {}, {n = 0})"#),
                       "bad argument #4 to 'detect.selfcheck_ngram' (option 'n' must be an integer in [1, 64], got 0)")
    }

    /// equivalent answering NLI labels as jlko/semantic_uncertainty's check_implication does
    /// (0 contradiction, 1 neutral, 2 entailment): get_semantic_ids' rule, strict by default as the
    /// pipeline's --strict_entailment (a 0 was truthy in Lua and joined everything before).
    func testSemanticEntropyWithNLILabels() throws {
        let h = try LuaHarness()
        try h.run("""
            L = {a = {a = 2, b = 2, c = 1}, b = {a = 1, b = 2, c = 0}, c = {a = 1, b = 0, c = 2}}
            nli = function(x, y) return L[x][y] end
            _, strict = detect.semantic_entropy({"a", "b", "c"}, {equivalent = nli})
            _, loose = detect.semantic_entropy({"a", "b", "c"}, {equivalent = nli, strict = false})
            """)
        // strict: a-b is (2, 1), a-c (1, 1): three clusters; not strict: a-b joins (no 0, not both 1), a-c does not
        XCTAssertEqual(try h.value("#strict"), "3")
        XCTAssertEqual(try h.value("#loose .. ':' .. table.concat(loose[1], ',') .. ':' .. table.concat(loose[2], ',')"), "2:1,2:3")
        XCTAssertEqual(msg(h, #"detect.semantic_entropy({"a", "b"}, {equivalent = function() return 3 end})"#),
                       "detect.semantic_entropy: equivalent returned 3.0 for samples 1 and 2: a boolean or an NLI label 0 (contradiction), 1 (neutral) or 2 (entailment) expected")
    }

    func testSemanticEntropy() throws {
        let h = try LuaHarness()
        try h.run("""
            answers = {"Paris", "paris.", "Lyon", "It is Paris"}
            eq = function(a, b) return a:lower():find("paris") ~= nil and b:lower():find("paris") ~= nil or a == b end
            h1, cl = detect.semantic_entropy(answers, {equivalent = eq})
            h2 = detect.semantic_entropy(answers, {equivalent = eq, logprobs = {-1, -2, -0.5, -3}})
            """)
        let p = [0.75, 0.25]
        XCTAssertEqual(Double(try h.value("h1")) ?? .nan, -p.reduce(0) { $0 + $1 * log($1) }, accuracy: 1e-12)
        XCTAssertEqual(try h.value("#cl .. ':' .. table.concat(cl[1], ',') .. ':' .. table.concat(cl[2], ',')"), "2:1,2,4:3")
        let l = [-1.0, -2, -0.5, -3].map(exp), z = l.reduce(0, +)
        let q = [(l[0] + l[1] + l[3]) / z, l[2] / z]
        XCTAssertEqual(Double(try h.value("h2")) ?? .nan, -q.reduce(0) { $0 + $1 * log($1) }, accuracy: 1e-12)
        XCTAssertEqual(try h.value(#"(detect.semantic_entropy({"a", " A", "a"}))"#), "0.0")
        XCTAssertEqual(msg(h, #"detect.semantic_entropy({"a"}, {equivalent = function() error("judge down") end, logprobs = nil})"#) ?? "", "")
        XCTAssertEqual(msg(h, #"detect.semantic_entropy({"a", "b"}, {equivalent = function() error("judge down") end})"#)?.hasSuffix("judge down"), true)
        XCTAssertEqual(msg(h, #"detect.semantic_entropy({"a", "b"}, {logprobs = {1}})"#),
                       "detect.semantic_entropy: samples and logprobs differ in length (2 vs 1)")
        XCTAssertEqual(msg(h, #"detect.semantic_entropy({"a"}, {equivalent = 1})"#),
                       "bad argument #2 to 'detect.semantic_entropy' (option 'equivalent' must be a function, got number)")
    }

    func testPOPEOnRealQuestionFile() throws {
        let f = try DetectTests.fixture("detection_pope.json")
        let answers = try XCTUnwrap(f["answers"] as? [String]), labels = try XCTUnwrap(f["labels"] as? [String])
        let want = try XCTUnwrap(f["metrics"] as? [String: Any])
        let h = try LuaHarness()
        try h.run("m = detect.pope(\(DetectTests.list(answers)), \(DetectTests.list(labels)))")
        for k in ["tp", "fp", "tn", "fn"] { XCTAssertEqual(try h.value("m.\(k)"), "\(want[k] as? Int ?? -1)", k) }
        for k in ["accuracy", "precision", "recall", "f1", "yes_ratio"] {
            XCTAssertEqual(Double(try h.value("string.format('%.17g', m.\(k))")) ?? .nan, want[k] as? Double ?? .nan, accuracy: 1e-15, k)
        }
        XCTAssertEqual(try h.value(#"detect.pope({"Yes, there is a dog.", "No.", "There is not", "yes"}, {"yes", "no", "yes", false}).accuracy"#), "0.5")
        XCTAssertEqual(msg(h, #"detect.pope({"yes"}, {"yes", "no"})"#), "detect.pope: answers and labels differ in length (1 vs 2)")
        XCTAssertEqual(msg(h, #"detect.pope({"yes"}, {1})"#),
                       #"bad argument #2 to 'detect.pope' (labels must be "yes"/"no" strings or booleans, entry 1 is number)"#)
    }

    func testRepetition() throws {
        let h = try LuaHarness()
        XCTAssertEqual(try h.value(#"detect.repetition("go go go go", {n = 1})"#), "0.75")
        XCTAssertEqual(try h.value(#"detect.repetition("the cat sat on the mat the cat sat on the mat")"#), "0.4")
        XCTAssertEqual(try h.value(#"detect.repetition("short")"#), "0.0")
        XCTAssertEqual(msg(h, #"detect.repetition("x", {n = 0})"#), "bad argument #2 to 'detect.repetition' (option 'n' must be an integer in [1, 2147483647], got 0)")
        XCTAssertEqual(msg(h, "detect.repetition(5)"), "bad argument #1 to 'detect.repetition' (string expected, got number)")
    }
}
