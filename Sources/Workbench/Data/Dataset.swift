import LuaKit

/// What to do with a malformed line or record.
public enum OnError: String, Sendable {
    /// Stop with an error naming the file and line.
    case raise
    /// Skip it and count it in the dataset's `skipped`.
    case skip
}

/// Options of `data.csv`.
public struct CSVOptions: Sendable {
    public var onError: OnError = .raise
    /// First record holds field names (else records are arrays).
    public var header = true
    /// Fields that are JSON-style numbers become Lua numbers.
    public var numbers = true
    public var separator: UInt8 = UInt8(ascii: ",")
    public init() {}
}

/// A dataset as the `data` module hands it out: a recipe, not records. Each pass
/// (`each`, `count`, `column`, `write`) opens a fresh cursor, so a dataset can be read any
/// number of times and never holds more than one record.
public final class Dataset {
    /// The recipe: a file, a Lua list, or a lazy step over another dataset.
    public enum Kind {
        case jsonl(path: String, onError: OnError)
        case csv(path: String, options: CSVOptions)
        case list(LuaRef)
        case map(Dataset, LuaRef)
        case filter(Dataset, LuaRef)
        case take(Dataset, Int)
    }
    public let kind: Kind
    /// Lines (or records) skipped as malformed in the last pass (sources only; derived
    /// datasets report their source's).
    public var skipped: Int {
        get { parent?.skipped ?? ownSkipped }
        set { if let parent { parent.skipped = newValue } else { ownSkipped = newValue } }
    }
    private var ownSkipped = 0
    private let mainThread: OpaquePointer

    /// A dataset in `state` (whose main thread releases the Lua references it holds).
    public init(_ kind: Kind, state: LuaState) {
        self.kind = kind
        mainThread = state.mainThread
    }

    deinit {
        switch kind {
        case .list(let r), .map(_, let r), .filter(_, let r): r.release(mainThread: mainThread)
        default: break
        }
    }

    /// The dataset this one is derived from.
    public var parent: Dataset? {
        switch kind {
        case .map(let d, _), .filter(let d, _), .take(let d, _): return d
        default: return nil
        }
    }

    /// "dataset(jsonl /x.jsonl) | map | take(10)".
    public var description: String {
        switch kind {
        case .jsonl(let p, _): return "dataset(jsonl \(p))"
        case .csv(let p, _): return "dataset(csv \(p))"
        case .list: return "dataset(list)"
        case .map(let d, _): return d.description + " | map"
        case .filter(let d, _): return d.description + " | filter"
        case .take(let d, let n): return d.description + " | take(\(n))"
        }
    }

    /// A new cursor at the first record; resets `skipped` when it opens a file.
    public func makeCursor(_ state: LuaState) throws -> RecordCursor {
        switch kind {
        case .jsonl(let path, let onError):
            skipped = 0
            return try JSONLinesCursor(path: path, onError: onError, dataset: self, state: state)
        case .csv(let path, let options):
            skipped = 0
            return try CSVCursor(path: path, options: options, dataset: self, state: state)
        case .list(let r): return ListCursor(list: r)
        case .map(let d, let fn): return MapCursor(parent: try d.makeCursor(state), fn: fn, keep: false)
        case .filter(let d, let fn): return MapCursor(parent: try d.makeCursor(state), fn: fn, keep: true)
        case .take(let d, let n): return TakeCursor(parent: try d.makeCursor(state), limit: n)
        }
    }
}

/// One pass over a dataset. `next` pushes the next record and returns true, or pushes
/// nothing and returns false at the end (after which the file is closed).
public protocol RecordCursor: AnyObject {
    /// Stack: [] -> [record] (true) or [] (false).
    func next(_ state: LuaState) throws -> Bool
    /// Closes the underlying file early (a `break` out of a loop).
    func close()
}

/// Records of a JSON Lines file, one decoded line at a time.
final class JSONLinesCursor: RecordCursor {
    let reader: JSONLinesReader
    let decoder: JSONDecoderToLua
    let onError: OnError
    let dataset: Dataset

    init(path: String, onError: OnError, dataset: Dataset, state: LuaState) throws {
        reader = try JSONLinesReader(path: path)
        decoder = JSONDecoderToLua(state: state)
        self.onError = onError
        self.dataset = dataset
    }

    func next(_ state: LuaState) throws -> Bool {
        while let line = try reader.nextLine() {
            do {
                try decoder.push(line, into: state)
                return true
            } catch let e as JSONSyntaxError {
                if onError == .skip { dataset.skipped += 1; continue }
                let what = reader.lastLineUnterminated ? " (last line, no newline: truncated?)" : ""
                throw DataFileError("\(reader.path):\(reader.lineNumber): \(e)\(what)", row: true)
            }
        }
        reader.close()
        return false
    }

    func close() { reader.close() }
}

/// The items of a Lua list, 1..#list.
final class ListCursor: RecordCursor {
    let list: LuaRef
    var i: Int64 = 0
    init(list: LuaRef) { self.list = list }

    func next(_ state: LuaState) throws -> Bool {
        i += 1
        state.push(ref: list)
        let t = state.rawGet(index: i, of: -1)
        state.remove(at: -2)
        if t == LuaType.nil.rawValue { state.pop(); return false }
        return true
    }

    func close() { i = Int64.max - 1 }
}

/// `map` (keep = false: records replaced by fn(record), nil drops one) and `filter`
/// (keep = true: records kept where fn(record) is truthy).
final class MapCursor: RecordCursor {
    let parent: RecordCursor
    let fn: LuaRef
    let keep: Bool
    init(parent: RecordCursor, fn: LuaRef, keep: Bool) { self.parent = parent; self.fn = fn; self.keep = keep }

    func next(_ state: LuaState) throws -> Bool {
        while try parent.next(state) {
            if keep { state.pushValue(at: -1) }
            state.push(ref: fn)
            state.insert(at: -2)
            try state.pcall(nargs: 1, nresults: 1)
            if keep {
                let ok = state.boolean(at: -1)
                state.pop()
                if ok { return true }
                state.pop()
            } else {
                if !state.isNil(-1) { return true }
                state.pop()
            }
        }
        return false
    }

    func close() { parent.close() }
}

/// The first `limit` records.
final class TakeCursor: RecordCursor {
    let parent: RecordCursor
    let limit: Int
    var taken = 0
    init(parent: RecordCursor, limit: Int) { self.parent = parent; self.limit = limit }

    func next(_ state: LuaState) throws -> Bool {
        guard taken < limit else { parent.close(); return false }
        guard try parent.next(state) else { return false }
        taken += 1
        return true
    }

    func close() { parent.close() }
}
