import XCTest
import Foundation
import TestSupport

/// From Lua: f64 logits stay f64 through every sampling path, a Lua stage keeps its
/// buffer and ctx across calls, and `random.new(seed, {engine = "llama.cpp"})` replays
/// llama.cpp's draws (the token sequences of AlignMathTests' llamacpp_reference.json,
/// written by llama.cpp itself through llama-cpp-python 0.3.36).
final class SamplePrecisionAndEngineTests: XCTestCase {
    func testF64StaysF64FromLua() throws {
        let h = try LuaHarness()
        // The issue's examples (numpy: 1 / (1 + e^-1 + e^-1.9) = 0.65900113888596791).
        XCTAssertEqual(try h.value("string.format('%.14f', sample.chain{sample.top_k(3)}:probs(tensor{2, 1, 0.1, -1})[1])"), "0.65900113888597")
        XCTAssertEqual(try h.value("sample.chain{sample.temperature(1)}:apply(tensor{0.1})[1] == 0.1"), "true")
        XCTAssertEqual(try h.value("sample.chain{sample.temperature(0.7)}:apply{0.3}[1] == 0.3 / 0.7"), "true")
        XCTAssertEqual(try h.value("sample.chain{}:apply(tensor{1}):dtype()"), "f64")
        XCTAssertEqual(try h.value("sample.chain{}:probs(tensor.from({1, 2}, {dtype = 'f32'})):dtype()"), "f32")
        XCTAssertEqual(try h.value("sample.chain{sample.penalties{repetition = 1.3}}:apply(tensor{0.1, -0.2}, {history = {0, 1}})[1] == 0.1 / 1.3"), "true")
        XCTAssertEqual(try h.value("sample.chain{sample.logit_bias{[0] = 1e-10}}:apply{0.5}[1] == 0.5 + 1e-10"), "true")
        XCTAssertEqual(try h.value("string.format('%.14f', sample.chain{sample.top_k(3)}:explain(tensor{2, 1, 0.1, -1})[2].top[1].prob)"), "0.65900113888597")
        XCTAssertEqual(try h.value("string.format('%.14f', select(2, sample.replay_logits(tensor{{2, 1, 0.1, -1}}, sample.chain{sample.top_k(3)}, random.new(1)))[1].prob)"),
                       try h.value("string.format('%.14f', sample.chain{sample.top_k(3)}:probs(tensor{2, 1, 0.1, -1})[1 + sample.replay_logits(tensor{{2, 1, 0.1, -1}}, sample.chain{sample.top_k(3)}, random.new(1))[1]])"))
        // Weights below float32's range are still drawn (an f32 round trip makes them 0).
        XCTAssertEqual(try h.value("random.new(0):categorical{0, 1e-50}"), "1")
        XCTAssertEqual(try h.value("select(3, sample.best_of_n({'a', 'b'}, function() return 0.1 end))[2] == 0.1"), "true")
        // A Lua stage reads the f64 row unrounded.
        XCTAssertEqual(try h.value("local v; sample.chain{sample.stage('peek', function(l) v = l[3] return l end)}:apply(tensor{1, 2, 0.1}); return v == 0.1"), "true")
        // ctx.history from a tensor must hold integers.
        XCTAssertEqual(h.bareError("sample.chain{sample.penalties{repetition = 2}}:apply({1, 2}, {history = tensor{0.5}})"),
                       "sample.chain:apply: ctx.history must hold integer token ids, entry 1 is 0.5")
    }

