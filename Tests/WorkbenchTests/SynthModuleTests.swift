import XCTest
import Foundation
import TestSupport
@testable import Workbench

/// synth.dedupe / similarity / mix / coverage and data.write_chat at the Lua level, and the
/// pipeline with the real teacher (SmolLM2 behind llama.cpp's server).
final class SynthModuleTests: XCTestCase {
    func testDedupeKeepsTheFirstOfEachClusterAndNamesIt() throws {
        let h = try LuaHarness()
        try h.run("""
            base = 'the largest moon of saturn is titan and it has a thick atmosphere made mostly of nitrogen gas'
            recs = {{question = base}, {question = 'an unrelated question about arithmetic and apples in boxes'},
                    {question = base .. ' today'}, {question = base}, {question = 'another unrelated one about haiku'}}
            kept, dropped = synth.dedupe(recs, {threshold = 0.7})
            """)
        XCTAssertEqual(try h.value("#kept, #dropped"), "3\t2")
        XCTAssertEqual(try h.value("kept[1] == recs[1], kept[2] == recs[2], kept[3] == recs[5]"), "true\ttrue\ttrue")
        XCTAssertEqual(try h.value("dropped[1].index, dropped[1].kept_index, dropped[1].kept == recs[1], dropped[2].index, dropped[2].similarity"), "3\t1\ttrue\t4\t1.0")
        XCTAssertEqual(try h.value("#synth.dedupe({'a b c d e f', 'a b c d e f'}, {shingle = 2})"), "1", "strings work too")
        XCTAssertTrue(h.error("synth.dedupe({{q = 1}})")?.contains("records[1].question is not a string") ?? false)
        XCTAssertTrue(h.error("synth.dedupe({}, {treshold = 1})")?.contains("unknown option 'treshold'") ?? false)
        XCTAssertTrue(h.error("synth.dedupe({'a'}, {threshold = 2})")?.contains("threshold must be in (0, 1]") ?? false)
        XCTAssertEqual(try h.value("select(2, synth.similarity('a b c d', 'a b c e', {shingle = 1}))"), "0.6")
    }

    func testMixCountsFollowAlphaAndTotal() throws {
        let h = try LuaHarness()
        try h.run("""
            skills, replay = {}, {}
            for i = 1, 30 do skills[i] = {src = 's', i = i} end
            for i = 1, 100 do replay[i] = {src = 'r', i = i} end
            function count(m) local s, r, seen = 0, 0, {} for _, x in ipairs(m) do if x.src == 's' then s = s + 1 else r = r + 1 end seen[x] = (seen[x] or 0) + 1 end local maxrep = 0 for _, c in pairs(seen) do maxrep = math.max(maxrep, c) end return s, r, maxrep end
            """)
        XCTAssertEqual(try h.value("count(synth.mix{skills = skills, replay = replay, alpha = 0.3, total = 50})"), "15\t35\t1")
        XCTAssertEqual(try h.value("count(synth.mix{skills = skills, replay = replay, alpha = 0.25, total = 10})"), "3\t7\t1", "round(2.5) = 3")
        XCTAssertEqual(try h.value("count(synth.mix{skills = skills, replay = replay, alpha = 0.5})"), "30\t30\t1", "total defaults to #skills / alpha")
        XCTAssertEqual(try h.value("count(synth.mix{skills = skills, replay = replay, alpha = 0.9, total = 100})"), "90\t10\t3",
                       "a pool smaller than its share is used whole, then drawn again")
        XCTAssertEqual(try h.value("select(2, synth.mix{skills = skills, replay = replay, alpha = 1, total = 7}).replay"), "0")
        try h.run("a = synth.mix{skills = skills, replay = replay, total = 20, seed = 5}; b = synth.mix{skills = skills, replay = replay, total = 20, seed = 5}; c = synth.mix{skills = skills, replay = replay, total = 20, seed = 6}")
        XCTAssertEqual(try h.value("(function() for i = 1, 20 do if a[i] ~= b[i] then return false end end return true end)()"), "true")
        XCTAssertEqual(try h.value("(function() for i = 1, 20 do if a[i] ~= c[i] then return true end end return false end)()"), "true")
        XCTAssertTrue(h.error("synth.mix{skills = skills, replay = {}, alpha = 0.5, total = 10}")?.contains("replay is empty") ?? false)
        XCTAssertTrue(h.error("synth.mix{skills = skills, alpha = 2}")?.contains("alpha must be in [0, 1]") ?? false)
    }

    func testCoverageCountsRecordsPerLeaf() throws {
        let h = try LuaHarness()
        try h.run("leaves = synth.taxonomy('\(repositoryRoot)/Examples/taxonomy')")
        try h.run("c = synth.coverage(leaves, {{leaf = 'knowledge/astronomy/moons'}, {leaf = 'knowledge/astronomy/moons'}, {leaf = 'nowhere'}})")
        XCTAssertEqual(try h.value("c['knowledge/astronomy/moons'].generated, c['knowledge/astronomy/moons'].seeds, c[1].generated, c.unknown"), "2\t15\t0\t1")
        XCTAssertEqual(try h.value("synth.coverage(leaves)[2].generated"), "0")
    }

