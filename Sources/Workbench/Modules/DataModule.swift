import LuaKit

extension Workbench {
    /// The `data` module: streaming JSON Lines and CSV datasets, whole JSON files, JSON
    /// encoding, and logprobs normalisation.
    static func installData(_ wb: Workbench) throws {
        let s = wb.lua
        let sentinels = DataSentinels.of(s)
        let m = ModuleBuilder(s, name: "data", doc: """
            data: datasets read lazily from JSON Lines and CSV files, JSON in and out, logprobs
            jsonl, csv, from (datasets: each, map, filter, take, count, column, write, totable),
            json, decode, encode, write_jsonl, array, null, logprobs.
            Files ending in gzip data (magic bytes 1f 8b, e.g. .jsonl.gz) are inflated as they are
            read; output paths ending in .gz are written gzip-compressed.
            Example: for r in data.jsonl("pairs.jsonl.gz"):take(3):each() do print(r.chosen) end
            """)
        installDatasetType(s)
        installSources(m)
        installJSON(m, sentinels)
        try installLogprobs(m)
        s.push(ref: sentinels.null)
        m.field("null")
    }

    /// Reads `on_error` from an options table.
    fileprivate static func onError(_ o: LuaOptions) throws -> OnError {
        OnError(rawValue: try o.choice("on_error", ["raise", "skip"], default: "raise")) ?? .raise
    }

    /// `data.jsonl`, `data.csv`, `data.from`.
    private static func installSources(_ m: ModuleBuilder) {
        m.function("jsonl", doc: """
            data.jsonl(path, {on_error = "raise"}) -> dataset
            A JSON Lines file (one JSON value per line) read lazily: nothing is read until a pass
            (ds:each(), ds:count(), ...), and a pass holds one record at a time, so files of any
            size stream. Gzip files (.jsonl.gz) are inflated on the fly. A UTF-8 BOM, CRLF line
            ends and blank lines are accepted. A malformed line (or a truncated last line) is an
            error naming file, line and column; with on_error = "skip" it is skipped and counted
            in ds.skipped (reset at the start of each pass).
            Values: objects and arrays are tables, null is data.null, integral numbers without
            '.'/exponent are integers, others floats (see data.decode).
            Options: on_error ("raise" | "skip").
            Example: local ds = data.jsonl("test.jsonl.gz"); print(ds:count(), ds.skipped)
            """) { args in
            let path = try args.path(1)
            let o = try args.options(2, allowed: ["on_error"])
            let mode = try onError(o)
            try checkReadable(path, "data.jsonl")
            args.state.push(object: Dataset(.jsonl(path: path, onError: mode), state: args.state))
            return 1
        }

        m.function("csv", doc: """
            data.csv(path, {header = true, numbers = true, separator = ",", on_error = "raise"}) -> dataset
            A CSV file (RFC 4180: quoted fields may hold separators, "" for a quote, and line
            breaks) read lazily, one record at a time; gzip inflated on the fly; a BOM accepted;
            LF, CRLF and lone CR (old Excel for Mac) end a line; blank lines skipped. With header = true the first row names the fields and
            each record is a table name -> value; with header = false records are arrays.
            A field that is exactly a JSON-style number (-12, 3.5, 1e-3) becomes a Lua number when
            numbers = true; anything else (007, " 1", 1,000, inf, the empty field) stays a string.
            A record whose field count differs from the header's is an error naming its line, or
            skipped and counted in ds.skipped with on_error = "skip".
            Options: header (true), numbers (true), separator (","; one byte, e.g. "\\t"),
            on_error ("raise" | "skip").
            Example: data.csv("TruthfulQA.csv"):column("Category")
            """) { args in
            let path = try args.path(1)
            let o = try args.options(2, allowed: ["header", "numbers", "separator", "on_error"])
            var c = CSVOptions()
            c.onError = try onError(o)
            c.header = try o.boolean("header", default: true)
            c.numbers = try o.boolean("numbers", default: true)
            let sep = Array(try o.string("separator", default: ",").utf8)
            guard sep.count == 1, sep[0] != UInt8(ascii: "\""), sep[0] != 10, sep[0] != 13 else {
                throw args.error(2, "option 'separator' must be one byte other than a quote or line end")
            }
            c.separator = sep[0]
            try checkReadable(path, "data.csv")
            args.state.push(object: Dataset(.csv(path: path, options: c), state: args.state))
            return 1
        }

        m.function("from", doc: """
            data.from(records) -> dataset
            A dataset over a Lua list (records[1] .. up to the first nil), so in-memory records
            get the same map/filter/take/count/column/write as files. The list is read at each
            pass, not copied.
            Example: data.from({{x = 1}, {x = 2}}):column("x")
            """) { args in
            try args.table(1)
            args.state.pushValue(at: 1)
            let ref = LuaRef(popping: args.state)
            args.state.push(object: Dataset(.list(ref), state: args.state))
            return 1
        }
    }