    /// A NaN logit is refused by every chain entry point with the method and the 0-based
    /// id (as chain:distribution/logprob and sample.compare do), never dropped: before,
    /// `sample.chain{sample.top_p(0.9)}:probs(tensor{0/0, 1, 2})` gave [0, .27, .73] and
    /// chain:sample returned a token. Each common stage (alone, and in the order a
    /// typical chain uses), f32 and f64, NaN first, in the middle (inside a 16-wide
    /// block), last (the scalar tail), a Lua array, and [T, V] rows for replay_logits.
    func testNaNLogitsAreRefusedByEveryChainMethod() throws {
        let h = try LuaHarness()
        let out = try h.value("""
            local V = 40
            local L = {semantics = "llama.cpp"}
            local chains = {
              "sample.chain{}",
              "sample.chain{sample.top_k(5)}", "sample.chain{sample.top_p(0.9)}", "sample.chain{sample.min_p(0.1)}",
              "sample.chain{sample.temperature(0.7)}", "sample.chain{sample.typical(0.9)}",
              "sample.chain{sample.penalties{repetition = 1.3}}",
              "sample.chain{sample.stage('same', function(l) return l end)}",
              "sample.chain{sample.penalties{repetition = 1.1}, sample.top_k(40), sample.top_p(0.95), sample.temperature(0.8)}",
              "sample.chain{sample.temperature(0.5), sample.temperature(2)}",
              "sample.chain{sample.top_k(5, L)}", "sample.chain{sample.top_k(40, L), sample.temperature(1.5, L)}",
            }
            local bad = {}
            local function expect(label, method, id, ok, err)
              local want = "sample.chain:" .. method .. ": logits contain NaN at id " .. id
              if ok or not tostring(err):find(want, 1, true) then
                bad[#bad + 1] = label .. " " .. method .. " -> " .. (ok and "no error" or tostring(err))
              end
            end
            for _, code in ipairs(chains) do
              local c = load("return " .. code, "=chain", "t", _ENV)()
              for _, dtype in ipairs{"f64", "f32", "array"} do
                for _, pos in ipairs{0, 21, V - 1} do
                  local row, clean = {}, {}
                  for i = 1, V do row[i] = math.sin(i) * 3; clean[i] = row[i] end
                  row[pos + 1] = 0/0
                  local x = dtype == "array" and row or tensor.from(row, {dtype = dtype})
                  local ctx = {history = {1, 2, pos}}
                  local label = code .. " " .. dtype .. " NaN at " .. pos
                  expect(label, "apply", pos, pcall(c.apply, c, x, ctx))
                  expect(label, "probs", pos, pcall(c.probs, c, x, ctx))
                  expect(label, "sample", pos, pcall(c.sample, c, x, random.new(1), ctx))
                  expect(label, "sample", pos, pcall(c.sample, c, x, random.new(1, {engine = "llama.cpp"}), ctx))
                  expect(label, "explain", pos, pcall(c.explain, c, x, ctx))
                  if dtype ~= "array" then
                    local ok, err = pcall(sample.replay_logits, tensor.from({clean, row}, {dtype = dtype}), c, random.new(1))
                    local want = "logits contain NaN at id " .. pos .. " in row 1"
                    if ok or not tostring(err):find(want, 1, true) then bad[#bad + 1] = label .. " replay_logits -> " .. tostring(err) end
                  end
                end
              end
            end
            -- -inf keeps its meaning: a banned token.
            local p = sample.chain{sample.top_p(0.9)}:probs(tensor{-1/0, 1, 2})
            if p[1] ~= 0 or math.abs(p[3] - 1 / (1 + math.exp(-1))) > 1e-12 then bad[#bad + 1] = "-inf row changed" end
            return #bad == 0 and "ok" or (#bad .. " failures: " .. table.concat(bad, " | ", 1, math.min(#bad, 15)))
            """)
        XCTAssertEqual(out, "ok")
    }

