import XCTest
import TestSupport

/// A Lua stage first in a chain sees the caller's logits tensor in place (copy-on-write,
/// issue 11 §3): the same results as a copy, and no write of the stage, through any path,
/// ever reaches the caller's logits.
final class SampleLuaStageBorrowTests: XCTestCase {
    /// The benchmark's chain (Benchmarks/sample_chain.lua) with and without an identity
    /// stage first: the same probabilities to the last bit and the same draws, f64 and f32.
    func testIdentityStageFirstChangesNothing() throws {
        let h = try LuaHarness()
        let out = try h.value("""
            local bad = {}
            for _, dtype in ipairs{"f64", "f32"} do
              for _, v in ipairs{1000, 32000} do
                local xs = {}
                for i = 1, v do xs[i] = 2.5 * math.sin(i * 0.7311) * math.cos(i * 0.1234) end
                local logits = tensor.from(xs, {dtype = dtype})
                local before = logits:clone()
                local hist = {}
                for i = 0, 63 do hist[i + 1] = (i * 2654435761) % v end
                local function chain(extra)
                  local s = {sample.penalties{repetition = 1.1, frequency = 0.1, presence = 0.1, last_n = 64},
                             sample.top_k(40), sample.top_p(0.95), sample.min_p(0.05), sample.temperature(0.8)}
                  if extra then table.insert(s, 1, extra) end
                  return sample.chain(s)
                end
                local plain, id = chain(), chain(sample.stage("identity", function(l) return l end))
                local ctx = {history = hist}
                local p, q = plain:probs(logits, ctx), id:probs(logits, ctx)
                if not p:equal(q) then bad[#bad + 1] = dtype .. " " .. v .. " probs differ" end
                local a, b = plain:apply(logits, ctx), id:apply(logits, ctx)
                if not a:equal(b) then bad[#bad + 1] = dtype .. " " .. v .. " apply differs" end
                local g1, g2 = random.new(7), random.new(7)
                for k = 1, 50 do
                  if plain:sample(logits, g1, ctx) ~= id:sample(logits, g2, ctx) then
                    bad[#bad + 1] = dtype .. " " .. v .. " draw " .. k .. " differs"; break
                  end
                end
                local L = {semantics = "llama.cpp"}
                local lp = sample.chain{sample.top_k(40, L), sample.temperature(0.8, L)}
                local lid = sample.chain{sample.stage("identity", function(l) return l end), sample.top_k(40, L), sample.temperature(0.8, L)}
                if not lp:probs(logits):equal(lid:probs(logits)) then bad[#bad + 1] = dtype .. " " .. v .. " llama.cpp probs differ" end
                if not logits:equal(before) then bad[#bad + 1] = dtype .. " " .. v .. " logits changed" end
              end
            end
            return #bad == 0 and "ok" or table.concat(bad, " | ")
            """)
        XCTAssertEqual(out, "ok")
    }