    /// Fails early, at `data.jsonl(path)`, for a file that cannot be opened.
    private static func checkReadable(_ path: String, _ function: String) throws {
        do { try ByteSource(path: path).close() } catch let e as DataFileError {
            throw LuaScriptError("\(function): \(e.message)")
        }
    }

    /// `data.json`, `decode`, `encode`, `write_jsonl`, `array`.
    private static func installJSON(_ m: ModuleBuilder, _ sentinels: DataSentinels) {
        m.function("json", doc: """
            data.json(path) -> value
            The Lua value of a whole JSON file (gzip inflated, a UTF-8 BOM dropped). null inside
            arrays and objects is data.null, so arrays keep their length; a file holding only
            null gives nil. A syntax error names the file, line and column. The whole file is read: use data.jsonl for
            large files of records.
            Example: local responses = data.json("text-generation.json"); print(#responses)
            """) { args in
            let path = try args.path(1)
            try args.noOptions(2)
            var bytes: [UInt8]
            do { bytes = try ByteSource(path: path).readAll() } catch let e as DataFileError {
                throw args.failure(e.message)
            }
            // A UTF-8 BOM (Windows editors, PowerShell) is dropped, as data.jsonl and data.csv
            // do and as Python's json.loads of the file's bytes does (utf-8-sig).
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { bytes.removeFirst(3) }
            do { try JSONDecoderToLua(state: args.state).push(bytes, into: args.state) } catch let e as JSONSyntaxError {
                let (line, column) = lineAndColumn(bytes, e.offset)
                throw args.failure("\(path):\(line): \(e.message) at column \(column)")
            }
            if sentinels.isNull(args.state, at: -1) { args.state.pop(); args.state.pushNil() }
            return 1
        }

        m.function("decode", doc: """
            data.decode(text) -> value
            Parses JSON text into Lua values, as data.json and data.jsonl do: objects and arrays
            become tables (an empty array keeps a marker so it encodes back as []), null inside
            them data.null (a top-level null gives nil), true/false booleans, numbers without '.'
            or exponent that fit in 64 bits integers, all others floats (correctly rounded),
            \\u escapes UTF-8 (surrogate pairs joined). Strict JSON: no comments, trailing commas,
            NaN or leading zeros; errors give the column.
            Example: data.decode('{"a": [1, 2.5, null]}').a[3] == data.null  --> true
            """) { args in
            let text = try args.bytes(1)
            do { try JSONDecoderToLua(state: args.state).push(text, into: args.state) } catch let e as JSONSyntaxError {
                throw args.failure(e.description)
            }
            if sentinels.isNull(args.state, at: -1) { args.state.pop(); args.state.pushNil() }
            return 1
        }

        m.function("encode", doc: """
            data.encode(value) -> string
            Compact JSON of a Lua value. A table with keys exactly 1..n is an array, any other an
            object (keys sorted: integer keys first as "1", "2", ..., then strings); an empty table
            is {} unless marked with data.array. Integers stay integers, floats are written in the
            shortest form that reads back exactly (1.0 stays 1.0); NaN and inf become null (as
            orjson). Strings are escaped ("\\"", "\\\\", control characters), UTF-8 kept. data.null
            and nil are null; a tensor is written as numpy's tolist() gives it: (nested) arrays,
            i64 as integers, bool as true/false, a 0-d tensor as one number. Functions, other
            userdata, boolean/float keys and cycles are errors.
            Example: data.encode({ids = data.array({}), x = 1.5, s = "a\\"b"})  --> {"ids":[],"s":"a\\"b","x":1.5}
            """) { args in
            let e = JSONEncoderFromLua(state: args.state)
            do { try e.encode(at: 1, in: args.state) } catch let err as JSONEncodingError { throw args.failure(err.message) }
            args.state.push(bytes: e.bytes)
            return 1
        }

        m.function("write_jsonl", doc: """
            data.write_jsonl(path, records) -> count
            Writes records (a Lua list, or a dataset streamed one record at a time) as JSON Lines:
            one compact JSON value per line, encoded as data.encode does. A path ending in .gz is
            written gzip-compressed. Returns the number of lines written.
            Example: data.write_jsonl("/tmp/out.jsonl", {{id = 1, ok = true}, {id = 2, ok = false}})
            """) { args in
            let path = try args.path(1)
            let dataset: Dataset
            if let d = args.state.object(at: 2, Dataset.self) {
                dataset = d
            } else {
                guard args.type(2) == .table else { throw args.typeError(2, expected: "list of records or dataset") }
                args.state.pushValue(at: 2)
                dataset = Dataset(.list(LuaRef(popping: args.state)), state: args.state)
            }
            args.state.push(try writeDataset(dataset, path: path, state: args.state, function: "data.write_jsonl"))
            return 1
        }

        m.function("array", doc: """
            data.array([t]) -> t
            Marks a table (a new empty one by default) as a JSON array, so that it encodes as []
            when empty. Decoded empty arrays already carry the mark. Returns the table.
            Example: data.encode({tags = data.array()})  --> {"tags":[]}
            """) { args in
            if args.isNil(1) { args.state.newTable() } else { try args.table(1); args.state.pushValue(at: 1) }
            args.state.push(ref: sentinels.arrayMeta)
            args.state.setMetatable(of: -2)
            return 1
        }
    }