    /// A NaN a Lua stage writes is an error naming the stage, its place and the id, in
    /// every chain method (issue 10 §6: NaN gives NaN or an error, never numbers). Before,
    /// it was dropped as if the stage had removed the token. The stage first (the whole row
    /// handed over) and after top_k (only candidates), followed by each kind of reader of
    /// its output (top-k's scan, the candidate gather, the whole-row draw, llama.cpp's
    /// top-k and array, a second Lua stage), NaN in place or in a new tensor, f32, f64 and
    /// Lua arrays.
    func testNaNWrittenByALuaStageIsAnError() throws {
        let h = try LuaHarness()
        let out = try h.value("""
            local V = 40
            local L = {semantics = "llama.cpp"}
            local tails = {
              function() return {} end,
              function() return {sample.top_k(5)} end,
              function() return {sample.top_p(0.9)} end,
              function() return {sample.temperature(0.7)} end,
              function() return {sample.penalties{repetition = 1.3}, sample.min_p(0.05)} end,
              function() return {sample.top_k(5, L)} end,
              function() return {sample.top_p(0.9, L), sample.temperature(1.5, L)} end,
              function() return {sample.stage("same", function(l) return l end), sample.top_k(3)} end,
            }
            local bad, cases = {}, 0
            local function expect(label, method, want, ok, err)
              cases = cases + 1
              if ok or not tostring(err):find(want, 1, true) then
                bad[#bad + 1] = label .. " " .. method .. " -> " .. (ok and "no error" or tostring(err))
              end
            end
            for _, fresh in ipairs{false, true} do
              for _, head in ipairs{"first", "after top_k"} do
                for t, tail in ipairs(tails) do
                  for _, pos in ipairs{0, 21, V - 1} do
                    local function nan_stage()
                      return sample.stage("nan", function(l)
                        if fresh then l = l:clone() end
                        l[pos + 1] = 0/0
                        return l
                      end)
                    end
                    local stages = tail()
                    local at = 1
                    if head == "after top_k" then table.insert(stages, 1, sample.top_k(30)); at = 2 end
                    table.insert(stages, at, nan_stage())
                    local c = sample.chain(stages)
                    for _, dtype in ipairs{"f64", "f32", "array"} do
                      local row = {}
                      for i = 1, V do row[i] = math.sin(i) * 3 end
                      local x = dtype == "array" and row or tensor.from(row, {dtype = dtype})
                      local ctx = {history = {1, 2, 3}}
                      local label = head .. " tail " .. t .. (fresh and " new tensor " or " in place ") .. dtype .. " NaN at " .. pos
                      local function want(m) return "sample.chain:" .. m .. ": stage " .. at .. " (nan) wrote NaN at id " .. pos end
                      expect(label, "apply", want("apply"), pcall(c.apply, c, x, ctx))
                      expect(label, "probs", want("probs"), pcall(c.probs, c, x, ctx))
                      expect(label, "sample", want("sample"), pcall(c.sample, c, x, random.new(1), ctx))
                      expect(label, "sample llama", want("sample"), pcall(c.sample, c, x, random.new(1, {engine = "llama.cpp"}), ctx))
                      expect(label, "explain", want("explain"), pcall(c.explain, c, x, ctx))
                    end
                  end
                end
              end
            end
            -- a stage that removes tokens (-inf) and keeps the rest is unchanged
            local keep = sample.chain{sample.stage("ban", function(l) l[1] = -math.huge return l end), sample.top_k(2)}
            local p = keep:probs(tensor{5, 1, 2})
            if p[1] ~= 0 or math.abs(p[3] - 1 / (1 + math.exp(-1))) > 1e-12 then bad[#bad + 1] = "ban changed" end
            return #bad == 0 and ("ok " .. cases) or (#bad .. " failures: " .. table.concat(bad, " | ", 1, math.min(#bad, 12)))
            """)
        XCTAssertEqual(out, "ok 1440")
    }

    func testLuaStageKeepsItsBufferAndContext() throws {
        let h = try LuaHarness()
        try h.run("""
            seen = {}
            keep = sample.stage("keep", function(l, ctx)
              ctx.count = (ctx.count or 0) + 1
              seen[#seen + 1] = {t = l, ctx = ctx, n = #ctx.history, last = ctx.history[#ctx.history], count = ctx.count}
              return l
            end)
            c = sample.chain{keep, sample.top_k(2)}
            hist = {1, 2}
            c:sample({1, 2, 3, 4}, random.new(0), {history = hist})
            hist[3] = 0
            c:sample({1, 2, 3, 4}, random.new(0), {history = hist})
            c:sample({1, 2, 3, 4}, random.new(0), {history = {3}})
            """)
        XCTAssertEqual(try h.value("rawequal(seen[1].t, seen[2].t) and rawequal(seen[1].ctx, seen[3].ctx)"), "true", "one tensor, one ctx table")
        XCTAssertEqual(try h.value("seen[2].n == 3 and seen[2].last == 0 and seen[3].n == 1 and seen[3].last == 3"), "true", "history extended, then rewritten")
        XCTAssertEqual(try h.value("seen[3].count"), "3", "fields the stage sets stay")
        // After a truncating stage only the candidates are written into the (blank) buffer,
        // and what the stage leaves finite is read back, un-removed tokens included; the
        // next call starts from a blank buffer again.
        try h.run("unban = sample.chain{sample.top_k(1), sample.stage('unban', function(l) l[1] = 10 return l end)}")
        XCTAssertEqual(try h.value("local o = unban:apply{0, 5, 1}; return o[1] == 10 and o[2] == 5 and o[3] == -math.huge"), "true")
        XCTAssertEqual(try h.value("local o = unban:apply{0, 1, 5}; return o[1] == 10 and o[2] == -math.huge and o[3] == 5"), "true")
        XCTAssertEqual(try h.value("sample.chain{sample.top_k(2), sample.stage('new', function(l) return tensor{-math.huge, 0, 3} end), sample.greedy()}:sample({1, 2, 0}, random.new(0))"), "2")
        // The buffer follows the logits' dtype; a returned f32 tensor is copied in.
        XCTAssertEqual(try h.value("local d; sample.chain{sample.stage('d', function(l) d = l:dtype() return l end)}:apply(tensor.from({1, 2}, {dtype = 'f32'})); return d"), "f32")
        XCTAssertEqual(try h.value("sample.chain{sample.stage('f', function(l) return tensor.from({0, 5, 1}, {dtype = 'f32'}) end), sample.greedy()}:sample(tensor{1, 2, 3})"), "1")
    }