    /// Every way a stage can write (a position in C and in Swift, a negative position, a
    /// range, a stepped range, a mask, i64 positions, through a view it made before or
    /// after the first write, a whole new tensor that is a view of its input) changes the
    /// chain's result and never the caller's tensor. f64 and f32.
    func testStageWritesNeverReachTheCallersLogits() throws {
        let h = try LuaHarness()
        let out = try h.value("""
            local writes = {
              {"scalar", function(l) l[2] = -math.huge end, {1, -1/0, 3, 4, 5, 6}},
              {"scalar read back", function(l) l[2] = 7; l[3] = l[2] + 1 end, {1, 7, 8, 4, 5, 6}},
              {"negative", function(l) l[-1] = 0.25 end, {1, 2, 3, 4, 5, 0.25}},
              {"element view", function(l) l[{3}] = 9 end, {1, 2, 9, 4, 5, 6}},
              {"range", function(l) l[{{2, 3}}] = -1 end, {1, -1, -1, 4, 5, 6}},
              {"stepped range", function(l) l[{{1, 6, 2}}] = 0 end, {0, 2, 0, 4, 0, 6}},
              {"mask", function(l) l[l:gt(4)] = -math.huge end, {1, 2, 3, 4, -1/0, -1/0}},
              {"positions", function(l) l[tensor.from({1, 4}, {dtype = "i64"})] = 0.5 end, {0.5, 2, 3, 0.5, 5, 6}},
              {"view made before", function(l) local v = l[{{4, 6}}]; v[1] = 40; v[{{2, 3}}] = 50 end, {1, 2, 3, 40, 50, 50}},
              {"view after a write", function(l) l[1] = 10; local v = l[{{1, 2}}]; v[2] = 20 end, {10, 20, 3, 4, 5, 6}},
              {"view before, written after", function(l) local v = l[{{5, 6}}]; l[1] = 10; v[1] = 30 end, {10, 2, 3, 4, 30, 6}},
              {"tensor value", function(l) l[{{1, 2}}] = tensor{8, 9} end, {8, 9, 3, 4, 5, 6}},
            }
            local bad, cases = {}, 0
            for _, dtype in ipairs{"f64", "f32"} do
              for _, w in ipairs(writes) do
                local logits = tensor.from({1, 2, 3, 4, 5, 6}, {dtype = dtype})
                local seen
                local c = sample.chain{sample.stage(w[1], function(l) w[2](l); seen = l; return l end)}
                local got = c:apply(logits)
                cases = cases + 1
                for i = 1, 6 do
                  if got[i] ~= w[3][i] then bad[#bad + 1] = dtype .. " " .. w[1] .. ": apply[" .. i .. "] = " .. got[i] end
                  if seen[i] ~= w[3][i] then bad[#bad + 1] = dtype .. " " .. w[1] .. ": the stage's tensor[" .. i .. "] = " .. seen[i] end
                  if logits[i] ~= i then bad[#bad + 1] = dtype .. " " .. w[1] .. ": caller's logits[" .. i .. "] = " .. logits[i] end
                end
                -- after the call too: writing the tensor the stage kept copies, never lends back
                seen[1] = 100
                if logits[1] ~= 1 then bad[#bad + 1] = dtype .. " " .. w[1] .. ": a write after the call reached the logits" end
              end
              -- a stage returning a view of its input, and one returning the caller's own tensor
              local logits = tensor.from({1, 2, 3, 4}, {dtype = dtype})
              local r = sample.chain{sample.stage("view", function(l) local v = l[{{1, 4}}]; v[1] = -5; return v end)}:apply(logits)
              if r[1] ~= -5 or r[2] ~= 2 or logits[1] ~= 1 then bad[#bad + 1] = dtype .. " returned view" end
              r = sample.chain{sample.stage("theirs", function(l) logits[2] = logits[2]; return logits end)}:apply(logits)
              if not r:equal(logits) or logits[2] ~= 2 then bad[#bad + 1] = dtype .. " returned the caller's tensor" end
            end
            return #bad == 0 and ("ok " .. cases) or table.concat(bad, " | ", 1, math.min(#bad, 12))
            """)
        XCTAssertEqual(out, "ok 24")
    }

