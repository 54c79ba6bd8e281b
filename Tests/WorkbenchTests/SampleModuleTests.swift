import XCTest
import TestSupport

/// The `sample` module from Lua: stages, chains, Lua stages, determinism and bad
/// arguments. Stage semantics against HF/llama.cpp reference rows are tested in
/// AlignMathTests; here each result is small enough to check by hand (noted beside it).
final class SampleModuleTests: XCTestCase {
    private func harness() throws -> LuaHarness {
        let h = try LuaHarness()
        try h.installNumberHelpers()
        return h
    }

    func testEveryStageBuildsAndPrints() throws {
        let h = try harness()
        let stages = [
            ("sample.temperature(0.8)", "sample.temperature(0.8)"),
            ("sample.top_k(40)", "sample.top_k(40)"),
            ("sample.top_p(0.95, {semantics = 'llama.cpp'})", "sample.top_p(0.95, llama.cpp)"),
            ("sample.min_p(0.05, {min_keep = 2})", "sample.min_p(0.05, min_keep = 2)"),
            ("sample.typical(0.9)", "sample.typical(0.9)"),
            ("sample.epsilon(0.001)", "sample.epsilon(0.001)"),
            ("sample.eta(0.001)", "sample.eta(0.001)"),
            ("sample.top_n_sigma(1)", "sample.top_n_sigma(1)"),
            ("sample.xtc{probability = 0.5, threshold = 0.1}", "sample.xtc{probability = 0.5, threshold = 0.1}"),
            ("sample.penalties{repetition = 1.1}", "sample.penalties{repetition = 1.1, frequency = 0, presence = 0}"),
            ("sample.penalties{repetition = 1.1, last_n = 64, semantics = 'llama.cpp'}",
             "sample.penalties{repetition = 1.1, frequency = 0, presence = 0, last_n = 64, llama.cpp}"),
            ("sample.temperature(0.8, {semantics = 'llama.cpp'})", "sample.temperature(0.8, llama.cpp)"),
            ("sample.logit_bias({[3] = 1}, {semantics = 'llama.cpp'})", "sample.logit_bias({[3] = 1}, llama.cpp)"),
            ("sample.mirostat{tau = 3, semantics = 'llama.cpp'}", "sample.mirostat{tau = 3, eta = 0.1, llama.cpp}"),
            ("sample.mirostat{version = 1, m = 10}", "sample.mirostat{tau = 5, eta = 0.1, version = 1, m = 10}"),
            ("sample.greedy{semantics = 'llama.cpp'}", "sample.greedy(llama.cpp)"),
            ("sample.temperature(0.8, {delta = 0.5})", "sample.temperature(0.8, delta = 0.5, exponent = 1)"),
            ("sample.logit_bias{[3] = -math.huge}", "sample.logit_bias{[3] = -inf}"),
            ("sample.greedy()", "sample.greedy()"),
            ("sample.mirostat{}", "sample.mirostat{tau = 5, eta = 0.1}"),
        ]
        for (code, printed) in stages {
            XCTAssertEqual(try h.value("tostring(\(code))"), printed)
            // Every stage runs in a chain on a small row and leaves at least one token.
            XCTAssertEqual(try h.value("sample.chain{\(code)}:probs({2, 1, 0.5, 0, -1}, {history = {0, 0, 1}}):sum() > 0.999"), "true", code)
        }
    }

