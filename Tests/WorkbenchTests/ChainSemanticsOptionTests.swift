import XCTest
import TestSupport

/// `sample.chain(stages, {semantics = ...})` (issue 11 §5): the chain's option sets the
/// semantics of every built-in stage made without its own; before, the second argument
/// was ignored and the chain ran transformers' rules. And sample.best_of_n with rewards
/// that return nil (TRL's None) and conversational candidates (issue 11 §4).
final class ChainSemanticsOptionTests: XCTestCase {
    /// llama.cpp 0c1e570 (llama-cpp-python 0.3.36's low-level API): top_k(3), top_p(0.9, 1),
    /// temp(0.7), dist(seed) on the float32 row {2, 1, 1, 0.1, -1, 0.5, 1.9, 0.3} keeps ids
    /// 0, 6, 1 (of the tied 1 and 2, std::partial_sort keeps 1) with p 0.47471460700035095,
    /// 0.41151952743530273, 0.11376584321260452 and draws 1, 0, 0, 6, 6 for seeds 1, 2, 3,
    /// 42, 1234. Transformers semantics keeps the tie (4 tokens) and draws 2 for seed 1.
    func testChainSemanticsOptionGivesLlamaCppSamplers() throws {
        let h = try LuaHarness()
        try h.run("""
            x = {2, 1, 1, 0.1, -1, 0.5, 1.9, 0.3}
            function stages() return {sample.top_k(3), sample.top_p(0.9), sample.temperature(0.7)} end
            c = sample.chain(stages(), {semantics = "llama.cpp"})
            hf = sample.chain(stages())
            draws = {}
            for i, seed in ipairs{1, 2, 3, 42, 1234} do
              draws[i] = c:sample(x, random.new(seed, {engine = "llama.cpp"}))
            end
            p = c:probs(x)
            """)
        XCTAssertEqual(try h.value("table.concat(draws, ' ')"), "1 0 0 6 6")
        let want: [(Int, Double)] = [(1, 0.47471460700035095), (7, 0.41151952743530273), (2, 0.11376584321260452)]
        for (pos, v) in want {
            let got = try XCTUnwrap(Double(try h.value("p[\(pos)]")))
            XCTAssertEqual(got, v, accuracy: 4 * Double(Float(v).ulp), "p[\(pos)]")
        }
        XCTAssertEqual(try h.value("p[3]"), "0.0")
        XCTAssertEqual(try h.value("hf:sample(x, random.new(1, {engine = 'llama.cpp'}))"), "2")
        XCTAssertEqual(try h.value("tostring(c)"), "sample.chain{sample.top_k(3, llama.cpp), sample.top_p(0.9, llama.cpp), sample.temperature(0.7, llama.cpp)}")
        // A stage that names its semantics keeps it; the option can also say transformers.
        XCTAssertEqual(try h.value("tostring(sample.chain({sample.top_k(3, {semantics = 'transformers'}), sample.greedy()}, {semantics = 'llama.cpp'}))"),
                       "sample.chain{sample.top_k(3), sample.greedy(llama.cpp)}")
        XCTAssertEqual(try h.value("tostring(sample.chain({sample.top_k(3, {semantics = 'llama.cpp'}), sample.min_p(0.1)}, {semantics = 'transformers'}))"),
                       "sample.chain{sample.top_k(3, llama.cpp), sample.min_p(0.1)}")
        let e = try XCTUnwrap(h.error("sample.chain({sample.top_k(3)}, {semantic = 'llama.cpp'})"))
        XCTAssertTrue(e.contains("unknown option 'semantic'"), e)
    }

    /// A reward returning nil does not apply (TRL's None: NaN), so it never wins, and a
    /// registered reward gets a conversational candidate as its completion.
    func testBestOfNWithNilAndConversationalCandidates() throws {
        let h = try LuaHarness()
        try h.run("""
            reward.define("maybe", function(s) local t = reward.text(s) if t:find("x") then return nil end return #t end)
            best, i, scores = sample.best_of_n({"aaa", "xxxxxxx", "bb"}, "maybe")
            chat = {{{role = "assistant", content = "aaaa"}}, {{role = "assistant", content = "bbbbbbbb"}}}
            cbest, ci = sample.best_of_n(chat, reward.length{target = 8})
            """)
        XCTAssertEqual(try h.value("best .. ' ' .. i .. ' ' .. tostring(scores[2] ~= scores[2])"), "aaa 1 true")
        XCTAssertEqual(try h.value("ci .. ' ' .. tostring(cbest == chat[2])"), "2 true")
        XCTAssertEqual(try h.value("(select(2, sample.best_of_n({'a', 'x'}, function(s) if s == 'a' then return nil end return 1 end)))"), "2")
        let e = try XCTUnwrap(h.error("sample.best_of_n({'x'}, 'maybe')"))
        XCTAssertTrue(e.contains("every score is NaN"), e)
    }
}

/// chain:logprob of a kept token whose probability underflows in double: its finite
/// log-probability, as torch's log_softmax of the processed logits gives it (it was -inf).
final class ChainLogprobUnderflowTests: XCTestCase {
    /// transformers 5.25.0 / torch 2.15.0, float64: TemperatureLogitsWarper(0.7) then
    /// TopKLogitsWarper(3) on [0.3, -1.7, 2.2, 900.5], then torch.log_softmax: id 0
    /// -1286.0000000000002, id 2 -1283.2857142857144 (id 1 removed); the raw log_softmax of
    /// id 0 is -900.2.
    func testKeptTokenWithUnderflowingProbability() throws {
        let h = try LuaHarness()
        try h.run("""
            c = sample.chain{sample.temperature(0.7), sample.top_k(3)}
            p0, r0 = c:logprob({0.3, -1.7, 2.2, 900.5}, 0)
            p1 = c:logprob({0.3, -1.7, 2.2, 900.5}, 1)
            p2 = c:logprob(tensor{0.3, -1.7, 2.2, 900.5}, 2)
            d = c:distribution({0.3, -1.7, 2.2, 900.5})
            """)
        XCTAssertEqual(try XCTUnwrap(Double(try h.value("string.format('%.17g', p0)"))), -1286.0000000000002, accuracy: 1e-12 * 1286)
        XCTAssertEqual(try XCTUnwrap(Double(try h.value("string.format('%.17g', p2)"))), -1283.2857142857144, accuracy: 1e-12 * 1283)
        XCTAssertEqual(try XCTUnwrap(Double(try h.value("string.format('%.17g', r0)"))), -900.2, accuracy: 1e-12 * 900)
        XCTAssertEqual(try h.value("p1 == -math.huge"), "true")
        XCTAssertEqual(try h.value("d[1] .. ' ' .. d[3] .. ' ' .. d[4]"), "0.0 0.0 1.0")  // probabilities stay probabilities
        // temperature alone: log_softmax([1000, 2000, 3000])[0] = -2000
        XCTAssertEqual(try h.value("(sample.chain{sample.temperature(0.001)}:logprob({1, 2, 3}, 0))"), "-2000.0")
    }
}
