import XCTest
import TestSupport

/// `reward`: definitions, combine, normalize, score with failing rows and worker states,
/// built-in rewards on GRPO-style completions, bad arguments.
final class RewardTests: XCTestCase {
    /// The error of `code` without its "[n]:line: " position.
    func msg(_ h: LuaHarness, _ code: String) -> String? {
        guard let e = h.error(code) else { return nil }
        guard e.hasPrefix("["), let r = e.range(of: ": ") else { return e }
        return String(e[r.upperBound...])
    }

    func testRegistryAndCall() throws {
        let h = try LuaHarness()
        try h.run(#"reward.define("short", function(s) return -#s.completion / 10 end, {doc = "prefer short"})"#)
        XCTAssertEqual(try h.value(#"reward.get("short")({completion = "12345"})"#), "-0.5")
        XCTAssertEqual(try h.value("table.concat(reward.list(), ',')"), "accuracy,format,length,repetition,short")
        XCTAssertEqual(try h.value(#"tostring(reward.get("short"))"#), "reward short")
        XCTAssertEqual(try h.value(#"reward.remove("short")"#), "true")
        XCTAssertEqual(try h.value(#"reward.remove("short")"#), "false")
        XCTAssertEqual(msg(h, #"reward.get("short")"#), "reward.get: unknown reward 'short'")
        XCTAssertEqual(msg(h, #"reward.define(1, print)"#), "bad argument #1 to 'reward.define' (string expected, got number)")
        XCTAssertEqual(msg(h, #"reward.define("x", 3)"#), "bad argument #2 to 'reward.define' (function expected, got number)")
        XCTAssertEqual(msg(h, #"reward.define("x", print, {docs = ""})"#),
                       "bad argument #3 to 'reward.define' (unknown option 'docs'; valid options: doc)")
    }

    func testCombineAndNormalize() throws {
        let h = try LuaHarness()
        try h.run(#"reward.define("len", function(s) return #s.completion end)"#)
        try h.run(#"c = reward.combine{{"len", 0.5}, {function(s) return 10 end, 2}, {reward.get("format"), 3}}"#)
        XCTAssertEqual(try h.value(#"c({completion = "<think>a</think><answer>b</answer>"})"#), "40.0")  // 0.5*34 + 20 + 3
        // TRL 1.16 GRPOTrainer sums its reward functions with nansum (None is NaN): a part
        // returning NaN adds nothing, as nil does, and so does 0 * inf; all NaN/nil gives nil.
        // Found by lab_diff.py (the sum was NaN).
        XCTAssertEqual(try h.value(#"return reward.combine{{function() return 0/0 end, 2}, {function() return 3 end, 1}}({}, {})"#), "3")
        XCTAssertEqual(try h.value(#"return reward.combine{{function() return math.huge end, 0}, {function() return 1 end, 1}}({}, {})"#), "1")
        XCTAssertEqual(try h.value(#"return tostring(reward.combine{{function() return 0/0 end, 2}, {function() return nil end, 1}}({}, {}))"#), "nil")
        XCTAssertEqual(msg(h, #"reward.combine{{"nope", 1}}"#), "reward.combine: part 1: unknown reward 'nope'")
        XCTAssertEqual(msg(h, #"reward.combine{{"len", "x"}}"#), "reward.combine: part 1: weight must be a number or a function of state, got string")
        // A weight may be a function of state (a curriculum), evaluated on every call; the call
        // returns the sum alone, r:parts the raw and weighted value of each part.
        try h.run(#"cur = reward.combine{{"len", function(st) return 1 - (st.step or 0) / 100 end}, {function(s) return 10 end, 2}}"#)
        let s34 = #"{completion = "<think>a</think><answer>b</answer>"}"#
        XCTAssertEqual(try h.value("cur(\(s34))"), "54.0")                       // 1 * 34 + 20, state {}
        XCTAssertEqual(try h.value("cur(\(s34), {step = 50})"), "37.0")          // 0.5 * 34 + 20
        XCTAssertEqual(try h.value("select('#', cur(\(s34), {step = 50}))"), "1")
        XCTAssertEqual(try h.value("""
            local v, info = cur:parts(\(s34), {step = 75})
            local p = info.parts[1]
            return string.format("%g %g %s %g %g %g %g %g", v, info.total, p.name, p.raw, p.weight, p.weighted,
                                 info.raw["<function>"], info.weighted.len)
            """), "28.5 28.5 len 34 0.25 8.5 10 8.5")
        XCTAssertEqual(msg(h, #"reward.combine{{"len", function() return "x" end}}({completion = ""})"#),
                       "the weight of part 1 ('len') returned string, expected a number")
        XCTAssertEqual(msg(h, #"reward.get("len"):parts({completion = ""})"#),
                       "reward:parts: 'len' is not a reward.combine result")
        // Workers get the state-dependent weights too.
        try h.run(#"reward.define("cur", cur)"#)
        XCTAssertEqual(try h.value("""
            local rows = {}
            for i = 1, 6 do rows[i] = \(s34) end
            local v = reward.score("cur", rows, {workers = 2, state = {step = 50}, progress = false})
            return v[1] .. " " .. v[6]
            """), "37.0 37.0")
        XCTAssertEqual(try h.value(#"reward.normalize({1, 2, 2, 5}, "rank")"#), "tensor([0.0000, 0.5000, 0.5000, 1.0000], dtype=f64)")
        XCTAssertEqual(try h.value(#"reward.normalize({1, 3, 5}, "minmax")"#), "tensor([0.0000, 0.5000, 1.0000], dtype=f64)")
        let z = try h.value(#"local z = reward.normalize({1, 2, 3, 0/0}, "zscore"); return string.format("%.6f %.6f %.6f %s", z[1], z[2], z[3], tostring(z[4] ~= z[4]))"#)
        XCTAssertEqual(z, "-1.224745 0.000000 1.224745 true")
        // Found by lab_diff.py against scipy 1.17's stats.zscore: eight equal 0.1 scores have
        // a rounded mean an ulp away (scipy gives -1 or 1 each); the docstring promises zeros.
        XCTAssertEqual(try h.value(#"return reward.normalize({0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1}, "zscore"):sum()"#), "0.0")
        XCTAssertEqual(try h.value(#"local z = reward.normalize({0.1, 0.1, 0/0}, "zscore"); return string.format("%g %g %s", z[1], z[2], tostring(z[3] ~= z[3]))"#), "0 0 true")
        // An infinite score: NaN everywhere as scipy's zscore (it was 0 everywhere).
        XCTAssertEqual(try h.value(#"local z = reward.normalize({1, math.huge, 3}, "zscore"); return tostring(z[1] ~= z[1]) .. tostring(z[3] ~= z[3])"#), "truetrue")
        XCTAssertEqual(msg(h, #"reward.normalize({1}, "l2")"#),
                       #"bad argument #2 to 'reward.normalize' (method must be "zscore", "rank" or "minmax", got "l2")"#)
    }

    func testScoreKeepsGoingPastFailingRows() throws {
        let h = try LuaHarness()
        try h.run("""
            reward.define("fragile", function(s)
              if s.i % 5 == 0 then error("no answer in row " .. s.i) end
              if s.i % 7 == 0 then return "oops" end
              return s.i / 2
            end)
            rows = {}
            for i = 1, 20 do rows[i] = {i = i, completion = "x"} end
            scores, errors = reward.score("fragile", rows, {progress = false})
            """)
        XCTAssertEqual(try h.value("#errors"), "6")
        XCTAssertEqual(try h.value("errors[1].row .. ' ' .. errors[1].message"), "5 [1]:2: no answer in row 5")
        XCTAssertEqual(try h.value("errors[2].row .. ' ' .. errors[2].message"), "7 reward returned string, expected a number or nil")
        XCTAssertEqual(try h.value("tostring(scores[5] ~= scores[5]) .. ' ' .. scores[4] .. ' ' .. scores[20 - 1]"), "true 2.0 9.5")
        XCTAssertEqual(msg(h, #"reward.score("nope", rows)"#), "bad argument #1 to 'reward.score' (unknown reward 'nope')")
        XCTAssertEqual(msg(h, #"reward.score("fragile", rows, {workers = 0})"#),
                       "bad argument #3 to 'reward.score' (option 'workers' must be an integer in [1, 256], got 0)")
        XCTAssertEqual(msg(h, #"reward.score("fragile", rows, {threads = 2})"#),
                       "bad argument #3 to 'reward.score' (unknown option 'threads'; valid options: progress, state, workers)")
    }

    func testWorkersGiveTheSameScoresAsOne() throws {
        let h = try LuaHarness()
        try h.run(#"""
            local weights = {format = 0.5, len = 0.01}
            local floor = math.floor
            function keyword_bonus(text) return text:find("therefore") and 0.25 or 0 end
            local function len(s) return floor(#s.completion / 10) * weights.len end
            reward.define("mix", reward.combine{{"format", weights.format}, {len, 1}, {"accuracy", 1},
              {function(s) if s.i % 37 == 0 then error("row " .. s.i .. " refused") end
                 return keyword_bonus(s.completion) end, 1}})
            rows = {}
            for i = 1, 300 do
              local good = i % 3 ~= 0
              local body = good and ("<think>step " .. i .. ", therefore</think>\n<answer>\\boxed{" .. (i % 11) .. "}</answer>")
                                or ("The answer is " .. (i % 13))
              rows[i] = {i = i, prompt = "What is " .. i .. " mod 11?", completion = body, answer = tostring(i % 11)}
            end
            a, ea = reward.score("mix", rows, {progress = false})
            b, eb = reward.score("mix", rows, {workers = 2, progress = false})
            same = true
            for i = 1, #rows do
              if not (a[i] == b[i] or (a[i] ~= a[i] and b[i] ~= b[i])) then same = false end
            end
            """#)
        XCTAssertEqual(try h.value("same"), "true")
        XCTAssertEqual(try h.value("#ea .. ' ' .. #eb"), "8 8")
        XCTAssertEqual(try h.value("ea[3].message == eb[3].message"), "true")
        XCTAssertEqual(try h.value("a[1]"), "1.8")   // format 0.5 + len 0.01 * floor(58 / 10) + accuracy 1 + keyword 0.25
        XCTAssertEqual(try h.value("a[3]"), "1.01")   // no format; "The answer is 3": len 0.01 + accuracy 1
    }

    func testUnsendableRewardExplainsWhy() throws {
        let h = try LuaHarness()
        try h.run("t = tensor{1, 2}; reward.define('bad', function(s) return t[1] + #s.completion end)")
        try h.run("local tt = tensor{1, 2}; reward.define('worse', function(s) return tt[1] end)")
        XCTAssertEqual(try h.value("(reward.score('bad', {{completion = 'a'}, {completion = 'bb'}}, {workers = 2, progress = false}))"),
                       "tensor([nan, nan], dtype=f64)")  // global tensors do not travel: t is nil in the workers
        let e = msg(h, "reward.score('worse', {{completion = 'a'}, {completion = 'b'}}, {workers = 2})")
        XCTAssertEqual(e, "reward.score: cannot send the reward to workers: upvalue 'tt' is a tensor, which cannot be sent to a worker")
    }

    func testBuiltinsOnGRPOCompletions() throws {
        let h = try LuaHarness()
        try h.run(#"""
            good = {prompt = "Janet has 3 apples and buys 4 more. How many?",
                    completion = "<think>3 + 4 = 7 apples.</think>\n<answer>The total is \\boxed{7}.</answer>", answer = "7"}
            wrong = {prompt = good.prompt, completion = "<think>3 * 4</think> <answer>12</answer>", answer = "7"}
            messy = {prompt = good.prompt, completion = "I think it is 7. Final answer: 7.0", ground_truth = "\\boxed{7}"}
            loop = {completion = "the answer is the answer is the answer is the answer is 7", answer = "7"}
            frac = {completion = "so x = \\boxed{\\frac{1}{2}}", answer = "0.5"}
            comma = {completion = "She earns $1,250 per week", answer = "1250"}
            """#)
        let f = #"reward.get("format")"#, acc = #"reward.get("accuracy")"#
        XCTAssertEqual(try h.value("\(f)(good) .. \(f)(wrong) .. \(f)(messy)"), "110")
        XCTAssertEqual(try h.value("\(acc)(good) .. \(acc)(wrong) .. \(acc)(messy) .. \(acc)(frac) .. \(acc)(comma)"), "10111")
        XCTAssertEqual(try h.value(#"string.format("%.4f", reward.get("repetition")(loop))"#), "-0.6364")
        XCTAssertEqual(try h.value(#"reward.get("repetition")(good)"#), "0")
        XCTAssertEqual(try h.value(#"reward.length{target = 10, unit = "words"}(loop)"#), "0.7")
        XCTAssertEqual(try h.value(#"reward.length{target = 10, unit = "words", shape = "gaussian", scale = 5}(loop) < 1"#), "true")
        XCTAssertEqual(try h.value(#"reward.format("<answer>%d+</answer>%s*$")(wrong)"#), "1")
        XCTAssertEqual(msg(h, #"reward.length{shape = "cubic"}"#),
                       #"bad argument #1 to 'reward.length' (option 'shape' must be one of "linear", "quadratic", "gaussian", "cutoff", got cubic)"#)
        XCTAssertEqual(msg(h, #"reward.get("accuracy")({completion = "7"})"#)?.hasSuffix("sample has no ground truth (field 'answer')"), true)
    }
}