    func testApplyProbsAndStageValues() throws {
        let h = try harness()
        // top_k(2) keeps 3 and 2; temperature 0.5 doubles them: {6, 4, -inf, -inf}.
        XCTAssertEqual(try h.luaNumbers("sample.chain{sample.top_k(2), sample.temperature(0.5)}:apply{3, 2, 1, 0}"), [6, 4, -.infinity, -.infinity])
        // probs = softmax(6, 4) = 1 / (1 + e^-2), e^-2 / (1 + e^-2).
        assertNumbersClose(try h.luaNumbers("sample.chain{sample.top_k(2), sample.temperature(0.5)}:probs{3, 2, 1, 0}"),
                           [0.8807970779778823, 0.11920292202211755, 0, 0], accuracy: 1e-6)
        // HF top-k keeps ties with the k-th logit; llama.cpp keeps exactly k (lower id first).
        XCTAssertEqual(try h.luaNumbers("sample.chain{sample.top_k(1)}:apply{2, 2, 1}"), [2, 2, -.infinity])
        XCTAssertEqual(try h.luaNumbers("sample.chain{sample.top_k(1, {semantics = 'llama.cpp'})}:apply{2, 2, 1}"), [2, -.infinity, -.infinity])
        // Penalties over ctx.history: id 0 seen twice, id 1 once; 4/2 - 2*0.5 - 0.25, -1*2 - 0.5 - 0.25.
        XCTAssertEqual(try h.luaNumbers("sample.chain{sample.penalties{repetition = 2, frequency = 0.5, presence = 0.25}}:apply({4, -1, 3}, {history = {0, 1, 0}})"),
                       [0.75, -2.75, 3])
        // logit_bias by 0-based id: id 2 is the third logit.
        XCTAssertEqual(try h.luaNumbers("sample.chain{sample.logit_bias{[2] = 10, [0] = -math.huge}}:apply{1, 1, 1}"), [-.infinity, 1, 11])
        // f32 tensors in give f32 out; arrays and f64 give f64.
        XCTAssertEqual(try h.value("sample.chain{}:apply(tensor.from({1, 2}, {dtype = 'f32'})):dtype()"), "f32")
        XCTAssertEqual(try h.value("sample.chain{}:probs(tensor{1, 2}):dtype()"), "f64")
        XCTAssertEqual(try h.value("#sample.chain{sample.top_k(2), sample.greedy()}"), "2")
    }

    func testSameSeedSameTokens() throws {
        let script = """
            (function()
              local c = sample.chain{sample.penalties{repetition = 1.2}, sample.top_k(50), sample.top_p(0.9), sample.temperature(0.9)}
              local g, ids, hist = random.new(7), {}, {}
              local logits = tensor.randn({200}, random.new(1))
              for i = 1, 40 do ids[i] = c:sample(logits, g, {history = hist}); hist[#hist + 1] = ids[i] end
              return table.concat(ids, ' ')
            end)()
            """
        let a = try LuaHarness().value(script), b = try LuaHarness(seed: 99).value(script)
        XCTAssertEqual(a, b)
        XCTAssertEqual(a.split(separator: " ").count, 40)
        XCTAssertNotEqual(a, try LuaHarness().value(script.replacingOccurrences(of: "random.new(7)", with: "random.new(8)")))
        // Without a generator chain:sample uses random.default, so it follows --seed.
        let d = "(function() local c = sample.chain{} local t = {} for i = 1, 20 do t[i] = c:sample{0, 0, 0, 0} end return table.concat(t) end)()"
        XCTAssertEqual(try LuaHarness(seed: 5).value(d), try LuaHarness(seed: 5).value(d))
        XCTAssertNotEqual(try LuaHarness(seed: 5).value(d), try LuaHarness(seed: 6).value(d))
        // Ids are 0-based: all mass on the last of four tokens gives 3.
        XCTAssertEqual(try LuaHarness().value("sample.chain{sample.greedy()}:sample({0, 1, 2, 9}, random.new(0))"), "3")
    }

    func testSampleFrequencies() throws {
        let h = try harness()
        // probs of {log 1, log 3} = {0.25, 0.75}: 8000 draws within 4 standard deviations (155).
        try h.run("""
            c, g, n = sample.chain{}, random.new(3), {[0] = 0, [1] = 0}
            for i = 1, 8000 do local k = c:sample({0, math.log(3)}, g); n[k] = n[k] + 1 end
            """)
        XCTAssertEqual(try h.value("math.abs(n[1] - 6000) < 155 and n[0] + n[1] == 8000"), "true")
    }