    /// 1-based line and column of a byte offset.
    static func lineAndColumn(_ bytes: [UInt8], _ offset: Int) -> (Int, Int) {
        var line = 1, lineStart = 0
        for i in 0..<min(offset, bytes.count) where bytes[i] == 10 { line += 1; lineStart = i + 1 }
        return (line, offset - lineStart + 1)
    }

    /// Streams a dataset into a JSON Lines file; returns the count written. Read errors
    /// name the dataset's source function, write errors `function`.
    static func writeDataset(_ d: Dataset, path: String, state: LuaState, function: String) throws -> Int {
        func writing<T>(_ body: () throws -> T) throws -> T {
            do { return try body() } catch let err as DataFileError { throw LuaScriptError("\(function): \(err.message)") }
        }
        let out = try writing { try LineWriter(path: path) }
        let cursor = try d.cursor(state)
        defer { cursor.close() }
        let e = JSONEncoderFromLua(state: state)
        var n = 0
        while try d.next(cursor, state) {
            defer { state.pop() }
            do { try e.encode(at: -1, in: state) } catch let err as JSONEncodingError {
                throw LuaScriptError("\(function): record \(n + 1): \(err.message)")
            }
            e.append(10)
            n += 1
            if e.bytes.count >= 1 << 20 { try writing { try out.write(e.bytes) }; e.reset() }
        }
        try writing { try out.write(e.bytes); try out.close() }
        return n
    }
}
