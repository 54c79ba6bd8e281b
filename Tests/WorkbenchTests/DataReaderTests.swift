import XCTest
import TestSupport
import LuaKit

/// `data.jsonl` on real and hand-made files: gzip, CRLF, BOM, blank lines, malformed and
/// truncated lines, lazy map/filter/take, column, write.
final class DataReaderTests: XCTestCase {
    let hh = exampleData("hh-rlhf/harmless-base/test.jsonl.gz")

    func testRealGzipFileCountsAndFirstRecord() throws {
        let h = try LuaHarness()
        try h.run("ds = data.jsonl(\(lua(hh)))")
        XCTAssertEqual(try h.value("ds:count()"), "2312")
        XCTAssertEqual(try h.value("ds.skipped"), "0")
        try h.run("for r in ds:each() do first = r break end")
        XCTAssertEqual(try h.value("first.chosen:sub(1, 50)"), "\n\nHuman: what are some pranks with a pen i can do?")
        // 853 characters in Python, 865 bytes in Lua (curly apostrophes are 3 bytes).
        XCTAssertEqual(try h.value("#first.chosen, #first.rejected"), "865\t985")
        XCTAssertEqual(try h.value("first.rejected:sub(-20)"), "It’s really funny.")
        XCTAssertEqual(try h.value("local n = 0 for k in pairs(first) do n = n + 1 end return n"), "2")
        XCTAssertEqual(try h.value("tostring(ds)"), "dataset(jsonl \(hh))")
    }

    func testMultiMemberGzipAndTruncatedGzip() throws {
        let s = try DataScratch()
        let a = try s.gzip(Array("{\"i\":1}\n{\"i\":2}\n".utf8)), b = try s.gzip(Array("{\"i\":3}\n".utf8))
        let path = try s.write("multi.jsonl.gz", a + b)
        let h = try LuaHarness()
        XCTAssertEqual(try h.value("data.jsonl(\(lua(path))):column('i'):sum()"), "6.0")
        let cut = try s.write("cut.gz", Array(a[0..<(a.count - 12)]))
        let e = h.error("data.jsonl(\(lua(cut))):count()") ?? ""
        XCTAssertTrue(e.hasSuffix("data.jsonl: \(cut): truncated gzip stream (the file ends inside a compressed member)"), e)
    }

    func testCRLFBOMAndBlankLines() throws {
        let s = try DataScratch()
        let path = try s.write("crlf.jsonl", [0xEF, 0xBB, 0xBF] + Array("{\"a\": 1}\r\n\r\n   \n{\"a\": 2, \"s\": \"x\\r\"}\r\n\n".utf8))
        let h = try LuaHarness()
        try h.run("rows = data.jsonl(\(lua(path))):totable()")
        XCTAssertEqual(try h.value("#rows, rows[1].a, rows[2].a, rows[2].s == 'x\\r'"), "2\t1\t2\ttrue")
        XCTAssertEqual(try h.value("math.type(rows[1].a)"), "integer")
    }

    /// 20 lines, line 17 broken at column 10.
    func brokenFile(_ s: DataScratch) throws -> String {
        var text = ""
        for i in 1...20 { text += i == 17 ? "{\"id\": 17 \"x\": 1}\n" : "{\"id\": \(i)}\n" }
        return try s.write("broken.jsonl", text: text)
    }

    func testMalformedLineInTheMiddleRaisesWithFileAndLine() throws {
        let s = try DataScratch()
        let path = try brokenFile(s)
        let h = try LuaHarness()
        XCTAssertEqual(withoutPosition(h.error("data.jsonl(\(lua(path))):count()")),
                       "data.jsonl: \(path):17: expected ',' or '}' at column 11")
        XCTAssertEqual(withoutPosition(h.error("for r in data.jsonl(\(lua(path))):each() do end")),
                       "data.jsonl: \(path):17: expected ',' or '}' at column 11")
    }