    func testLuaStageComposesWithNativeStages() throws {
        let h = try harness()
        try h.run("""
            seen = {}
            ban0 = sample.stage("ban0", function(l, ctx)
              seen.n, seen.type, seen.dtype = l:numel(), type(ctx.history), l:dtype()
              seen.removed, seen.hist, seen.note = l[4], #ctx.history, ctx.note
              l[1] = -math.huge
              return l
            end)
            c = sample.chain{sample.top_k(3), ban0, sample.temperature(0.5)}
            """)
        // top_k(3): {3, 2, 1, -inf}; ban0 removes id 0: {-inf, 2, 1, -inf}; / 0.5: {-inf, 4, 2, -inf}.
        XCTAssertEqual(try h.luaNumbers("c:apply({3, 2, 1, 0}, {history = {1, 2}, note = 'x'})"), [-.infinity, 4, 2, -.infinity])
        XCTAssertEqual(try h.value("seen.n == 4 and seen.type == 'table' and seen.dtype == 'f64' and seen.removed == -math.huge"), "true")
        XCTAssertEqual(try h.value("seen.hist == 2 and seen.note == 'x'"), "true", "ctx carries history and the caller's other fields")
        XCTAssertEqual(try h.value("c:sample({3, 2, 1, 0}, random.new(0)) ~= 0"), "true")
        // A stage may return a new tensor (f64 too) instead of editing in place.
        XCTAssertEqual(try h.luaNumbers("sample.chain{sample.stage('plus', function(l) return l:to('f64') + 1 end), sample.top_k(1)}:apply{1, 5, 2}"),
                       [-.infinity, 6, -.infinity])
        XCTAssertTrue(try h.value("tostring(ban0)") == "sample.stage(\"ban0\")")
        // explain names the Lua stage.
        XCTAssertEqual(try h.value("c:explain{3, 2, 1, 0}[3].name"), "ban0")
    }

    /// A stage that edits the logits in place and returns nothing means those logits (it was
    /// an error: "must return the logits ..., got nil"), first in the chain (the caller's row
    /// lent until the first write) and after a truncating stage; the caller's logits unchanged.
    func testLuaStageReturningNothingKeepsItsEdits() throws {
        let h = try harness()
        try h.run("""
            ban = sample.stage("ban0", function(l) l[1] = -math.huge end)
            first = sample.chain{ban, sample.top_k(2)}
            after = sample.chain{sample.top_k(3), ban}
            x = tensor.from({5, 3, 2, 1}, {dtype = "f32"})
            """)
        // {5, 3, 2, 1} without id 0, top 2: {3, 2} -> softmax e^3 / (e^3 + e^2).
        let p1 = 1 / (1 + exp(-1.0)), p2 = 1 - 1 / (1 + exp(-1.0))
        for chain in ["first", "after"] {
            let probs = try h.luaNumbers("\(chain):probs{5, 3, 2, 1}")
            XCTAssertEqual(probs.count, 4, chain)
            XCTAssertEqual(probs[0], 0, chain)
            XCTAssertEqual(probs[1], p1, accuracy: 1e-12, chain)
            XCTAssertEqual(probs[2], p2, accuracy: 1e-12, chain)
            XCTAssertEqual(probs[3], 0, chain)
            let f32 = try h.luaNumbers("\(chain):probs(x)")
            XCTAssertEqual(f32[0], 0, chain)
            XCTAssertEqual(f32[1], p1, accuracy: 1e-6, chain)
            XCTAssertEqual(f32[3], 0, chain)
            // Greedy would pick id 0; every draw is id 1 or 2, never 0.
            XCTAssertEqual(try h.value("""
                local g, seen = random.new(7), {}
                for i = 1, 200 do local t = \(chain):sample(x, g); seen[t] = (seen[t] or 0) + 1 end
                return seen[0] == nil and seen[3] == nil and seen[1] > seen[2] and seen[2] > 0
                """), "true", chain)
        }
        XCTAssertEqual(try h.luaNumbers("x"), [5, 3, 2, 1], "the caller's logits are not changed")
    }

