import XCTest
import TestSupport

/// `data.logprobs` on real OpenAI chat responses and hand-made completions/vLLM layouts.
final class DataLogprobsTests: XCTestCase {
    let dir = exampleData("openai-logprobs-radicalbit/")

    func testRealChatResponses() throws {
        let h = try LuaHarness()
        try h.run("rs = data.json('\(dir)text-generation.json')")
        XCTAssertEqual(try h.value("#rs"), "7")
        try h.run("lp = data.logprobs(rs[1])")
        XCTAssertEqual(try h.value("#lp.tokens, lp.logprobs:numel(), #lp.top_logprobs, #lp.top_logprobs[1]"), "475\t475\t475\t0")
        XCTAssertEqual(try h.value("lp.tokens[1], lp.tokens[2], lp.logprobs[1], lp.logprobs[4]"), "In\t the\t-0.039005477\t0.0")
        XCTAssertEqual(try h.value("local n = {} for i = 2, 7 do n[#n+1] = #data.logprobs(rs[i]).tokens end return table.concat(n, ',')"), "31,31,31,31,31,31")
        // The same from the choice and from the logprobs object.
        XCTAssertEqual(try h.value("#data.logprobs(rs[1].choices[1]).tokens, #data.logprobs(rs[1].choices[1].logprobs).tokens"), "475\t475")
        XCTAssertEqual(try h.value("local n = {} for _, r in ipairs(data.json('\(dir)completion-metrics_one.json')) do n[#n+1] = #data.logprobs(r).tokens end return table.concat(n, ',')"), "11,28,16")
        XCTAssertEqual(try h.value("data.logprobs(data.json('\(dir)generative_response.json')[1]).tokens[1]"), "Sky")
    }

    func testChatTopLogprobsAreSortedDescending() throws {
        let h = try LuaHarness()
        try h.run("""
            lp = data.logprobs({logprobs = {content = {
              {token = "Yes", logprob = -0.1, top_logprobs = {{token = "No", logprob = -2.5}, {token = "Yes", logprob = -0.1}, {token = "Maybe", logprob = -4}}},
              {token = ".", logprob = -0.01, top_logprobs = {}}}}})
            """)
        XCTAssertEqual(try h.value("lp.top_logprobs[1][1].token, lp.top_logprobs[1][2].token, lp.top_logprobs[1][3].logprob, #lp.top_logprobs[2]"), "Yes\tNo\t-4\t0")
    }