    func testSkipModeCountsTheMalformedLine() throws {
        let s = try DataScratch()
        let path = try brokenFile(s)
        let h = try LuaHarness()
        try h.run("ds = data.jsonl(\(lua(path)), {on_error = 'skip'})")
        XCTAssertEqual(try h.value("ds:count(), ds.skipped"), "19\t1")
        XCTAssertEqual(try h.value("ds:column('id'):sum()"), "193.0")  // 210 - 17
        XCTAssertEqual(try h.value("ds:map(function(r) return r end):take(50):count(), ds.skipped"), "19\t1")
    }

    func testTruncatedLastLine() throws {
        let s = try DataScratch()
        let path = try s.write("trunc.jsonl", text: "{\"a\": 1}\n{\"a\": 2}\n{\"a\": 3, \"b")
        let h = try LuaHarness()
        XCTAssertEqual(withoutPosition(h.error("data.jsonl(\(lua(path))):count()")),
                       "data.jsonl: \(path):3: unterminated string at column 10 (last line, no newline: truncated?)")
        XCTAssertEqual(try h.value("local ds = data.jsonl(\(lua(path)), {on_error = 'skip'}) return ds:count(), ds.skipped"), "2\t1")
        // A complete last line without a newline is fine.
        let ok = try s.write("ok.jsonl", text: "{\"a\": 1}\n{\"a\": 2}")
        XCTAssertEqual(try h.value("data.jsonl(\(lua(ok))):count()"), "2")
    }

    func testLazyMapFilterTake() throws {
        let s = try DataScratch()
        var text = ""
        for i in 1...100 { text += "{\"id\": \(i), \"len\": \(i % 7)}\n" }
        let path = try s.write("ids.jsonl", text: text)
        let h = try LuaHarness()
        try h.run("calls = 0; ds = data.jsonl(\(lua(path))):map(function(r) calls = calls + 1; return r.id * 2 end)")
        XCTAssertEqual(try h.value("calls"), "0", "map is lazy")
        XCTAssertEqual(try h.value("local t = {} for x in ds:take(3):each() do t[#t+1] = x end return table.concat(t, ','), calls"), "2,4,6\t3")
        XCTAssertEqual(try h.value("data.jsonl(\(lua(path))):filter(function(r) return r.len == 0 end):count()"), "14")
        XCTAssertEqual(try h.value("data.jsonl(\(lua(path))):map(function(r) if r.id % 2 == 0 then return r end end):count()"), "50")
        XCTAssertEqual(try h.value("data.jsonl(\(lua(path))):take(0):count()"), "0")
        XCTAssertEqual(try h.value("tostring(data.jsonl('\(path)'):filter(print):take(2))"), "dataset(jsonl \(path)) | filter | take(2)")
        // An error inside fn surfaces with its own position.
        let e = h.error("data.jsonl(\(lua(path))):map(function(r) error('bad row ' .. r.id) end):count()") ?? ""
        XCTAssertTrue(e.hasSuffix("bad row 1"), e)
        // break closes the file (the loop's closing value); reading again works.
        XCTAssertEqual(try h.value("for r in data.jsonl(\(lua(path))):each() do break end return data.jsonl(\(lua(path))):count()"), "100")
    }

    func testColumnIsATensorForNumbersAndAListOtherwise() throws {
        let s = try DataScratch()
        let path = try s.write("mixed.jsonl", text: "{\"x\": 1, \"y\": \"a\"}\n{\"x\": 2.5}\n{\"x\": 3, \"y\": null}\n")
        let h = try LuaHarness()
        try h.run("ds = data.jsonl(\(lua(path)))")
        XCTAssertEqual(try h.value("ds:column('x'):sum()"), "6.5")
        XCTAssertEqual(try h.value("getmetatable(ds:column('x')).__name"), "tensor")
        try h.run("y = ds:column('y')")
        XCTAssertEqual(try h.value("#y, y[1], y[2] == data.null, y[3] == data.null"), "3\ta\ttrue\ttrue")
    }