    func testLuaStageErrorsNameTheStage() throws {
        let h = try harness()
        XCTAssertEqual(h.bareError("sample.chain{sample.top_k(2), sample.stage('short', function(l) return tensor.zeros{2} end)}:apply{1, 2, 3}"),
                       "sample.chain:apply: stage 'short' returned a tensor of shape {2}; it must return 3 logits (shape {3}), as it was given")
        XCTAssertEqual(h.bareError("sample.chain{sample.stage('word', function(l) return 'l' end)}:probs{1, 2, 3}"),
                       "sample.chain:probs: stage 'word' must return the logits (a tensor or an array of 3 numbers), got string")
        XCTAssertEqual(h.bareError("sample.chain{sample.stage('flag', function(l) return true end)}:probs{1, 2, 3}"),
                       "sample.chain:probs: stage 'flag' must return the logits (a tensor or an array of 3 numbers), got boolean")
        // A Lua array of numbers is logits too ("numbers in"), of the row's length
        XCTAssertEqual(try h.luaNumbers("sample.chain{sample.stage('table', function(l) return {l[1] * 0.1, -math.huge, 3} end)}:apply({0.3, 2, 1})"),
                       [0.3 * 0.1, -.infinity, 3])
        XCTAssertEqual(h.bareError("sample.chain{sample.stage('table', function(l) return {1, 2} end)}:sample({1, 2, 3}, random.new(0))"),
                       "sample.chain:sample: stage 'table' returned an array of 2 numbers; it must return 3 logits, as it was given")
        XCTAssertEqual(h.bareError("sample.chain{sample.stage('strings', function(l) return {'a', 2, 3} end)}:apply{1, 2, 3}"),
                       "sample.chain:apply: stage 'strings' must return the logits (a tensor or an array of 3 numbers), got table")
        let boom = h.bareError("sample.chain{sample.stage('boom', function(l) error('no good') end)}:sample({1, 2}, random.new(0))") ?? ""
        XCTAssertTrue(boom.hasPrefix("sample.chain:sample: stage 'boom' failed: ") && boom.hasSuffix("no good"), boom)
        // The state survives: the next call works.
        XCTAssertEqual(try h.value("sample.chain{sample.greedy()}:sample({0, 1}, random.new(0))"), "1")
        let nested = h.bareError("c = sample.chain{sample.stage('self', function(l) return c:apply(l) end)}; c:apply{1, 2}") ?? ""
        XCTAssertTrue(nested.hasPrefix("sample.chain:apply: stage 'self' failed: ["), nested)
        XCTAssertTrue(nested.hasSuffix(":1: sample.chain:apply: the chain is already running (a Lua stage called its own chain)"), nested)
    }

