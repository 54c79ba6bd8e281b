import LuaKit
import AlignMath

extension Workbench {
    /// The methods of a dataset: name, docstring, body.
    static let datasetMethods: [DatasetMethod] = [
        ("each", """
            ds:each() -> iterator
            Iterates the records for a generic for, reading one at a time: for r in ds:each() do
            ... end. Leaving the loop early (break, error) closes the file.
            Example: for r in data.jsonl("x.jsonl"):each() do print(r.id) end
            """, { d, args in
            let s = args.state
            let cursor = try d.cursor(s)
            s.push(function: "dataset:each iterator") { a in
                if try d.next(cursor, a.state) { return 1 }
                a.state.pushNil()
                return 1
            }
            s.pushNil()
            s.pushNil()
            s.push(object: CursorBox(cursor))
            return 4
        }),
        ("map", """
            ds:map(fn) -> dataset
            A lazy dataset of fn(record) for each record; a nil result drops the record (so map
            can also filter). Nothing runs until a pass.
            Example: ds:map(function(r) return {len = #r.completion} end):column("len")
            """, { d, args in try derived(d, args) { .map($0, $1) } }),
        ("filter", """
            ds:filter(fn) -> dataset
            A lazy dataset of the records for which fn(record) is truthy.
            Example: data.jsonl("pope.json"):filter(function(r) return r.label == "yes" end):count()
            """, { d, args in try derived(d, args) { .filter($0, $1) } }),
        ("take", """
            ds:take(n) -> dataset
            A lazy dataset of the first n records (n >= 0); a pass stops reading the file there.
            Example: for r in ds:take(5):each() do print(r.prompt) end
            """, { d, args in
            let n = try args.count(2, "n", in: 0...Int.max)
            args.state.push(object: Dataset(.take(d, n), state: args.state))
            return 1
        }),
        ("count", """
            ds:count() -> integer
            Number of records (reads the whole dataset once; malformed lines raise or, with
            on_error = "skip", are left out and counted in ds.skipped).
            Example: data.jsonl("test.jsonl.gz"):count()  --> 2312
            """, { d, args in
            let s = args.state
            let cursor = try d.cursor(s)
            defer { cursor.close() }
            var n = 0
            while try d.next(cursor, s) { s.pop(); n += 1 }
            s.push(n)
            return 1
        }),
        ("column", """
            ds:column(field) -> tensor | list
            The values of one field over all records: an f64 tensor when every value is a number,
            else a Lua list where a missing field is data.null (so positions match records).
            field is a key (a string, or an index for arrays and header-less CSV).
            Example: data.jsonl("scores.jsonl"):column("reward"):mean()
            """, { d, args in
            let s = args.state
            guard args.type(2) == .string || args.type(2) == .number else { throw args.typeError(2, expected: "string or integer key") }
            let null = DataSentinels.of(s).null
            s.newTable()
            let list = s.top
            let cursor = try d.cursor(s)
            defer { cursor.close() }
            var n: Int64 = 0
            var numbers: [Double] = []
            var allNumbers = true
            while try d.next(cursor, s) {
                n += 1
                guard s.type(at: -1) == .table else {
                    throw args.failure("record \(n) is a \(s.typeName(at: -1)), not a table")
                }
                s.pushValue(at: 2)
                let t = s.rawGet(of: -2)
                if t == .nil { s.pop(); s.push(ref: null) }
                if allNumbers {
                    if t == .number { numbers.append(s.rawNumber(at: -1)) } else { allNumbers = false }
                }
                s.rawSet(index: n, of: list)
                s.pop()
            }
            if allNumbers, n > 0 {
                s.pop()
                try s.push(tensorOf: numbers)
            }
            return 1
        }),
        ("totable", """
            ds:totable() -> list
            All records in a Lua list (the whole dataset in memory: use take(n) first on big files).
            Example: local rows = data.csv("TruthfulQA.csv"):take(10):totable()
            """, { d, args in
            let s = args.state
            s.newTable()
            let list = s.top
            let cursor = try d.cursor(s)
            defer { cursor.close() }
            var n: Int64 = 0
            while try d.next(cursor, s) { n += 1; s.rawSet(index: n, of: list) }
            return 1
        }),
        ("write", """
            ds:write(path) -> count
            Streams the records to a JSON Lines file (as data.write_jsonl; .gz paths compressed)
            and returns how many were written.
            Example: data.jsonl("in.jsonl"):filter(keep):write("/tmp/kept.jsonl")
            """, { d, args in
            let path = try args.path(2)
            args.state.push(try writeDataset(d, path: path, state: args.state, function: "dataset:write"))
            return 1
        }),
    ]
}