    func testWriteRoundTripPlainAndGzip() throws {
        let s = try DataScratch()
        let out = s.dir.appendingPathComponent("out.jsonl").path
        let gz = s.dir.appendingPathComponent("out.jsonl.gz").path
        let h = try LuaHarness()
        try h.run("""
            recs = {{id = 1, text = "a\\"b\\n", tags = data.array()}, {id = 2, score = 0.5, ok = false, nested = {1, 2, {k = data.null}}}}
            """)
        XCTAssertEqual(try h.value("data.write_jsonl(\(lua(out)), recs)"), "2")
        XCTAssertEqual(String(decoding: try s.read(out), as: UTF8.self),
                       "{\"id\":1,\"tags\":[],\"text\":\"a\\\"b\\n\"}\n{\"id\":2,\"nested\":[1,2,{\"k\":null}],\"ok\":false,\"score\":0.5}\n")
        XCTAssertEqual(try h.value("data.jsonl(\(lua(out))):write(\(lua(gz)))"), "2")
        XCTAssertEqual(try h.value("local r = data.jsonl(\(lua(gz))):totable() return #r, r[2].nested[3].k == data.null, r[1].text"), "2\ttrue\ta\"b\n")
        XCTAssertEqual(try h.value("data.from(recs):filter(function(r) return r.id > 1 end):write(\(lua(out)))"), "1")
    }

    func testBadArgumentsAndMissingFiles() throws {
        let h = try LuaHarness()
        XCTAssertEqual(withoutPosition(h.error("data.jsonl(1)")), "bad argument #1 to 'data.jsonl' (string expected, got number)")
        XCTAssertEqual(withoutPosition(h.error("data.jsonl('/nonexistent/x.jsonl')")), "data.jsonl: /nonexistent/x.jsonl: No such file or directory")
        XCTAssertEqual(withoutPosition(h.error("data.jsonl('\(hh)', {on_eror = 'skip'})")),
                       "bad argument #2 to 'data.jsonl' (unknown option 'on_eror'; valid options: on_error)")
        XCTAssertEqual(withoutPosition(h.error("data.jsonl('\(hh)', {on_error = 'ignore'})")),
                       "bad argument #2 to 'data.jsonl' (option 'on_error' must be one of \"raise\", \"skip\", got \"ignore\")")
        XCTAssertEqual(withoutPosition(h.error("data.jsonl('\(hh)'):take(-1)")), "bad argument #2 to 'dataset:take' (n must be an integer >= 0, got -1)")
        XCTAssertEqual(withoutPosition(h.error("data.jsonl('\(hh)'):map(3)")), "bad argument #2 to 'dataset:map' (function expected, got number)")
        XCTAssertEqual(withoutPosition(h.error("data.jsonl('/tmp')")), "data.jsonl: /tmp: is a directory")
        XCTAssertEqual(withoutPosition(h.error("data.write_jsonl('/nonexistent/o.jsonl', {})")), "data.write_jsonl: /nonexistent/o.jsonl: No such file or directory")
        XCTAssertEqual(withoutPosition(h.error("data.write_jsonl('/tmp/x.jsonl', {{f = print}})")), "data.write_jsonl: record 1: cannot encode a function as JSON")
    }

    func testCtrlCInterruptsANativePass() throws {
        let h = try LuaHarness()
        LuaInterrupt.raise()
        defer { LuaInterrupt.clear() }
        let e = h.error("data.jsonl(\(lua(hh))):count()") ?? ""
        XCTAssertTrue(e.hasSuffix("interrupted"), e)
        LuaInterrupt.clear()
        XCTAssertEqual(try h.value("data.jsonl(\(lua(hh))):take(3):count()"), "3")
    }

    func testHelpPrintsDocstrings() throws {
        let h = try LuaHarness()
        _ = h.takeOutput()
        try h.run("help(data.jsonl)")
        XCTAssertTrue(h.takeOutput().hasPrefix("data.jsonl(path, {on_error = \"raise\"}) -> dataset\n"))
        try h.run("help(data.jsonl('\(hh)').map)")
        XCTAssertTrue(h.takeOutput().hasPrefix("ds:map(fn) -> dataset"))
    }
}
