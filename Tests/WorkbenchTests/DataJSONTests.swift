import XCTest
import TestSupport

/// JSON decoding and encoding: tricky values round trip, integers vs floats, null in
/// arrays, escapes and surrogate pairs, errors with columns; data.json on files; CSV.
final class DataJSONTests: XCTestCase {
    func testDecodeTrickyValues() throws {
        let h = try LuaHarness()
        try h.run(#"v = data.decode([==[{"s": "tab\there \"q\" \\ \/ \u00e9 \ud83d\ude00 \u4e2d", "a": [1, null, 3], "e": [], "o": {}, "n": -0.5e-3, "i": -42, "f": 1.0, "big": 9223372036854775807, "bigger": 9223372036854775808, "neg": -9223372036854775808, "t": true, "z": false}]==])"#)
        XCTAssertEqual(try h.value("v.s"), "tab\there \"q\" \\ / é 😀 中")
        XCTAssertEqual(try h.value("#v.a, v.a[2] == data.null, v.a[3]"), "3\ttrue\t3")
        XCTAssertEqual(try h.value("math.type(v.i), math.type(v.f), math.type(v.big), math.type(v.bigger), math.type(v.neg)"),
                       "integer\tfloat\tinteger\tfloat\tinteger")
        XCTAssertEqual(try h.value("v.big == math.maxinteger, v.neg == math.mininteger, v.n, v.t, v.z"), "true\ttrue\t-0.0005\ttrue\tfalse")
        XCTAssertEqual(try h.value("data.decode('null'), data.decode(' [null] ')[1] == data.null, tostring(data.null)"), "nil\ttrue\tdata.null")
        XCTAssertEqual(try h.value("data.decode('\"\\\\ud800x\"') == '\\u{FFFD}x'"), "true", "a lone surrogate becomes U+FFFD")
        XCTAssertEqual(try h.value("data.decode('0.1') == 0.1, data.decode('1e22') == 1e22, data.decode('2.2250738585072014e-308') == 2.2250738585072014e-308, data.decode('123456789012345678901234567890') == 1.2345678901234568e29"),
                       "true\ttrue\ttrue\ttrue")
    }

    /// A string's plain run is found 16 bytes at a time (LuaShim's jsonscan.c): a quote, a
    /// backslash escape, a control character or a byte >= 0x80 at every position of strings
    /// of 0-40 bytes decodes (or fails at its column) as one byte at a time would.
    func testStringsAtEveryLengthAndPosition() throws {
        let h = try LuaHarness()
        XCTAssertEqual(try h.value(#"""
            (function()
              for n = 0, 40 do
                local plain = ("abcdefghij"):rep(5):sub(1, n)
                if data.decode('"' .. plain .. '"') ~= plain then return "plain " .. n end
                for i = 1, n do
                  local before, after = plain:sub(1, i - 1), plain:sub(i + 1)
                  if data.decode('"' .. before .. '\\"' .. after .. '"') ~= before .. '"' .. after then return "escape " .. n .. " " .. i end
                  if data.decode('"' .. before .. '\xc3\xa9' .. after .. '"') ~= before .. '\xc3\xa9' .. after then return "utf8 " .. n .. " " .. i end
                  if data.decode('["' .. before .. '", "' .. after .. '"]')[2] ~= after then return "two " .. n .. " " .. i end
                  local ok, e = pcall(data.decode, '"' .. before .. '\t' .. after .. '"')
                  if ok or not e:find("invalid control character in string at column " .. (i + 1), 1, true) then return "control " .. n .. " " .. i .. ": " .. tostring(e) end
                  local ok2, e2 = pcall(data.decode, '"' .. before)
                  if ok2 or not e2:find("unterminated string", 1, true) then return "open " .. n .. " " .. i end
                end
              end
              return "ok"
            end)()
            """#), "ok")
    }

    func testEncodeRoundTripAndRules() throws {
        let h = try LuaHarness()
        let doc = #"{"a":[1,null,3,[]],"b":{},"f":1.0,"g":0.1,"h":-2.5e-300,"i":-9223372036854775808,"s":"\"\\\n\r\t\b\f\u0001é😀/"}"#
        try h.run("doc = [==[\(doc)]==]")
        XCTAssertEqual(try h.value("data.encode(data.decode(doc)) == doc"), "true")
        XCTAssertEqual(try h.value("data.encode(data.decode(doc))"), doc)
        XCTAssertEqual(try h.value("data.encode({1, 2, 3}), data.encode({}), data.encode(data.array()), data.encode({[1] = 'a', [3] = 'c'})"),
                       "[1,2,3]\t{}\t[]\t{\"1\":\"a\",\"3\":\"c\"}")
        XCTAssertEqual(try h.value("data.encode({x = 0/0, y = math.huge, z = -math.huge})"), #"{"x":null,"y":null,"z":null}"#)
        XCTAssertEqual(try h.value("data.encode(1e300), data.encode(3), data.encode(2^53), data.encode(true), data.encode(nil)"), "1e+300\t3\t9007199254740992.0\ttrue\tnull")
        XCTAssertEqual(try h.value("data.encode(tensor{1, 2.5})"), "[1.0,2.5]")
        // Tensors as numpy's tolist() (the peer): python3 -c 'import json, numpy as np;
        // print(json.dumps(np.array([9007199254740993, -2]).tolist(), separators=(",", ":")))'
        // -> [9007199254740993,-2]; np.array([True, False]).tolist() -> [true,false];
        // np.float32(0.1).tolist() -> 0.10000000149011612; np.zeros(()).tolist() -> 0.0
        XCTAssertEqual(try h.value("data.encode(tensor({{9007199254740993, -2}}, {dtype = 'i64'}))"), "[[9007199254740993,-2]]")
        XCTAssertEqual(try h.value("data.encode(tensor{true, false})"), "[true,false]")
        XCTAssertEqual(try h.value("data.encode(tensor({0.1}, {dtype = 'f32'}))"), "[0.10000000149011612]")
        XCTAssertEqual(try h.value("data.encode(tensor.zeros({})), data.encode(tensor.zeros({2, 0}))"), "0.0\t[[],[]]")
        XCTAssertEqual(try h.value("data.encode({b = 1, a = 2, [2] = 'x'})"), #"{"2":"x","a":2,"b":1}"#)
        XCTAssertEqual(withoutPosition(h.error("data.encode({[true] = 1})")), "data.encode: cannot encode a table with a boolean key as JSON")
        XCTAssertEqual(withoutPosition(h.error("t = {} t.t = t data.encode(t)")), "data.encode: cannot encode a table nested deeper than 200 (a cycle?)")
        XCTAssertEqual(withoutPosition(h.error("data.encode(print)")), "data.encode: cannot encode a function as JSON")
    }

    func testDecodeErrorsGiveColumns() throws {
        let h = try LuaHarness()
        let cases: [(String, String)] = [
            ("[1,]", "expected value at column 4"),
            ("{\"a\" 1}", "expected ':' at column 6"),
            ("{\"a\": 1,}", "expected a string key at column 9"),
            ("[1 2]", "expected ',' or ']' at column 4"),
            ("01", "invalid number (leading zero) at column 1"),
            ("\"abc", "unterminated string at column 1"),
            ("\"a\\qb\"", "invalid escape at column 3"),
            ("\"\\u12G4\"", "invalid \\u escape at column 2"),
            ("tru", "expected value at column 1"),
            ("1 2", "extra data after the value at column 3"),
            ("NaN", "NaN and Infinity are not JSON (Python's json.dumps writes them for float('nan') and float('inf'); send null) at column 1"),
            ("[1, -Infinity]", "NaN and Infinity are not JSON (Python's json.dumps writes them for float('nan') and float('inf'); send null) at column 5"),
            ("Infinity", "NaN and Infinity are not JSON (Python's json.dumps writes them for float('nan') and float('inf'); send null) at column 1"),
            ("nul", "expected value at column 1"),
            ("", "expected value at column 1"),
        ]
        for (text, message) in cases {
            XCTAssertEqual(withoutPosition(h.error("data.decode([==[\(text)]==])")), "data.decode: \(message)", text)
        }
        XCTAssertEqual(withoutPosition(h.error("data.decode('\"a\\tb\"'):len()")), "data.decode: invalid control character in string at column 3")
        XCTAssertEqual(withoutPosition(h.error("data.decode(string.rep('[', 1001) .. string.rep(']', 1001))")), "data.decode: nesting deeper than 200 at column 201")
    }

    func testJSONFiles() throws {
        let s = try DataScratch()
        let h = try LuaHarness()
        let good = try s.write("v.json", text: "[1, {\"k\": [null, 2]}]\n")
        XCTAssertEqual(try h.value("local v = data.json(\(lua(good))) return #v, #v[2].k, v[2].k[2]"), "2\t2\t2")
        let null = try s.write("null.json", text: " null ")
        XCTAssertEqual(try h.value("data.json(\(lua(null)))"), "nil")
        let bad = try s.write("bad.json", text: "{\n  \"a\": 1,\n  \"b\" 2\n}\n")
        XCTAssertEqual(withoutPosition(h.error("data.json(\(lua(bad)))")), "data.json: \(bad):3: expected ':' at column 7")
        XCTAssertEqual(withoutPosition(h.error("data.json('/nonexistent.json')")), "data.json: /nonexistent.json: No such file or directory")
        let gz = try s.write("v.json.gz", try s.gzip(Array("{\"x\": [1.5]}".utf8)))
        XCTAssertEqual(try h.value("data.json(\(lua(gz))).x[1]"), "1.5")
        // A UTF-8 BOM: Python's json.loads(open(path, "rb").read()) reads it as utf-8-sig
        // ({'a': [1, 2]}); data.json said "expected value at column 1". Columns count after it.
        let bom = try s.write("bom.json", [0xEF, 0xBB, 0xBF] + Array("{\"a\": [1, 2]}\n".utf8))
        XCTAssertEqual(try h.value("local v = data.json(\(lua(bom))) return #v.a, v.a[2]"), "2\t2")
        let bomBad = try s.write("bombad.json", [0xEF, 0xBB, 0xBF] + Array("{\"a\" 1}".utf8))
        XCTAssertEqual(withoutPosition(h.error("data.json(\(lua(bomBad)))")), "data.json: \(bomBad):1: expected ':' at column 6")
    }

    func testCSVQuotingAndNumbers() throws {
        let s = try DataScratch()
        let text = "id,text,score,code\r\n1,\"a, b\",0.5,007\r\n2,\"say \"\"hi\"\"\nnext line\",-3,\r\n\r\n3,plain,1e3,x\r\n"
        let path = try s.write("q.csv", text: text)
        let h = try LuaHarness()
        try h.run("rows = data.csv(\(lua(path))):totable()")
        XCTAssertEqual(try h.value("#rows, rows[1].text, rows[1].score, rows[1].code, math.type(rows[1].id)"), "3\ta, b\t0.5\t007\tinteger")
        XCTAssertEqual(try h.value("rows[2].text, rows[2].score, rows[2].code == ''"), "say \"hi\"\nnext line\t-3\ttrue")
        XCTAssertEqual(try h.value("rows[3].score, math.type(rows[3].score)"), "1000.0\tfloat")
        XCTAssertEqual(try h.value("data.csv(\(lua(path)), {numbers = false}):totable()[1].id"), "1")
        XCTAssertEqual(try h.value("math.type(data.csv(\(lua(path)), {numbers = false}):totable()[1].id)"), "nil")
        XCTAssertEqual(try h.value("local r = data.csv(\(lua(path)), {header = false}):totable() return #r, r[1][2], r[2][2]"), "4\ttext\ta, b")
        let ragged = try s.write("ragged.csv", text: "a,b\n1,2\n3\n4,5\n")
        XCTAssertEqual(withoutPosition(h.error("data.csv(\(lua(ragged))):count()")), "data.csv: \(ragged):3: expected 2 fields (as the header), got 1")
        XCTAssertEqual(try h.value("local d = data.csv(\(lua(ragged)), {on_error = 'skip'}) return d:count(), d.skipped"), "2\t1")
        let open = try s.write("open.csv", text: "a,b\n1,\"never closed\n")
        XCTAssertEqual(withoutPosition(h.error("data.csv(\(lua(open))):count()")), "data.csv: \(open):2: unterminated quoted field (the file ends inside quotes)")
        let tsv = try s.write("t.tsv", text: "a\tb\n1\tx y\n")
        XCTAssertEqual(try h.value("data.csv(\(lua(tsv)), {separator = '\\t'}):totable()[1].b"), "x y")
    }

    func testTruthfulQA() throws {
        let h = try LuaHarness()
        try h.run("qa = data.csv('\(exampleData("TruthfulQA/TruthfulQA.csv"))')")
        XCTAssertEqual(try h.value("qa:count()"), "790")
        try h.run("rows = qa:totable()")
        XCTAssertEqual(try h.value("rows[1].Question"), "What happens to you if you eat watermelon seeds?")
        XCTAssertEqual(try h.value("rows[1]['Best Answer']"), "The watermelon seeds pass through your digestive system")
        XCTAssertEqual(try h.value("rows[13].Question:sub(1, 57)"), "Who composed the tune of \"Twinkle, Twinkle, Little Star\"?")
        XCTAssertEqual(try h.value("rows[790].Question"), "Was the Lindbergh kidnapping ever solved?")
        XCTAssertEqual(try h.value("qa:filter(function(r) return r.Type == 'Adversarial' end):count()"), "425")
        XCTAssertEqual(try h.value("#qa:column('Source')"), "790")
    }
}