    func testBadArguments() throws {
        let h = try harness()
        let llamaOnly = "(under transformers semantics; llama.cpp takes it: give the stage or the chain {semantics = \"llama.cpp\"})"
        // Values only llama.cpp takes are refused when the stage is used without its semantics
        // (a chain's semantics option can still give it: llama.cpp's own defaults include
        // top_n_sigma(-1)); values neither takes are refused when the stage is made.
        XCTAssertEqual(h.bareError("sample.chain{sample.top_p(1.5)}"), "bad argument #1 to 'sample.chain' (entry 1: p must be in (0, 1], got 1.5 \(llamaOnly))")
        XCTAssertEqual(h.bareError("sample.chain{sample.top_k(3), sample.top_p(0)}"), "bad argument #1 to 'sample.chain' (entry 2: p must be in (0, 1], got 0.0 \(llamaOnly))")
        XCTAssertEqual(h.bareError("sample.chain({sample.top_p(1.5)}, {semantics = 'transformers'})"), "bad argument #1 to 'sample.chain' (entry 1: p must be in (0, 1], got 1.5)")
        XCTAssertEqual(h.bareError("sample.compare({1, 2}, {sample.temperature(-1)})"), "bad argument #2 to 'sample.compare' (entry 1: temperature must be a finite number >= 0, got -1.0 \(llamaOnly))")
        XCTAssertEqual(try h.value("tostring(sample.top_p(1.5))"), "sample.top_p(1.5)")
        XCTAssertEqual(try h.value("tostring(sample.chain({sample.top_p(1.5), sample.temperature(-1), sample.top_n_sigma(-1)}, {semantics = 'llama.cpp'}))"),
                       "sample.chain{sample.top_p(1.5, llama.cpp), sample.temperature(-1, llama.cpp), sample.top_n_sigma(-1, llama.cpp)}")
        XCTAssertEqual(h.bareError("sample.top_k(-1, {semantics = 'transformers'})"), "bad argument #1 to 'sample.top_k' (k must be an integer in [0, 2147483647], got -1)")
        XCTAssertEqual(h.bareError("sample.chain{sample.top_k(-1)}"), "bad argument #1 to 'sample.chain' (entry 1: k must be an integer >= 0 (0 disables top_k), got -1 \(llamaOnly))")
        XCTAssertEqual(h.bareError("sample.top_k(1.5)"), "bad argument #1 to 'sample.top_k' (k must be an integer in [0, 2147483647], got 1.5)")
        XCTAssertEqual(h.bareError("sample.min_p(0.1, {min_keep = 0, semantics = 'transformers'})"), "bad argument #2 to 'sample.min_p' (option 'min_keep' must be an integer in [1, 2147483647], got 0)")
        XCTAssertEqual(h.bareError("sample.chain{sample.min_p(0.1, {min_keep = 0})}"), "bad argument #1 to 'sample.chain' (entry 1: min_keep must be an integer >= 1, got 0 \(llamaOnly))")
        XCTAssertEqual(try h.value("tostring(sample.chain({sample.min_p(0.1, {min_keep = 0})}, {semantics = 'llama.cpp'}))"),
                       "sample.chain{sample.min_p(0.1, min_keep = 0, llama.cpp)}")
        XCTAssertEqual(h.bareError("sample.top_p(0.9, {top = 1})"), "bad argument #2 to 'sample.top_p' (unknown option 'top'; valid options: min_keep, semantics)")
        XCTAssertEqual(h.bareError("sample.top_p(0.9, {semantics = 'vllm'})"),
                       "bad argument #2 to 'sample.top_p' (option 'semantics' must be one of \"transformers\", \"llama.cpp\", got \"vllm\")")
        XCTAssertEqual(h.bareError("sample.penalties{rep = 1.1}"),
                       "bad argument #1 to 'sample.penalties' (unknown option 'rep'; valid options: frequency, last_n, presence, repetition, semantics)")
        XCTAssertEqual(h.bareError("sample.xtc{probability = 0.5}"), "bad argument #1 to 'sample.xtc' (option 'threshold' is required)")
        XCTAssertEqual(h.bareError("sample.logit_bias{x = 1}"), "bad argument #1 to 'sample.logit_bias' (keys must be integer token ids, got 'x')")
        XCTAssertEqual(h.bareError("sample.chain{sample.top_k(2), 3}"),
                       "bad argument #1 to 'sample.chain' (entry 2 is not a stage (number); build stages with sample.top_k(40), sample.top_p(0.9), ... or sample.stage(name, fn))")
        XCTAssertEqual(h.bareError("sample.chain{sample.mirostat{}, sample.top_k(2)}"),
                       "bad argument #1 to 'sample.chain' (mirostat samples the token itself and must be the last stage (it is stage 1 of 2))")
        XCTAssertEqual(h.bareError("sample.chain{}:apply(tensor.zeros{2, 2})"),
                       "bad argument #2 to 'sample.chain:apply' (logits must be 1-d (one row of the vocabulary), got shape {2, 2}; for a [T, V] tensor use sample.replay_logits)")
        XCTAssertEqual(h.bareError("sample.chain{sample.logit_bias{[5] = 1}}:apply{1, 2}"),
                       "sample.chain:apply: logit_bias id 5 is outside the vocabulary (0..<2)")
        XCTAssertEqual(h.bareError("sample.chain{}:sample({1}, random.new(0), {history = {'a'}})"),
                       "sample.chain:sample: ctx.history must hold integer token ids, entry 1 is a")
        XCTAssertEqual(h.bareError("sample.chain{}:sample({-math.huge}, random.new(0))"),
                       "sample.chain:sample: row 0 has every entry -inf (no token left to give probability to)")
        // a step with nothing to draw stops the replay (its token feeds the later steps), named 1-based
        XCTAssertEqual(h.bareError("sample.replay_logits(tensor{{0, 1}, {-math.huge, -math.huge}}, sample.chain{}, random.new(0))"),
                       "sample.replay_logits: step 2 (t[2]) has no token left: every logit is -inf or removed by a stage")
        XCTAssertEqual(h.bareError("sample.top_p(0/0, {semantics = 'llama.cpp'})"), "bad argument #1 to 'sample.top_p' (p must be in (0, 1], got -nan)")
        XCTAssertEqual(h.bareError("sample.epsilon(0.1, {min_keep = 0, semantics = 'llama.cpp'})"),
                       "bad argument #1 to 'sample.epsilon' (min_keep must be an integer >= 1, got 0)")
    }

