import LuaKit
import AlignMath

/// The to-be-closed value `ds:each()` returns fourth, so `break` closes the file at once.
final class CursorBox {
    let cursor: RecordCursor
    init(_ cursor: RecordCursor) { self.cursor = cursor }
}

extension Dataset {
    /// The function that made the source of this dataset (`data.jsonl`, `data.csv`,
    /// `data.from`), which read errors are named after.
    var sourceFunction: String {
        switch kind {
        case .jsonl: return "data.jsonl"
        case .csv: return "data.csv"
        case .list: return "data.from"
        case .map(let d, _), .filter(let d, _), .take(let d, _): return d.sourceFunction
        }
    }

    /// A new cursor, file errors named after the source function.
    func cursor(_ state: LuaState) throws -> RecordCursor {
        do { return try makeCursor(state) } catch let e as DataFileError {
            throw LuaScriptError("\(sourceFunction): \(e.message)")
        }
    }

    /// The next record (pushed) or false, file and syntax errors named after the source.
    /// Polls Ctrl-C, so a pass over a huge file in native code can be interrupted.
    func next(_ cursor: RecordCursor, _ state: LuaState) throws -> Bool {
        if Interruption.isPending, state.interruptible {
            cursor.close()
            throw LuaScriptError("interrupted")
        }
        do { return try cursor.next(state) } catch let e as DataFileError {
            cursor.close()
            throw LuaScriptError("\(sourceFunction): \(e.message)")
        }
    }
}

extension Workbench {
    /// The `dataset` userdata type and its methods' docstrings.
    static func installDatasetType(_ s: LuaState) {
        s.register(type: CursorBox.self, name: "dataset.cursor") { t in
            t.meta("__close") { args in
                args.state.object(at: 1, CursorBox.self)?.cursor.close()
                return 0
            }
        }
        s.register(type: Dataset.self, name: "dataset") { t in
            for (name, _, body) in datasetMethods { t.method(name, body) }
            t.index { d, args in
                switch args.state.string(at: 2) {
                case "skipped": args.state.push(d.skipped)
                case "source": args.state.push(d.sourceFunction)
                default: args.state.pushNil()
                }
                return 1
            }
            t.meta("__tostring") { args in
                args.state.push(try args.object(1, Dataset.self).description)
                return 1
            }
        }
        // Docstrings on the method functions, so help(ds.map) prints them.
        s.pushRegistry()
        s.getField("dataset")
        s.getField("__methods")
        for (name, doc, _) in datasetMethods {
            s.getField(name)
            Help.register(s, value: -1, name: "dataset:\(name)", doc: doc, isModule: false)
            s.pop()
        }
        s.pop(3)
    }

    typealias DatasetMethod = (String, String, @Sendable (Dataset, LuaArguments) throws -> Int32)

    /// Pushes a dataset derived from `d` with the function at argument 2.
    static func derived(_ d: Dataset, _ args: LuaArguments, _ make: (Dataset, LuaRef) -> Dataset.Kind) throws -> Int32 {
        try args.callable(2)
        args.state.pushValue(at: 2)
        let ref = LuaRef(popping: args.state)
        args.state.push(object: Dataset(make(d, ref), state: args.state))
        return 1
    }
}
