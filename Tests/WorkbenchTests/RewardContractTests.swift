import XCTest
import TestSupport

/// The parts of the reward contract that trainers' conventions fix (issue 11 §4, issue 10
/// §7): nil means "does not apply" (TRL's None), TRL's conversational records, the `state`
/// argument, a malformed dataset line reported as its row, and error messages without
/// moonlab's internal chunk names.
final class RewardContractTests: XCTestCase {
    func testNilMeansDoesNotApplyAtOneAndTwoWorkers() throws {
        let h = try LuaHarness()
        try h.run("""
            reward.define("maybe", function(s) if s.i % 3 == 0 then return nil end return s.i end)
            rows = {}
            for i = 1, 9 do rows[i] = {i = i} end
            """)
        for workers in [1, 2] {
            try h.run("scores, errors = reward.score('maybe', rows, {workers = \(workers), progress = false})")
            XCTAssertEqual(try h.value("#errors"), "0", "workers \(workers)")
            XCTAssertEqual(try h.value("tostring(scores[3] ~= scores[3]) .. ' ' .. scores[4]"), "true 4.0", "workers \(workers)")
        }
        // In a combination a part returning nil adds nothing (TRL's nansum); all nil is nil.
        try h.run(#"c = reward.combine{{"maybe", 2}, {function(s) return 1 end, 1}}"#)
        XCTAssertEqual(try h.value("c({i = 3})"), "1")
        XCTAssertEqual(try h.value("c({i = 2})"), "5")
        XCTAssertEqual(try h.value(#"reward.combine{{"maybe", 1}}({i = 6}) == nil"#), "true")
    }

    /// With workers, each row's math.random and random.default are seeded from the seed and
    /// the row number: the same scores with 2 or 3 workers and run after run, a different draw
    /// per row. (Every worker started from the same seed, so which worker took a row decided
    /// its draw, and rows on different workers drew the same numbers.)
    func testRandomRewardsDoNotDependOnTheWorkers() throws {
        let h = try LuaHarness()
        try h.run("""
            reward.define("rnd", function(s) return math.random() + 10 * random.new():uniform() end)
            rows = {}
            for i = 1, 40 do rows[i] = {i = i} end
            a = reward.score("rnd", rows, {workers = 2, progress = false})
            b = reward.score("rnd", rows, {workers = 3, progress = false})
            c = reward.score("rnd", rows, {workers = 2, progress = false})
            seen, distinct = {}, 0
            for i = 1, 40 do if not seen[a[i]] then seen[a[i]] = true; distinct = distinct + 1 end end
            """)
        XCTAssertEqual(try h.value("(a - b):abs():max()"), "0.0")
        XCTAssertEqual(try h.value("(a - c):abs():max()"), "0.0")
        XCTAssertEqual(try h.value("distinct"), "40")
    }

    func testConversationalRecordsInEveryBuiltin() throws {
        let h = try LuaHarness()
        try h.run("""
            text = "<think>2 plus 2 is 4 because we add</think> <answer>\\\\boxed{4}</answer>"
            plain = {prompt = "What is 2+2?", completion = text, answer = "4"}
            chat = {prompt = {{role = "user", content = "What is 2+2?"}},
                    completion = {{role = "assistant", content = text}}, answer = "4"}
            parts = {completion = {{role = "assistant", content = {{type = "text", text = text}}}}, answer = "4"}
            """)
        for name in ["format", "length", "accuracy", "repetition"] {
            let plain = try h.value("reward.get('\(name)')(plain)")
            XCTAssertEqual(try h.value("reward.get('\(name)')(chat)"), plain, name)
            XCTAssertEqual(try h.value("reward.get('\(name)')(parts)"), plain, name)
        }
        XCTAssertEqual(try h.value("reward.get('format')(chat)"), "1")
        XCTAssertEqual(try h.value("reward.get('accuracy')(chat)"), "1")
        XCTAssertEqual(try h.value("reward.text(chat) == text"), "true")
        XCTAssertEqual(try h.value("reward.text(chat, 'prompt')"), "What is 2+2?")
        let e = try XCTUnwrap(h.error("reward.get('format')({completion = 5})"))
        XCTAssertTrue(e.hasSuffix("sample field 'completion' is a number, expected a string or a list of {role, content} messages"), e)
        XCTAssertFalse(e.contains("reward:"), e)
    }

    /// reward.length{unit = "words"} counts words as Python 3.11's len(text.split()) does
    /// (str.isspace: U+001C..U+001F, U+0085, U+00A0, U+1680, U+2000..U+200A, U+2028/9,
    /// U+202F, U+205F, U+3000; not U+200B). Counts from Python 3.11.7.
    func testLengthWordsSplitAsPython() throws {
        let h = try LuaHarness()
        let cases: [(String, Int)] = [
            (#"a\u{1c}b c\u{a0}d e\u{2028}f"#, 6), (#"one\u{1f}two\u{1d}three"#, 3),
            (#"\u{3000}lead trail\u{205f}"#, 2), (#"x\u{85}y\u{1680}z\u{2009}w\u{202f}v"#, 5),
            (#"no-break\u{200b}space"#, 1), (#"tab\tnl\nvt\vff\fcr\r end"#, 6), ("", 0),
        ]
        for (text, words) in cases {
            // a target of 1000 words, linear: 1 - |n - 1000| / 1000 gives n back exactly
            let v = try h.value("reward.length{unit = 'words', target = 1000}{completion = \"\(text)\"}")
            XCTAssertEqual(try XCTUnwrap(Double(v)), 1 - Double(abs(words - 1000)) / 1000, accuracy: 1e-12, text)
        }
    }

    func testStateReachesRewardsAndDetectors() throws {
        let h = try LuaHarness()
        try h.run("""
            reward.define("curriculum", function(s, state) return (state.step or -1) + s.i end)
            rows = {{i = 1}, {i = 2}, {i = 3}}
            """)
        for workers in [1, 2] {
            try h.run("scores = reward.score('curriculum', rows, {workers = \(workers), state = {step = 100}, progress = false})")
            XCTAssertEqual(try h.value("scores[1] .. ' ' .. scores[3]"), "101.0 103.0", "workers \(workers)")
            try h.run("scores = reward.score('curriculum', rows, {workers = \(workers), progress = false})")
            XCTAssertEqual(try h.value("scores[1]"), "0.0", "an empty state table when none is given")
        }
        XCTAssertEqual(try h.value(#"reward.get("curriculum")({i = 1}, {step = 5})"#), "6")
        XCTAssertEqual(try h.value(#"reward.combine{{"curriculum", 2}}({i = 1}, {step = 5})"#), "12")
        XCTAssertTrue(h.error("reward.score('curriculum', rows, {state = 3})")?.contains("option 'state' must be a table") ?? false)
    }

    func testMalformedDatasetLineIsThatRowsError() throws {
        let dir = NSTemporaryDirectory() + "moonlab-contract-\(getpid())"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/rows.jsonl"
        try "{\"completion\": \"a\"}\n{bad\n{\"completion\": \"bbb\"}\n".write(toFile: path, atomically: true, encoding: .utf8)
        let csv = dir + "/rows.csv"
        try "completion,id\na,1\nb\nccc,3\n".write(toFile: csv, atomically: true, encoding: .utf8)
        let h = try LuaHarness()
        try h.run(#"reward.define("n", function(s) return #s.completion end)"#)
        for workers in [1, 2] {
            try h.run("scores, errors = reward.score('n', data.jsonl('\(path)'), {workers = \(workers), progress = false})")
            XCTAssertEqual(try h.value("#scores .. ' ' .. scores[1] .. ' ' .. scores[3] .. ' ' .. #errors"), "3 1.0 3.0 1")
            XCTAssertEqual(try h.value("errors[1].row .. ' ' .. errors[1].message"),
                           "2 data.jsonl: \(path):2: expected a string key at column 2")
            try h.run("scores, errors = reward.score('n', data.csv('\(csv)'), {workers = \(workers), progress = false})")
            XCTAssertEqual(try h.value("#scores .. ' ' .. scores[3] .. ' ' .. errors[1].row"), "3 3.0 2")
            XCTAssertTrue(try h.value("errors[1].message").hasPrefix("data.csv: \(csv):3: expected 2 fields"))
        }
    }

    func testErrorsNeverShowInternalChunkNames() throws {
        let h = try LuaHarness()
        try h.run("""
            rows = {{completion = 1}, {prompt = "p"}, {completion = "x"}}
            a, ea = reward.score("format", rows, {progress = false})
            b, eb = reward.score("accuracy", rows, {progress = false, workers = 2})
            c, ec = reward.score(reward.combine{{"format", 1}, {function() return "no" end, 1}}, rows, {progress = false})
            """)
        for list in ["ea", "eb", "ec"] {
            let all = try h.value("local t = {} for _, e in ipairs(\(list)) do t[#t + 1] = e.message end return table.concat(t, ' | ')")
            XCTAssertFalse(all.isEmpty)
            for chunk in ["reward:", "detect:", "portable:", "worker:", "score:"] {
                XCTAssertFalse(all.contains(chunk), "\(list): \(all)")
            }
        }
    }
}