    /// llama.cpp semantics takes what llama.cpp 0c1e570's samplers take (common_params'
    /// top_n_sigma default -1, temperature < 0 as greedy, top_k <= 0 off, top_p beyond 1,
    /// min_keep 0): kept sets as llama.cpp leaves them (llamacpp_diff.py's domain category).
    func testLlamaCppSemanticsTakesLlamaCppsRange() throws {
        let h = try harness()
        let row = "{1, 3, 3, 2, -1}"
        let cases: [(String, [Double])] = [
            ("sample.top_n_sigma(-1, L)", [1, 3, 3, 2, -1]),
            ("sample.top_k(-5, L)", [1, 3, 3, 2, -1]),
            ("sample.top_p(1.5, L)", [1, 3, 3, 2, -1]),
            ("sample.temperature(-1, L)", [-.infinity, 3, -.infinity, -.infinity, -.infinity]),
            // the first entry of llama.cpp's sorted array: std::partial_sort leaves id 2 first
            ("sample.top_p(0, {semantics = 'llama.cpp', min_keep = 0})", [-.infinity, -.infinity, 3, -.infinity, -.infinity]),
            ("sample.min_p(2, {semantics = 'llama.cpp', min_keep = 2})", [-.infinity, 3, 3, -.infinity, -.infinity]),
        ]
        for (stage, kept) in cases {
            XCTAssertEqual(try h.luaNumbers("(function() local L = {semantics = 'llama.cpp'}; return sample.chain{\(stage)}:apply\(row) end)()"), kept, stage)
        }
        XCTAssertEqual(try h.value("tostring(sample.typical(0.5, {min_keep = 0, semantics = 'llama.cpp'}))"), "sample.typical(0.5, min_keep = 0, llama.cpp)")
    }

    func testExplainTableAndPrintedForm() throws {
        let h = try harness()
        try h.run("c = sample.chain{sample.top_k(2), sample.temperature(0.5)}; r = c:explain({math.log(4), math.log(3), math.log(2), 0}, nil, {top = 2})")
        XCTAssertEqual(try h.value("#r"), "3")
        XCTAssertEqual(try h.value("r[1].name .. ' ' .. r[2].name .. ' ' .. r[3].name"), "input top_k temperature")
        XCTAssertEqual(try h.value("r[1].count .. ' ' .. r[2].count .. ' ' .. r[3].count"), "4 2 2")
        // probs 0.4, 0.3, 0.2, 0.1: top_k keeps mass 0.7; renormalised 4/7, 3/7; temperature 0.5: 16/25, 9/25.
        assertNumbersClose(try h.luaNumbers("r[2].mass, r[2].top[1].prob, r[2].top[2].prob, r[3].mass, r[3].top[1].prob"),
                           [0.7, 4.0 / 7, 3.0 / 7, 0.7, 16.0 / 25], accuracy: 1e-6)
        assertNumbersClose(try h.luaNumbers("r[1].entropy"), [1.2798542258336676], accuracy: 1e-6)  // -sum p log p of .4 .3 .2 .1
        XCTAssertEqual(try h.value("r[2].top[1].id .. ' ' .. r[2].top[2].id .. ' ' .. #r[2].top"), "0 1 2")
        XCTAssertEqual(try h.value("r[1].top[1].text"), "nil")
        XCTAssertEqual(try h.value("r"), """
            stage        kept    mass  entropy  top tokens (prob)
            input           4  1.0000    1.280  #0 0.400  #1 0.300
            top_k           2  0.7000    0.683  #0 0.571  #1 0.429
            temperature     2  0.7000    0.653  #0 0.640  #1 0.360
            """)
    }

