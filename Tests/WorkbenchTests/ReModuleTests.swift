import Foundation
import XCTest
import LuaKit
import TestSupport

/// `re` against Python's `re` (3.11, Fixtures/re_cases.json written by
/// generate_re_cases.py beside it): TRL's and verl's format and answer patterns and the
/// syntax Python and PCRE2 spell differently, through search, match, fullmatch, findall,
/// sub and split; then the parts of the module the corpus does not reach.
final class ReModuleTests: XCTestCase {
    static let probe = """
        function probe(p, flags, s, repl)
          local r = re.compile(p, {flags = flags})
          local function spans(m)
            if not m then return data.null end
            local out = {}
            for k = 0, r.groups do
              local a, b = m:span(k)
              out[k + 1] = a and {a - 1, b} or data.null
            end
            return out
          end
          local split = r:split(s)
          for i, v in ipairs(split) do if v == false then split[i] = data.null end end
          local res = {search = spans(r:search(s)), match = spans(r:match(s)), fullmatch = spans(r:fullmatch(s)),
                       findall = r:findall(s), split = split, groups = r.groups}
          if repl then local t, n = r:sub(repl, s); res.sub = {result = t, n = n} end
          return data.encode(res)
        end
        """

    func testPythonCorpus() throws {
        let url = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures/re_cases.json")
        let doc = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(contentsOf: url)) as? [String: Any])
        let cases = try XCTUnwrap(doc["cases"] as? [[String: Any]])
        XCTAssertGreaterThan(cases.count, 70)
        let h = try LuaHarness()
        try h.run(ReModuleTests.probe)
        let lua = h.workbench.lua
        var checked = 0
        for c in cases {
            let name = c["name"] as? String ?? "?"
            let pattern = try XCTUnwrap(c["pattern"] as? String), flags = c["flags"] as? String ?? ""
            for row in try XCTUnwrap(c["rows"] as? [[String: Any]]) {
                let subject = try XCTUnwrap(row["subject"] as? String)
                let sub = row["sub"] as? [String: Any]
                for (k, v) in [("P", pattern), ("F", flags), ("S", subject), ("R", sub?["repl"] as? String ?? "")] {
                    lua.push(v)
                    lua.setGlobal(k)
                }
                let text = try h.value(sub == nil ? "probe(P, F, S)" : "probe(P, F, S, R)")
                let got = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], text)
                let what = "\(name): \(pattern) on \(subject.debugDescription)"
                XCTAssertEqual(got["groups"] as? Int, c["groups"] as? Int, what)
                for key in ["search", "match", "fullmatch", "findall", "split"] {
                    // data.encode writes an empty Lua table as {}: an empty list here.
                    let mine = (got[key] as? [String: Any])?.isEmpty == true ? [Any]() as NSArray : got[key] as? NSObject
                    XCTAssertEqual(mine, row[key] as? NSObject, "\(key) — \(what)")
                }
                if let sub {
                    let g = got["sub"] as? [String: Any]
                    XCTAssertEqual(g?["result"] as? String, sub["result"] as? String, "sub — \(what)")
                    XCTAssertEqual(g?["n"] as? Int, sub["n"] as? Int, "sub count — \(what)")
                }
                checked += 1
            }
        }
        XCTAssertGreaterThan(checked, 140)
    }

    func testMatchObjectsAndPositions() throws {
        let h = try LuaHarness()
        try h.run(#"m = re.search("(?P<year>\\d{4})-(\\d\\d)?", "on 2024-x")"#)
        XCTAssertEqual(try h.value("m[0] .. ' ' .. m[1] .. ' ' .. m.year .. ' ' .. tostring(m[2])"), "2024- 2024 2024 nil")
        XCTAssertEqual(try h.value("select('#', m:span(2))"), "1")
        XCTAssertEqual(try h.value("local a, b = m:span() return a .. ',' .. b"), "4,8")
        XCTAssertEqual(try h.value("local a, b = m:span('year') return a .. ',' .. b"), "4,7")
        XCTAssertEqual(try h.value("tostring(m:groups()[2])"), "false")
        XCTAssertEqual(try h.value("m:groupdict().year"), "2024")
        // init is 1-based; match is anchored there, search looks from there on.
        XCTAssertEqual(try h.value(#"re.match("b", "ab", 2)[0]"#), "b")
        XCTAssertEqual(try h.value(#"re.match("b", "ab") == nil"#), "true")
        XCTAssertEqual(try h.value(#"re.search("a", "aXa", -1):span()"#), "3\t3")
        XCTAssertEqual(try h.value(#"re.search("a", "a", 5) == nil"#), "true")
        XCTAssertEqual(try h.value(#"re.search("^b", "ab", 2) == nil"#), "true")  // ^ is the real start, as in Python
        // gmatch walks every match, empty ones as Python's finditer does.
        XCTAssertEqual(try h.value(#"local t = {} for m in re.gmatch("x*", "axx") do t[#t + 1] = m[0] end return table.concat(t, '|')"#), "|xx|")
        XCTAssertEqual(try h.value(#"local t = {} for m in re.compile("\\d"):gmatch("a1b2") do t[#t + 1] = m[0] end return table.concat(t)"#), "12")
        // sub with a function and a count; escape.
        XCTAssertEqual(try h.value(#"re.sub("\\d+", function(m) return tostring(m[0] * 2) end, "1 20 3", 2)"#), "2 40 3\t2")
        XCTAssertEqual(try h.value(#"re.search(re.escape("1+1=2?"), "is 1+1=2?")[0]"#), "1+1=2?")
        XCTAssertEqual(try h.value(#"re.compile("a(b)", {flags = "i"}).groups"#), "1")
        XCTAssertEqual(try h.value(#"re.compile("x", {flags = "is"}).flags"#), "is")
    }

    /// Matches are cut from their subject only when read: each keeps its own spans and
    /// subject after the pattern matched again and after a collection.
    func testMatchObjectsKeepTheirOwnSpans() throws {
        let h = try LuaHarness()
        try h.run(#"""
            r = re.compile([[(?P<word>[a-z]+)(\d)?]])
            a = r:search("-- abc1 --" .. string.rep("x", 0)); b = r:search("zz"); collectgarbage()
            """#)
        XCTAssertEqual(try h.value("a[0] .. '|' .. b[0] .. '|' .. a.word .. '|' .. a[2] .. '|' .. tostring(b[2])"), "abc1|zz|abc|1|nil")
        XCTAssertEqual(try h.value("local s, e = a:span('word') return s .. ',' .. e"), "4,6")
        XCTAssertEqual(try h.value("table.concat(b:groups('-'), ',')"), "zz,-")
        XCTAssertEqual(try h.value("tostring(a)"), #"re.match(span = {4, 7}, match = "abc1")"#)
        XCTAssertEqual(try h.value(#"tostring(re.search('a\\nb', 'xa\nb'))"#), "re.match(span = {2, 4}, match = \"a\\\nb\")")
        XCTAssertEqual(try h.value("next(re.search('(x)', 'x'):groupdict()) == nil"), "true")  // no named groups
        XCTAssertEqual(try h.value("a[3] == nil and a[-1] == nil and a[1.5] == nil and a.nope == nil"), "true")
        XCTAssertEqual(try h.value("re.search('(?P<span>x)', 'x').span"), "x")  // a named group wins over the method
        XCTAssertThrowsError(try h.run("a:span(3)")) { XCTAssertTrue("\($0)".contains("no group 3"), "\($0)") }
        XCTAssertThrowsError(try h.run("a:span({})")) { XCTAssertTrue("\($0)".contains("group number or name expected"), "\($0)") }
    }

    /// A pattern's search, match and fullmatch run in C once their code is compiled
    /// (LuaShim's rematch.c; the first match of a mode and every call with named groups or
    /// odd arguments take the Swift path). Both paths agree, over patterns, flags, subjects
    /// and every kind of position (the module functions always take the Swift path), and
    /// give Python's answers.
    func testFastPathAgreesWithTheSwiftPath() throws {
        let h = try LuaHarness()
        try h.run(#"""
            function show(m)
              if m == nil then return "nil" end
              local t = {tostring(m)}
              for k = 0, 2 do
                local ok, a, b = pcall(m.span, m, k)
                t[#t + 1] = ok and (tostring(a) .. "," .. tostring(b)) or "-"
              end
              return table.concat(t, " ")
            end
            pats = {"(a)(b)?", "b", "", "x*", "(\\d+)-(\\d+)?", "a.c$", "<t>.*?</t>\\s*\\Z", "(?P<n>a)", "\\w+"}
            subjects = {"", "ab", "xab", "aXc", "12-34 5-", "a\nc", "<t>x\n</t>  ", "\xff\xfeab", "é!"}
            positions = {[2] = 1, [3] = 2, [4] = 3, [5] = -1, [6] = -2, [7] = -10, [8] = 0, [9] = 4, [10] = 8, [11] = 100}
            checked, bad = 0, {}
            for _, flags in ipairs({"", "u", "is"}) do
              for _, p in ipairs(pats) do
                local r = re.compile(p, {flags = flags})
                r:match(""); r:fullmatch("")  -- compiles the anchored codes (the Swift path)
                for _, s in ipairs(subjects) do
                  for i = 1, 11 do
                    for _, mode in ipairs({"search", "match", "fullmatch"}) do
                      local fast = show(r[mode](r, s, positions[i]))
                      local slow = show(re[mode](p, s, positions[i], {flags = flags}))
                      checked = checked + 1
                      if fast ~= slow then bad[#bad + 1] = mode .. " " .. p .. " " .. s .. " " .. tostring(positions[i]) .. ": " .. fast .. " vs " .. slow end
                    end
                  end
                end
              end
            end
            """#)
        XCTAssertEqual(try h.value("#bad == 0 and 'ok' or table.concat(bad, '\\n')"), "ok")
        XCTAssertEqual(try h.value("checked"), "8019")
        // Python's answers (re.compile("(a)(b)?").match("xab", 1) and so on), on warm patterns.
        try h.run(#"r = re.compile("(a)(b)?") r:match("") r:fullmatch("") b = re.compile("b") b:match("")"#)
        XCTAssertEqual(try h.value(#"r:match("xab") == nil and b:match("ab") == nil"#), "true")
        XCTAssertEqual(try h.value(#"r:match("xab", 2)[0] .. ' ' .. r:match("xac", 2)[1] .. ' ' .. tostring(r:match("xac", 2)[2])"#), "ab a nil")
        XCTAssertEqual(try h.value(#"local a, b = r:match("xac", 2):span() return a .. ',' .. b"#), "2,2")
        XCTAssertEqual(try h.value(#"select('#', r:match("xac", 2):span(2))"#), "1")
        XCTAssertEqual(try h.value(#"tostring(r:match("xac", 2):groups()[2])"#), "false")
        XCTAssertEqual(try h.value(#"b:match("ab", -1)[0] .. ' ' .. tostring(b:match("ab", 4)) .. ' ' .. tostring(r:fullmatch("ab", 1))"#), "b nil re.match(span = {1, 2}, match = \"ab\")")
        XCTAssertEqual(try h.value(#"tostring(r:fullmatch("abc")) .. ' ' .. r:search("xxab", 2):span()"#), "nil 3")
        // Odd arguments: the same errors as the Swift path (a fresh pattern's first call).
        for call in ["match(12)", "match()", "search({})", "fullmatch('a', 'x')", "match('a', 1.5)"] {
            let cold = h.error("re.compile('(a)(b)?'):\(call)") ?? "(no error)"
            XCTAssertEqual(h.error("r:\(call)") ?? "(no error)", cold, call)
        }
        XCTAssertEqual(h.error("r.match(b, 'a')") ?? "(no error)", "(no error)")  // another pattern as self: fine
        XCTAssertEqual(h.error("r.match({}, 'a')"), h.error("re.compile('a').match({}, 'a')"))
    }

    /// What Tests/Differential/re_diff.py found against Python 3.11's re (bytes patterns on
    /// bytes, str patterns for the u flag); each answer here is Python's.
    func testPythonSemanticsTheDifferentialFound() throws {
        let h = try LuaHarness()
        func v(_ code: String) throws -> String { try h.value(code) }
        // re.findall(b'^', b'a\nb\n', re.M) == [b'', b'', b'']: ^ also after a final newline.
        XCTAssertEqual(try v(#"#re.findall("^", "a\nb\n", {flags = "m"})"#), "3")
        XCTAssertEqual(try v(#"(re.sub("(?m)^", ">", "a\n"))"#), ">a\n>")
        // \v is the vertical tab, not any vertical space.
        XCTAssertEqual(try v(#"re.search("\\v", "\n") == nil and re.search("[\\v]", "\v") ~= nil"#), "true")
        // [[:alpha:]] is the class of [ : a l p h followed by ]: re.findall(b'[[:alpha:]]', b'a:] x]') == [b':]']
        XCTAssertEqual(try v(#"table.concat(re.findall("[[:alpha:]]", "a:] x]"), ",")"#), ":]")
        // re.findall(b'[:a:]+', b'x:a') == [b':a'], re.findall(b'[..]', b'a.') == [b'.']
        XCTAssertEqual(try v(#"re.findall("[:a:]+", "x:a")[1] .. re.findall("[..]", "a.")[1] .. re.findall("[=b=]", "b")[1]"#), ":a.b")
        // \B does not match in an empty string.
        XCTAssertEqual(try v(#"re.search("\\B", "") == nil and re.search("\\B", "ab"):span() == 2"#), "true")
        // str patterns: \s is str.isspace, which holds for U+001C..U+001F.
        XCTAssertEqual(try v(#"re.findall("\\s+", "a\x1c\x1fb", {flags = "u"})[1] == "\x1c\x1f""#), "true")
        XCTAssertEqual(try v(#"re.search("\\S", "\x1c", {flags = "u"}) == nil and re.findall("[\\s]+", "a\x1d b", {flags = "u"})[1] == "\x1d ""#), "true")
        // and \S in a class: re.findall('[^\\S\\n]+', 'a\x1c \nb') == ['\x1c '], re.search('[\\S]', '\x1c') is None
        XCTAssertEqual(try v(#"re.findall("[^\\S\\n]+", "a\x1c \nb", {flags = "u"})[1] == "\x1c " and re.search("[\\S]", "\x1c", {flags = "u"}) == nil"#), "true")
        XCTAssertEqual(try v(#"table.concat(re.findall("[x\\S]+", "ab\x1cx", {flags = "u"}), ",")"#), "ab,x")
        // re.findall('[\\S\\D]', '\x1f\r') == ['\x1f', '\r'] (\D holds for U+001F); re.findall('[^\\S\\D]', '1 \x1c') == []
        XCTAssertEqual(try v(#"#re.findall("[\\S\\D]", "\x1f\r", {flags = "u"}) .. #re.findall("[^\\S\\D]", "1 \x1c", {flags = "u"}) .. #re.findall("[^\\S]", "a \x1c", {flags = "u"})"#), "202")
        // re.search('(?:^x){0}y', 'ay') finds the y (PCRE2 10.42 took the pattern for anchored at the start)
        XCTAssertEqual(try v(#"re.search("(?:^x){0}y", "ay"):span() .. tostring(re.search("(a){0}(b)", "b")[1])"#), "2nil")
        // re.findall('(?:x|\\A){0}', 'abc') finds the empty match at each of the 4 places
        // (PCRE2 10.42 takes the pattern for an anchored one).
        XCTAssertEqual(try v(#"#re.findall("(?:x|\\A){0}", "abc") .. select(2, re.sub("(?:x|^){0}", "-", "ab"))"#), "43")
        // Possessive repeats and atomic groups (PCRE2 10.42 kept a capture of a failed try,
        // auto-possessified B*, and its JIT found a match the interpreter does not).
        XCTAssertEqual(try v(#"tostring(re.search("(x)*+y", "xxz y")[1])"#), "nil")
        XCTAssertEqual(try v(#"(re.sub("B*(?:ek)*+[A-E]", "<\\g<0>>", "_AB"))"#), "_<A><B>")
        XCTAssertEqual(try v(#"tostring(re.search("(?>[^b]+|)\\.", "x."))"#), "nil")
        // Verbose mode skips only ASCII spaces: NEL (b'\x85', U+0085) is a character.
        XCTAssertEqual(try v(#"re.search("a\x85b", "a\x85b", {flags = "x"}) ~= nil and re.search("a\u{85}b", "a\u{85}b", {flags = "xu"}) ~= nil"#), "true")
        // Octal escapes and group references as Python reads them; {,} is {0,}.
        XCTAssertEqual(try v(#"re.search("(a)(b)\\2\\1", "abba")[0] .. #re.findall("\\101\\0\\07", "A\0\7")[1] .. re.search("x{,}", "xxx")[0]"#), "abba3xxx")
        // IGNORECASE on str: i, I, dotless i and dotted I are one letter (re.findall('(?i)i', 'ıİIi') has 4
        // items, re.findall('[a-i]', 'ı', re.I) one), not in (?-i:...) or without it.
        XCTAssertEqual(try v(#"#re.findall("(?i)i", "ıİIi", {flags = "u"}) .. #re.findall("[a-iz]", "ı", {flags = "iu"}) .. #re.findall("[ı]", "I", {flags = "iu"}) .. #re.findall("(?i:x)(?-i:i)", "xı", {flags = "u"}) .. #re.findall("ı", "I", {flags = "u"})"#), "41100")
        // A global (?a) in a UTF-8 pattern makes the classes ASCII.
        XCTAssertEqual(try v(#"re.search("(?a)\\w+", "é1a", {flags = "u"})[0] .. re.search("\\w+", "é1a", {flags = "ua"})[0]"#), "1a1a")
        // What Python refuses is refused, with an offset.
        for p in [#"a(?i)b"#, #"(?-i)a"#, #"\\h"#, #"\\e"#, #"\\K"#, #"\\N"#, #"(?<n>a)"#, #"\\x4"#, #"(a\\1)"#, #"\\2(a)"#,
                  #"[-\\b]{2,}+*"#, #"(*FAIL)"#, #"[\\w-z]"#, #"(?u)a"#, #"\\12"#, #"(a)\\12"#, #"\\z"#, #"\\Qa\\E"#,
                  #"\\p{L}"#, #"\\G"#, #"\\R"#, #"\\X"#, #"(?|a)"#, #"(?R)"#, #"(?1)"#, #"(?'n'a)"#, #"\\k<n>"#] {
            let e = h.error("re.compile(\"\(p)\")") ?? "(no error)"
            XCTAssertTrue(e.contains("bad pattern at offset"), "\(p): \(e)")
        }
        // re.compile('[*-\\S.]'): bad character range *-\S (in UTF-8 mode \S left the class and - was a literal)
        XCTAssertTrue((h.error(#"re.compile("[*-\\S.]", {flags = "u"})"#) ?? "").contains("offset"))
        XCTAssertEqual(try v(#"#re.findall("[a-b-\\S]", "-x", {flags = "u"})"#), "2")
        // re.compile(b'(?<=a|bc)d'): look-behind requires fixed-width pattern; (?<=ab|bc) is fine
        XCTAssertTrue((h.error(#"re.compile("(?<=a|bc)d")"#) ?? "").contains("offset"))
        XCTAssertTrue((h.error(#"re.compile("(?<!x|yz)d")"#) ?? "").contains("offset"))
        XCTAssertEqual(try v(#"table.concat(re.findall("(?<=ab|bc)(d)", "abd bcd xd"), ",")"#), "d,d")
        // re.sub(b'a', b'x\\', b'a'): bad escape (end of pattern)
        XCTAssertTrue((h.error(#"re.sub("a", "x\\", "a")"#) ?? "").contains("bad escape"))
    }

    /// Python 3.11 re has no stack limit: a repeated group runs over megabytes of text
    /// (Tests/Differential/acceptance_re.py found moonlab giving up at 500 KB).
    func testLongSubjectsAsPython() throws {
        let h = try LuaHarness()
        func v(_ code: String) throws -> String { try h.value(code) }
        // re.match('(?s)(.)*$', 'ab' * 500000): span (0, 1000000), group 1 'b' at (999999, 1000000)
        XCTAssertEqual(try v(#"local m = re.match("(?s)(.)*$", ("ab"):rep(500000)) local a, b = m:span() local c, d = m:span(1) return a .. " " .. b .. " " .. m[1] .. " " .. c .. " " .. d"#),
                       "1 1000000 b 1000000 1000000")
        // re.search(r'^(\w+\s?)*$', 'word ' * 200000): span (0, 1000000), group 1 'word ' at (999995, 1000000)
        XCTAssertEqual(try v(#"local m = re.search("^(\\w+\\s?)*$", ("word "):rep(200000)) local a, b = m:span() return a .. " " .. b .. " [" .. m[1] .. "] " .. m:span(1)"#),
                       "1 1000000 [word ] 999996")
        // re.match('(a|b)*$', 'ab' * 1000000).span() == (0, 2000000)
        XCTAssertEqual(try v(#"select(2, re.match("(a|b)*$", ("ab"):rep(1000000)):span())"#), "2000000")
    }

    /// Python 3.11 re counts a str pattern's error position in characters (the u flag here),
    /// a bytes pattern's in bytes: re.compile('é(') position 1, re.compile('é('.encode()) 2;
    /// '(?P' is "unexpected end of pattern at position 3".
    func testErrorOffsetsAsPython() throws {
        let h = try LuaHarness()
        func error(_ code: String) -> String { h.error(code) ?? "(no error)" }
        XCTAssertTrue(error(#"re.compile("é(", {flags = "u"})"#).contains("at offset 1:"))
        XCTAssertTrue(error(#"re.compile("é(")"#).contains("at offset 2:"))
        XCTAssertTrue(error(#"re.compile("éé(?P<n", {flags = "u"})"#).contains("at offset 6: missing >, unterminated name"))
        XCTAssertTrue(error(#"re.compile("中(a)\\2", {flags = "u"})"#).contains("at offset 5: invalid group reference 2"))
        XCTAssertTrue(error(#"re.compile("éa{2,1}", {flags = "u"})"#).contains("at offset 3: min repeat greater than max repeat"))
        XCTAssertTrue(error(#"re.compile("(?P")"#).contains("at offset 3: unexpected end of pattern"))
        // A range out of order: re.compile('[b-a]') position 1, r'x[zb-a]' 3, r'[\x62-a]' 3 (Python
        // counts back from the high end by two characters for an escape), '[é-a]' 1, b'[\xc3\xa9-a]' 2
        XCTAssertTrue(error(#"re.compile("[b-a]")"#).contains("at offset 1:"))
        XCTAssertTrue(error(#"re.compile("x[zb-a]")"#).contains("at offset 3:"))
        XCTAssertTrue(error(#"re.compile("[\\x62-a]")"#).contains("at offset 3:"))
        XCTAssertTrue(error(#"re.compile("[é-a]", {flags = "u"})"#).contains("at offset 1:"))
        XCTAssertTrue(error(#"re.compile("[é-a]")"#).contains("at offset 2:"))
        // re.compile(r'x\B *?', re.X): nothing to repeat at position 4 (verbose skips the space)
        XCTAssertTrue(error(#"re.compile("x\\B *?", {flags = "x"})"#).contains("at offset 4:"))
        XCTAssertEqual(error(#"re.compile("x\\B *?")"#), "(no error)")
    }

    /// m:group as Python 3.11 re's Match.group: m = re.search(r'(?P<n>\d+)(x)?', 'ab 42');
    /// m.group() '42', m.group('n') '42', m.group(0, 1, 2) ('42', '42', None), m.group(3)
    /// IndexError: no such group.
    func testMatchGroupAsPython() throws {
        let h = try LuaHarness()
        try h.run(#"m = re.search("(?P<n>\\d+)(x)?", "ab 42")"#)
        XCTAssertEqual(try h.value(#"m:group() .. m:group(1) .. m:group("n")"#), "424242")
        XCTAssertEqual(try h.value(##"select("#", m:group(0, 1, 2)) .. tostring(select(3, m:group(0, 1, 2)))"##), "3nil")
        XCTAssertTrue((h.error("m:group(3)") ?? "").contains("no group 3"))
        XCTAssertTrue((h.error("m:group('q')") ?? "").contains("no group q"))
        // re.sub('(a)|b', lambda m: m.group(1), 'ab') == 'a'; re.subn('x', lambda m: None, 'xx') == ('', 2)
        XCTAssertEqual(try h.value(#"(re.sub("(a)|b", function(m) return m[1] end, "ab"))"#), "a")
        XCTAssertEqual(try h.value(#"select(2, re.sub("x", function() end, "xx")) .. #re.sub("x", function() end, "xx")"#), "20")
        XCTAssertTrue((h.error(#"re.sub("x", function() return false end, "x")"#) ?? "").contains("returned boolean"))
    }

    func testErrorsNameWhatWasWrong() throws {
        let h = try LuaHarness()
        func error(_ code: String) -> String { h.error(code) ?? "(no error)" }
        // Python: "missing ), unterminated subpattern at position 1" (the parenthesis left open)
        XCTAssertTrue(error(#"re.compile("a(b")"#).contains("re.compile: bad pattern at offset 1: missing closing parenthesis"))
        XCTAssertTrue(error(#"re.compile("x[ab")"#).contains("at offset 1:"))  // unterminated character set at position 1
        XCTAssertTrue(error(#"re.compile("x{2,1}")"#).contains("at offset 2: min repeat greater than max repeat"))
        XCTAssertTrue(error(#"re.search("x{,2", "x")"#).isEmpty == false)
        XCTAssertTrue(error(#"re.compile("a", {flags = "q"})"#).contains("unknown flag 'q'"))
        XCTAssertTrue(error(#"re.compile("a", {flag = "i"})"#).contains("unknown option 'flag'"))
        XCTAssertTrue(error(#"re.search("a", 12)"#).contains("bad argument #2 to 're.search' (string expected, got number)"))
        XCTAssertTrue(error(#"re.sub("(a)", "\\2", "a")"#).contains("invalid group reference 2"))
        XCTAssertTrue(error(#"re.sub("a", "\\q", "a")"#).contains("bad escape \\q"))
        XCTAssertTrue(error(#"re.sub("a", function() return {} end, "a")"#).contains("returned table, expected a string"))
        XCTAssertTrue(error(#"re.compile("(?L)a")"#).contains("locale"))
        // A pattern that backtracks without end gives up with an error instead of hanging.
        XCTAssertTrue(error(#"re.search("(a+)+$", string.rep("a", 40) .. "b")"#).contains("gave up"))
    }

    func testCompiledPatternsAreCachedAndTravelToWorkers() throws {
        let h = try LuaHarness()
        XCTAssertEqual(try h.value(#"local t = {} for i = 1, 2000 do t[#t + 1] = re.search("n" .. (i % 600), "n42") ~= nil end return #t"#), "2000")
        try h.run("""
            local answer = re.compile([[<answer>(.*?)</answer>]], {flags = "s"})
            reward.define("tagged", function(s) local m = answer:search(s.completion) return m and #m[1] or 0 end)
            rows = {}
            for i = 1, 50 do rows[i] = {completion = "<answer>" .. string.rep("x", i) .. "</answer>"} end
            """)
        XCTAssertEqual(try h.value("local s = reward.score('tagged', rows, {workers = 2, progress = false}) return s[50]"), "50.0")
    }

    func testRequireReIsLPegWhereInstalled() throws {
        let h = try LuaHarness()
        XCTAssertEqual(try h.value("package.loaded.re == nil"), "true")
        let lpeg = try h.value("pcall(require, 'lpeg')")
        if lpeg == "true" {
            XCTAssertEqual(try h.value("require('re') ~= re and type(require('re').compile) == 'function'"), "true")
        }
    }
}