    /// A stage that keeps its tensor in a global sees each call's row there (the same
    /// tensor on every call), and writes to it after the call or at a later token never
    /// reach any caller's logits; a token after a write is lent again (no stale copy).
    func testKeptTensorAcrossTokens() throws {
        let h = try LuaHarness()
        let out = try h.value("""
            local bad = {}
            local kept, calls = nil, 0
            local st = sample.stage("keep", function(l)
              calls = calls + 1
              if kept and not rawequal(kept, l) then bad[#bad + 1] = "a different tensor at call " .. calls end
              kept = l
              if calls == 2 then l[1] = -math.huge end
              return l
            end)
            local c = sample.chain{st, sample.top_k(2)}
            local a, b, d = tensor{1, 2, 3}, tensor{6, 5, 4}, tensor{0, 9, 8}
            local ra = c:apply(a)
            if kept[1] ~= 1 or kept[3] ~= 3 then bad[#bad + 1] = "token 1 row" end
            a[2] = 20  -- the stage only read: its tensor is a view of the caller's logits
            if kept[2] ~= 20 then bad[#bad + 1] = "token 1 was not lent" end
            a[2] = 2
            kept[3] = 30  -- after the call: a copy of its own
            if a[3] ~= 3 or kept[3] ~= 30 then bad[#bad + 1] = "write after token 1" end
            local rb = c:apply(b)  -- writes id 0
            if rb[1] ~= -math.huge or rb[2] ~= 5 or rb[3] ~= 4 or b[1] ~= 6 then bad[#bad + 1] = "token 2" end
            local rd = c:apply(d)  -- copied (the stage wrote at its last call): sees d, not token 2's row
            if kept[1] ~= 0 or kept[2] ~= 9 or rd[2] ~= 9 or rd[3] ~= 8 then bad[#bad + 1] = "token 3 row" end
            kept[2] = -1
            if d[2] ~= 9 then bad[#bad + 1] = "write after token 3" end
            for _ = 1, 15 do c:apply(d) end  -- 15 calls after the write: lent again
            d[3] = 80
            if kept[3] ~= 80 then bad[#bad + 1] = "not lent again after 15 calls" end
            d[3] = 8
            if a[1] ~= 1 or a[2] ~= 2 or a[3] ~= 3 or b[1] ~= 6 then bad[#bad + 1] = "earlier logits changed" end
            -- a Lua array and a non-contiguous tensor are copied (nothing to lend)
            local m = tensor{{1, 7}, {2, 8}, {3, 9}}
            local col = m[{{}, 2}]
            local w = sample.chain{sample.stage("w", function(l) l[1] = 0 return l end)}
            local rc = w:apply(col)
            if rc[1] ~= 0 or rc[2] ~= 8 or m[1][2] ~= 7 then bad[#bad + 1] = "strided input" end
            local arr = {4, 5}
            local ra2 = w:apply(arr)
            if ra2[1] ~= 0 or arr[1] ~= 4 then bad[#bad + 1] = "Lua array" end
            -- rows of a [T, V] tensor (replay_logits) are lent too
            local rows = tensor{{1, 5, 2}, {7, 1, 2}}
            local ids = sample.replay_logits(rows, sample.chain{sample.stage("ban", function(l) l[2] = -math.huge return l end), sample.greedy()}, random.new(0))
            if ids[1] ~= 2 or ids[2] ~= 0 or rows[1][2] ~= 5 then bad[#bad + 1] = "replay_logits" end
            return #bad == 0 and "ok" or table.concat(bad, " | ")
            """)
        XCTAssertEqual(out, "ok")
    }

    /// A NaN the stage writes into the lent row is still the stage's error (first write
    /// and a later one), and the caller's row is untouched; a NaN in the caller's row is
    /// refused before the stage runs.
    func testNaNWrittenIntoTheLentRow() throws {
        let h = try LuaHarness()
        try h.run("""
            logits = tensor{1, 2, 3}
            ran = false
            c = sample.chain{sample.stage("nan", function(l) ran = true; l[1] = 5; l[2] = 0/0 return l end), sample.top_k(2)}
            """)
        XCTAssertEqual(h.bareError("c:apply(logits)"), "sample.chain:apply: stage 1 (nan) wrote NaN at id 1; a stage must leave numbers or -inf (removed)")
        XCTAssertEqual(try h.value("logits[1] == 1 and logits[2] == 2 and logits[3] == 3"), "true")
        try h.run("ran = false")
        XCTAssertEqual(h.bareError("c:apply(tensor{1, 0/0, 3})"), "sample.chain:apply: logits contain NaN at id 1")
        XCTAssertEqual(try h.value("ran"), "false")
    }
}