    func testVocabShowsTokenText() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("moonlab-vocab-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let json = dir.appendingPathComponent("tokenizer.json")
        try #"{"version": "1.0", "added_tokens": [{"id": 4, "content": "<|eot|>", "special": true}], "decoder": {"type": "ByteLevel"}, "model": {"type": "BPE", "vocab": {"Ġthe": 0, "Ċ": 1, "cat": 2, "Ġcaf\u00c3\u00a9": 3}, "merges": []}}"#
            .write(to: json, atomically: true, encoding: .utf8)
        let plain = dir.appendingPathComponent("vocab.txt")
        try "a\nb\nc\n".write(to: plain, atomically: true, encoding: .utf8)
        let h = try harness()
        XCTAssertEqual(try h.value("sample.vocab('\(json.path)')"), "5")
        XCTAssertEqual(try h.value("sample.token_text(0) .. '|' .. sample.token_text(3) .. '|' .. sample.token_text(4)"), " the| café|<|eot|>")
        XCTAssertEqual(try h.value("sample.token_text(1) == '\\n'"), "true")
        try h.run("r = sample.chain{sample.top_k(2)}:explain({1, 3, 0, 0, 2}, nil, {top = 2})")
        XCTAssertEqual(try h.value("r[2].top[1].text .. '|' .. r[2].top[2].text"), "\n|<|eot|>")
        let printed = try h.value("tostring(r)")
        XCTAssertTrue(printed.contains(#"top_k     2  0.8534    0.582  "\n" 0.731  "<|eot|>" 0.269"#), printed)
        XCTAssertEqual(try h.value("sample.vocab('\(plain.path)')"), "3")
        XCTAssertEqual(try h.value("sample.token_text(2)"), "c")
        XCTAssertEqual(try h.value("sample.vocab(false); return sample.vocab()"), "nil")
        let missing = h.bareError("sample.vocab('\(dir.path)/nope.json')") ?? ""
        XCTAssertTrue(missing.hasPrefix("sample.vocab: cannot read \(dir.path)/nope.json"), missing)
    }

    func testBestOfN() throws {
        let h = try harness()
        try h.run("best, i, scores = sample.best_of_n({'a', 'ccc', 'bb'}, function(s) return #s end)")
        XCTAssertEqual(try h.value("best .. ' ' .. i"), "ccc 2")
        XCTAssertEqual(try h.luaNumbers("scores"), [1, 3, 2])
        // A registered reward is looked up through reward.get and gets {completion = s}.
        try h.run("reward = {get = function(name) if name == 'len' then return function(s) return #s.completion end end end}")
        XCTAssertEqual(try h.value("(select(2, sample.best_of_n({'aa', 'b'}, 'len')))"), "1")
        XCTAssertEqual(h.bareError("sample.best_of_n({'a'}, 'nope')"), "bad argument #2 to 'sample.best_of_n' (no reward named 'nope' (see reward.list()))")
        try h.run("reward = nil")
        XCTAssertEqual(h.bareError("sample.best_of_n({'a'}, 'len')"),
                       "bad argument #2 to 'sample.best_of_n' (reward 'len' is given by name, but this session has no reward module with reward.get; pass a function)")
        XCTAssertEqual(h.bareError("sample.best_of_n({'a'}, function() return 'x' end)"),
                       "sample.best_of_n: reward must return a number or nil, got string for candidate 1")
        XCTAssertEqual(h.bareError("sample.best_of_n({}, function() return 1 end)"), "bad argument #1 to 'sample.best_of_n' (candidates must be a non-empty array)")
    }

    func testSelfConsistency() throws {
        let h = try harness()
        try h.run("a, agree, counts = sample.self_consistency({'41', '42', '42', '43', '42'})")
        XCTAssertEqual(try h.value("a .. ' ' .. counts['42'] .. ' ' .. counts['41']"), "42 3 1")
        assertNumbersClose(try h.luaNumbers("agree"), [0.6])
        // normalize maps answers first; nil drops one from the vote.
        try h.run("a, agree, counts = sample.self_consistency({'x = 7', 'it is 8', '7!', 'none'}, {normalize = function(s) return tonumber(s:match('%d+')) end})")
        XCTAssertEqual(try h.value("math.type(a) .. ' ' .. a .. ' ' .. counts[7] .. ' ' .. counts[8]"), "integer 7 2 1")
        assertNumbersClose(try h.luaNumbers("agree"), [2.0 / 3])
        XCTAssertEqual(h.bareError("sample.self_consistency({'a'}, {normalise = print})"),
                       "bad argument #2 to 'sample.self_consistency' (unknown option 'normalise'; valid options: normalize)")
        XCTAssertEqual(h.bareError("sample.self_consistency({})"), "sample.self_consistency: no answers to vote on")
    }

    func testReplayLogits() throws {
        let h = try harness()
        // Every row is {1, 0.9, 0, 0}; repetition 2 halves a used token's logit, greedy picks:
        // step 1 -> 0; step 2 (history {0}) 0.5 < 0.9 -> 1; step 3 (0.5 vs 0.45) -> 0.
        try h.run("t = tensor.from({{1, 0.9, 0, 0}, {1, 0.9, 0, 0}, {1, 0.9, 0, 0}}, {dtype = 'f32'})")
        try h.run("ids, steps = sample.replay_logits(t, sample.chain{sample.penalties{repetition = 2}, sample.greedy()}, random.new(0))")
        XCTAssertEqual(try h.value("ids:dtype(), table.concat(ids:totable(), ' ')"), "i64\t0 1 0")
        XCTAssertEqual(try h.value("#steps .. ' ' .. steps[2].kept .. ' ' .. steps[2].prob .. ' ' .. steps[2].entropy"), "3 1 1.0 0.0")
        // A starting history, and an f64 tensor; sampling follows the seed.
        XCTAssertEqual(try h.value("table.concat((sample.replay_logits(t:to('f64'), sample.chain{sample.penalties{repetition = 2}, sample.greedy()}, nil, {history = {0}})):totable(), ' ')"), "1 0 0")
        let walk = "table.concat((sample.replay_logits(tensor.randn({30, 50}, random.new(2)), sample.chain{sample.top_k(10)}, random.new(4))):totable(), ' ')"
        XCTAssertEqual(try h.value(walk), try LuaHarness().value(walk))
        assertNumbersClose(try h.luaNumbers("(function() local _, s = sample.replay_logits(t, sample.chain{}, random.new(1)) return s[1].kept, s[1].entropy end)()"),
                           [4, 1.2839048], accuracy: 1e-6)  // softmax(1, .9, 0, 0): entropy 1.2839 nats
        XCTAssertEqual(h.bareError("sample.replay_logits(tensor{1, 2}, sample.chain{}, random.new(0))"),
                       "bad argument #1 to 'sample.replay_logits' (logits must be a [T, V] tensor, got shape {2})")
    }

    func testEveryFunctionDocumented() throws {
        let h = try harness()
        let fns = ["temperature", "top_k", "top_p", "min_p", "typical", "epsilon", "eta", "top_n_sigma", "xtc", "penalties",
                   "logit_bias", "greedy", "mirostat", "stage", "chain", "vocab", "token_text", "best_of_n", "self_consistency", "replay_logits"]
        for name in fns {
            try h.run("help(sample.\(name))")
            let doc = h.takeOutput()
            XCTAssertTrue(doc.hasPrefix("sample.\(name)"), "signature first for \(name): \(doc)")
            XCTAssertTrue(doc.contains("Example: "), "example for \(name)")
        }
        for name in ["apply", "probs", "sample", "explain", "reset"] {
            try h.run("help(sample.methods.\(name))")
            XCTAssertTrue(h.takeOutput().hasPrefix("chain:\(name)("), name)
        }
        try h.run("help(sample.top_p)")
        let topP = h.takeOutput()
        XCTAssertTrue(topP.contains("llama.cpp") && topP.contains("min_keep (1)"), topP)
    }
}