    func testCompletionsLayout() throws {
        let h = try LuaHarness()
        try h.run(#"""
            resp = data.decode([==[{"choices": [{"text": " Paris.", "index": 0, "logprobs": {
              "tokens": [" Paris", "."], "token_logprobs": [-0.05, -1.2],
              "top_logprobs": [{" Paris": -0.05, " Lyon": -3.2, " London": -4.0}, {".": -1.2, "!": -0.9}],
              "text_offset": [0, 6]}}]}]==])
            lp = data.logprobs(resp)
            """#)
        XCTAssertEqual(try h.value("lp.tokens[1], lp.tokens[2], lp.logprobs[2]"), " Paris\t.\t-1.2")
        XCTAssertEqual(try h.value("lp.top_logprobs[1][1].token, lp.top_logprobs[1][3].token, lp.top_logprobs[2][1].token, lp.top_logprobs[2][1].logprob"),
                       " Paris\t London\t!\t-0.9")
        // echo: the first prompt token has a null logprob and top_logprobs entry.
        try h.run(#"e = data.logprobs(data.decode('{"tokens": ["A", "b"], "token_logprobs": [null, -0.5], "top_logprobs": [null, {"b": -0.5}]}'))"#)
        XCTAssertEqual(try h.value("e.logprobs[1] ~= e.logprobs[1], e.logprobs[2], #e.top_logprobs[1], #e.top_logprobs[2]"), "true\t-0.5\t0\t1")
    }

    func testVLLMLayouts() throws {
        let h = try LuaHarness()
        // SampleLogprobs with token ids and Logprob objects, and the output's token_ids.
        try h.run("""
            out = {token_ids = {791, 13}, logprobs = {
              {[791] = {logprob = -0.2, rank = 1, decoded_token = "The"}, [32] = {logprob = -1.9, rank = 2, decoded_token = "A"}},
              {[13] = {logprob = -2.0, rank = 2, decoded_token = "."}, [0] = {logprob = -0.3, rank = 1, decoded_token = "!"}}}}
            lp = data.logprobs(out)
            """)
        XCTAssertEqual(try h.value("lp.tokens[1], lp.tokens[2], lp.logprobs[1], lp.logprobs[2]"), "The\t.\t-0.2\t-2.0")
        XCTAssertEqual(try h.value("lp.top_logprobs[2][1].token, lp.top_logprobs[2][2].token, #lp.top_logprobs[1]"), "!\t.\t2")
        // The same output after Python's json.dump (json.dumps(out) of the dict above): token-id
        // keys become strings; the ids still find their entries.
        try h.run(#"""
            j = data.decode('{"token_ids": [791, 13], "logprobs": [{"791": {"logprob": -0.2, "rank": 1, "decoded_token": "The"}, "32": {"logprob": -1.9, "rank": 2, "decoded_token": "A"}}, {"13": {"logprob": -2.0, "rank": 2, "decoded_token": "."}, "0": {"logprob": -0.3, "rank": 1, "decoded_token": "!"}}]}')
            lj = data.logprobs(j)
            """#)
        XCTAssertEqual(try h.value("lj.tokens[1], lj.tokens[2], lj.logprobs[1], lj.logprobs[2], lj.top_logprobs[2][1].token"), "The\t.\t-0.2\t-2.0\t!")
        XCTAssertEqual(try h.value("data.logprobs({token_ids = {7.0}, logprobs = {{['7'] = -0.5, ['8'] = -1}}}).logprobs[1]"), "-0.5")
        // A whole RequestOutput (vLLM's LLM.generate, json.dump'ed): its first output's, as a
        // response's first choice (it was "unrecognised layout").
        try h.run(#"""
            ro = data.logprobs(data.decode('{"request_id": "0", "prompt_token_ids": [1], "prompt_logprobs": null, "outputs": [' ..
              '{"index": 0, "text": "The.", "token_ids": [791, 13], "cumulative_logprob": -2.2, "logprobs": [{"791": {"logprob": -0.2, "rank": 1, "decoded_token": "The"}, "32": {"logprob": -1.9, "rank": 2, "decoded_token": "A"}}, {"13": {"logprob": -2.0, "rank": 2, "decoded_token": "."}, "0": {"logprob": -0.3, "rank": 1, "decoded_token": "!"}}]},' ..
              '{"index": 1, "text": "!", "token_ids": [0], "logprobs": [{"0": -0.3}]}], "finished": true}'))
            """#)
        XCTAssertEqual(try h.value("ro.tokens[1], ro.tokens[2], ro.logprobs[1], ro.logprobs[2], #ro.top_logprobs[1]"), "The\t.\t-0.2\t-2.0\t2")
        XCTAssertEqual(withoutPosition(h.error("data.logprobs({token_ids = {9}, logprobs = {{['7'] = -0.5, ['8'] = -1}}})")),
                       "data.logprobs: position 1 has no entry for token id 9")
        // vLLM's prompt_logprobs (list[Optional[dict[int, Logprob]]], the first None) after
        // json.dump, with prompt_token_ids: it was "position 1 is a userdata"; Python's
        // json.loads gives None there, the token id is all that is known of the first token.
        try h.run(#"""
            p = data.logprobs(data.decode('{"token_ids": [128000, 9906], "logprobs": [null, {"9906": {"logprob": -7.5, "rank": 3, "decoded_token": "Hello"}, "40": {"logprob": -1.5, "rank": 1, "decoded_token": "I"}}]}'))
            """#)
        XCTAssertEqual(try h.value("p.tokens[1], p.tokens[2], p.logprobs[1] ~= p.logprobs[1], p.logprobs[2], #p.top_logprobs[1], p.top_logprobs[2][1].token"), "128000\tHello\ttrue\t-7.5\t0\tI")
        XCTAssertEqual(withoutPosition(h.error("data.logprobs({{a = -1}, data.null})")), "data.logprobs: position 2 is a data.null, not a table")
        // One entry per position (logprobs = 0): the token is that entry; plain numbers too.
        XCTAssertEqual(try h.value("local l = data.logprobs({{hello = -0.5}, {[' world'] = -1.5}}) return l.tokens[2], l.logprobs[1]"), " world\t-0.5")
        XCTAssertEqual(withoutPosition(h.error("data.logprobs({{a = -1, b = -2}})")),
                       "data.logprobs: position 1 has 2 entries: pass {token_ids =, logprobs =} so the sampled token is known")
    }

    func testBadInput() throws {
        let h = try LuaHarness()
        XCTAssertEqual(withoutPosition(h.error("data.logprobs(3)")), "data.logprobs: table expected, got number")
        XCTAssertEqual(withoutPosition(h.error("data.logprobs({choices = {}})")), "data.logprobs: the response has no choices")
        XCTAssertEqual(withoutPosition(h.error("data.logprobs({choices = {{logprobs = data.null}}})")),
                       "data.logprobs: the choice has logprobs = null (request them with logprobs = true)")
        XCTAssertEqual(withoutPosition(h.error("data.logprobs({foo = 1})")),
                       "data.logprobs: unrecognised layout: expected a response (choices or vLLM's outputs), a choice (logprobs), a chat logprobs object (content), a completions one (tokens, token_logprobs) or a vLLM list")
        XCTAssertEqual(try h.value("#data.logprobs({}).tokens"), "0")
    }

    /// vLLM's OpenAI server with return_token_ids (vllm/entrypoints/openai/protocol.py,
    /// CompletionResponseChoice / ChatCompletionResponseChoice.token_ids) puts `token_ids`
    /// beside the OpenAI logprobs object: it was taken for vLLM's offline layout and gave no
    /// tokens at all. The expected values are the logprobs object's own (Python: json.loads).
    func testTokenIdsBesideAnOpenAILogprobsObject() throws {
        let h = try LuaHarness()
        try h.run(#"""
            lp = data.logprobs(data.decode('{"text":"ab","token_ids":[64,65],"logprobs":{"tokens":["a","b"],"token_logprobs":[-0.5,-1.5],"top_logprobs":[{"a":-0.5,"c":-2},{"b":-1.5}],"text_offset":[0,1]}}'))
            chat = data.logprobs(data.decode('{"choices":[{"message":{"content":"ab"},"token_ids":[64,65],"logprobs":{"content":[{"token":"a","logprob":-0.5,"top_logprobs":[]},{"token":"b","logprob":-1.5,"top_logprobs":[]}]}}]}'))
            """#)
        XCTAssertEqual(try h.value("#lp.tokens, lp.tokens[2], lp.logprobs[2], lp.top_logprobs[1][2].token"), "2\tb\t-1.5\tc")
        XCTAssertEqual(try h.value("#chat.tokens, chat.tokens[1], chat.logprobs[1]"), "2\ta\t-0.5")
    }

    /// A vLLM position keyed by integer token ids (vLLM's own dict[int, Logprob]) whose ids
    /// are 1..n has a Lua length: it was read as a chat list, so its top entries had no token.
    func testIntegerTokenIdKeysOneToN() throws {
        let h = try LuaHarness()
        try h.run("lp = data.logprobs({token_ids = {2}, logprobs = {{[1] = {logprob = -1.0, decoded_token = 'x'}, [2] = {logprob = -0.25, decoded_token = 'y'}}}})")
        XCTAssertEqual(try h.value("lp.tokens[1], lp.logprobs[1], lp.top_logprobs[1][1].token, lp.top_logprobs[1][2].token"), "y\t-0.25\ty\tx")
    }
}