    func testLlamaCppGeneratorFromLua() throws {
        let h = try LuaHarness()
        // std::mt19937(5489)'s first outputs are 3499211612 and 581869302 (the C++ standard's
        // check value is the first); uniform is (r1 + r2 * 2^32) / 2^64, libstdc++'s generate_canonical.
        let expected = (3_499_211_612.0 + 581_869_302.0 * 4_294_967_296.0) / 18_446_744_073_709_551_616.0
        XCTAssertEqual(try h.value("random.new(5489, {engine = 'llama.cpp'}):uniform() == \(String(format: "%.17g", expected))"), "true")
        XCTAssertEqual(try h.value("tostring(random.new(7, {engine = 'llama.cpp'}))"), "random.generator(llama.cpp, seed 7)")
        try h.run("g = random.new(9, {engine = 'llama.cpp'}); g:uniform(); s = g:state(); a = g:uniform(); g:set_state(s)")
        XCTAssertEqual(try h.value("g:uniform() == a and s:sub(1, 8) == 'mt19937:'"), "true")
        XCTAssertEqual(try h.value("random.new(9, {engine = 'llama.cpp'}):copy():uniform() == random.new(9, {engine = 'llama.cpp'}):uniform()"), "true")
        XCTAssertEqual(h.bareError("random.new(-1, {engine = 'llama.cpp'})"),
                       "bad argument #1 to 'random.new' (a llama.cpp seed is a 32-bit unsigned integer (0 to 4294967294), got -1)")
        XCTAssertNotNil(h.bareError("random.new(nil, {engine = 'llama.cpp'})"))
        XCTAssertNotNil(h.bareError("random.new(1, {engine = 'vllm'})"))
        XCTAssertNotNil(h.bareError("random.new(1):set_state(random.new(1, {engine = 'llama.cpp'}):state())"))
    }

    /// chain:probs with llama.cpp-semantics stages on an f64 row agrees with llama.cpp's own
    /// probabilities (its `dist` sees the row as float32) to float precision, also where the
    /// f64 and f32 softmaxes differ by 25 float ulps. Expected: llama-cpp-python 0.3.36,
    /// `llama_sampler_chain` of top_k(6), min_p(p, 0), dist(7) on the row given as float32,
    /// `p` of each entry after `llama_sampler_apply`.
    func testLlamaCppProbsOfAnF64Row() throws {
        let h = try LuaHarness()
        try h.run("L = {semantics = 'llama.cpp'}")
        let cases: [(row: String, minP: String, expected: [Int: Double])] = [
            ("4.07, 8.51, 2.59, -1.4800000000000002, 12.209999999999999, 11.099999630000001, -26.825000000000003, 12.3790119337, 10.643209877, 41.123456789, 40.98765432123",
             "0.0001", [9: 0.5338977575302124, 10: 0.4661022126674652]),
            ("1.1, 2.3, 0.7, -0.4, 3.3, 2.9999999, -7.25, 3.345678901, 2.87654321", "0.01",
             [0: 0.02825876697897911, 1: 0.0938224196434021, 4: 0.25503575801849365, 5: 0.18893514573574066,
              7: 0.2669556736946106, 8: 0.1669922024011612]),
            // Gaps of 32-39 from the maximum: llama.cpp takes `logit - max` in float (3.8e-6 apart
            // from the exact difference), so the small probabilities move by up to 2.6e-6 relative.
            ("40.123456789, 3.3, 1.1, 7.77777777", "0",
             [0: 1.0, 1: 1.0180669649295217e-16, 2: 1.1280494451137766e-17, 3: 8.962955364336632e-15]),
        ]
        for c in cases {
            let got = try h.value("""
                local p = sample.chain{sample.top_k(6, L), sample.min_p(\(c.minP), L)}:probs(tensor{\(c.row)})
                local out = {}
                for i = 1, #p do if p[i] > 0 then out[#out + 1] = (i - 1) .. '=' .. string.format('%.17g', p[i]) end end
                return table.concat(out, ' ')
                """)
            var seen: [Int: Double] = [:]
            for part in got.split(separator: " ") {
                let kv = part.split(separator: "=")
                seen[Int(kv[0])!] = Double(kv[1])!
            }
            XCTAssertEqual(Set(seen.keys), Set(c.expected.keys), got)
            for (id, p) in c.expected {
                XCTAssertEqual(seen[id] ?? 0, p, accuracy: 2e-7 * p, "id \(id)")
            }
        }
    }