    func testWriteChatWritesTheFormatsTrainersRead() throws {
        let path = NSTemporaryDirectory() + "chat-\(UUID().uuidString).jsonl"
        defer { try? FileManager.default.removeItem(atPath: path) }
        let h = try LuaHarness()
        try h.run("recs = {{question = 'q1', answer = 'a1', leaf = 'x'}, {messages = {{role = 'user', content = 'u'}, {role = 'assistant', content = 'v'}}}}")
        XCTAssertEqual(try h.value("data.write_chat('\(path)', recs)"), "2")
        let lines = try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n").map(String.init)
        XCTAssertEqual(lines[0], #"{"messages":[{"content":"q1","role":"user"},{"content":"a1","role":"assistant"}]}"#)
        try h.run("data.write_chat('\(path)', recs, {format = 'ilab', system = 'S'})")
        let ilab = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")[0].utf8)) as? [String: Any])
        XCTAssertEqual((ilab["messages"] as? [[String: String]])?.map { $0["role"] ?? "" }, ["system", "user", "assistant"])
        XCTAssertEqual(ilab["metadata"] as? String, #"{"leaf":"x","source":"moonlab"}"#)
        try h.run("data.write_chat('\(path)', recs, {format = 'ilab_legacy', system = 'S'})")
        XCTAssertEqual(try String(contentsOfFile: path, encoding: .utf8).split(separator: "\n")[1], #"{"assistant":"v","system":"S","user":"u"}"#)
        XCTAssertTrue(h.error("data.write_chat('\(path)', {{x = 1}})")?.contains("has no messages and no question/answer") ?? false)
        XCTAssertTrue(h.error("data.write_chat('\(path)', recs, {format = 'alpaca'})")?.contains("format must be") ?? false)
    }

    /// The whole pipeline with the real teacher. SmolLM2 writes poor data and its judge says
    /// no to most of it: the plumbing is what is checked (every candidate is accounted for,
    /// every step's input and output are kept, a function takes the faithfulness step's place).
    func testThePipelineRunsWithTheRealTeacher() throws {
        guard let url = RealServers.llm else { throw XCTSkip("MOONLAB_LLM_URL not set (Scripts/servers.sh start)") }
        let h = try LuaHarness()
        try h.run("llm = model.openai{base_url = '\(url)', model = '\(RealServers.llmModel)', concurrency = 2}")
        try h.run("leaves = synth.taxonomy('\(repositoryRoot)/Examples/taxonomy')")
        try h.run("""
            -- a template replaced from Lua: whatever SmolLM2 writes becomes one question
            records, report = synth.generate{leaves = {leaves[3]}, teacher = llm, per_leaf = 2, rounds = 1, max_tokens = 96,
              judge = false, faithfulness = function(r) return #r.answer > 0 end, filter = function(s) return #s.completion end,
              templates = {parse_questions = function(text) return {"Q: " .. text:sub(1, 200)} end}}
            lr = report['foundational_skills/reasoning/arithmetic']
            """)
        XCTAssertEqual(try h.value("#lr.steps, lr.steps[1].name, lr.steps[5].name"), "5\tquestions\tfilter")
        XCTAssertEqual(try h.value("#lr.steps[1].log >= 1, type(lr.steps[1].log[1].input), type(lr.steps[1].log[1].output)"), "true\tstring\tstring")
        XCTAssertEqual(try h.value("lr.kept == #records, #records <= 2, lr.steps[5].generated == lr.kept + lr.steps[5].dropped"), "true\ttrue\ttrue")
        if try h.value("#records") != "0" {
            XCTAssertEqual(try h.value("records[1].leaf, records[1].messages[1].role, records[1].messages[2].content == records[1].answer"),
                           "foundational_skills/reasoning/arithmetic\tuser\ttrue")
        }
        // every question generated is either kept or dropped with a reason
        XCTAssertEqual(try h.value("lr.steps[1].generated == lr.kept + #lr.dropped - (function() local n = 0 for _, d in ipairs(lr.dropped) do if d.reason:find('^error') then n = n + 1 end end return n end)()"), "true")
        // the teacher as judge on a grounded knowledge leaf: every step is reported
        try h.run("r2, rep2 = synth.generate{leaves = {leaves[4]}, teacher = llm, per_leaf = 1, rounds = 1, max_tokens = 64, seed = 3}")
        XCTAssertEqual(try h.value("rep2.total.kept == #r2, rep2.leaves[1].steps[2].name"), "true\tjudge_questions")
        XCTAssertEqual(try h.value("rep2.leaves[1].steps[2].generated == rep2.leaves[1].steps[1].generated - rep2.leaves[1].steps[1].dropped"), "true",
                       "every candidate question went to the judge")
        XCTAssertTrue(h.error("synth.generate{leaves = leaves, teacher = llm, per_leef = 1}")?.contains("unknown option 'per_leef'") ?? false)
    }
}