    /// llama.cpp's own tokens, replayed from Lua: rows rebuilt by the fixture generator's
    /// SplitMix64 recipe (written here in Lua), a llama.cpp-semantics chain, the seed.
    func testReplaysLlamaCppTokensFromLua() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../AlignMathTests/Fixtures/llamacpp_reference.json")
        let root = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let seqs = try XCTUnwrap(root["sequences"] as? [[String: Any]])
        let h = try LuaHarness()
        try h.run("""
            function sm64(s)
              s = s + 0x9E3779B97F4A7C15
              local z = s
              z = (z ~ (z >> 30)) * 0xBF58476D1CE4E5B9
              z = (z ~ (z >> 27)) * 0x94D049BB133111EB
              return s, z ~ (z >> 31)
            end
            function umod(z, n) return (((z >> 1) % n) * 2 + (z & 1)) % n end
            function make_row(n, seed, bits, terms, scale, ninf, spikes)
              local s, out, z = seed, {}, nil
              local unit = 2.0 ^ (scale - bits)
              for i = 1, n do
                local acc = 0
                for _ = 1, terms do s, z = sm64(s); acc = acc + (z >> (64 - bits)) end
                local k = acc - terms * (1 << (bits - 1))
                s, z = sm64(s)
                out[i] = (z >> 54) < ninf and -math.huge or k * unit
              end
              for j = 0, spikes - 1 do
                s, z = sm64(s)
                local i = umod(z, n) + 1
                if out[i] ~= -math.huge then out[i] = 8.0 - 0.5 * j end
              end
              return tensor(out)
            end
            L = {semantics = "llama.cpp"}
            """)
        let chains = [
            "dist_ties": "sample.chain{}",
            "ties_top_k": "sample.chain{sample.top_k(40, L), sample.temperature(1.5, L)}",
            "xtc_seq": "sample.chain{sample.xtc{probability = 0.5, threshold = 0.05, semantics = 'llama.cpp'}, sample.temperature(0.9, L)}",
            "mirostat2_seq": "sample.chain{sample.temperature(0.8, L), sample.mirostat{tau = 5, eta = 0.1, semantics = 'llama.cpp'}}",
            // Two XTC stages, each with its own stream from the seed (as llama.cpp's samplers).
            "xtc_twice_seq": "sample.chain{sample.xtc{probability = 0.6, threshold = 0.05, semantics = 'llama.cpp'}, sample.top_k(50, L), sample.xtc{probability = 0.4, threshold = 0.02, min_keep = 2, semantics = 'llama.cpp'}, sample.temperature(1.1, L)}",
        ]
        var checked = 0
        for s in seqs {
            guard let name = s["name"] as? String, let chain = chains[name] else { continue }
            let spec = s["row"] as? [String: Any] ?? [:]
            func int(_ k: String, _ d: Int) -> Int { spec[k] as? Int ?? d }
            let tokens = (s["tokens"] as? [Int] ?? []).prefix(120)
            let lua = """
                local c, g, toks = \(chain), random.new(\(s["seed"] as? Int ?? 0), {engine = "llama.cpp"}), {}
                for t = 0, \(tokens.count - 1) do
                  local row = make_row(\(int("n", 0)), \(int("seed", 0)) + t, \(int("bits", 10)), \(int("terms", 4)), \(int("scale", 1)), \(int("ninf", 0)), \(int("spikes", 0)))
                  toks[#toks + 1] = c:sample(row, g, {history = toks})
                end
                return table.concat(toks, ",")
                """
            XCTAssertEqual(try h.value(lua), tokens.map(String.init).joined(separator: ","), name)
            checked += 1
        }
        XCTAssertEqual(checked, 5)
    }
}
