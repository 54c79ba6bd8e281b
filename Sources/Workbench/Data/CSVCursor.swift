import LuaKit

/// Records of a CSV file as Lua tables: field name → value with a header row, else arrays.
/// A field that is a JSON-style number (`-12`, `3.5`, `1e-3`; not `007`, ` 1`, `1,000`,
/// `0x10`, `inf`) becomes a Lua number when `numbers` is on; every other field, the empty
/// one included, stays a string.
final class CSVCursor: RecordCursor {
    let reader: CSVReader
    let decoder: JSONDecoderToLua
    let options: CSVOptions
    let dataset: Dataset
    var names: [[UInt8]] = []

    init(path: String, options: CSVOptions, dataset: Dataset, state: LuaState) throws {
        reader = try CSVReader(path: path, separator: options.separator)
        decoder = JSONDecoderToLua(state: state)
        self.options = options
        self.dataset = dataset
        if options.header {
            guard try reader.nextRecord() else { return }
            names = (0..<reader.fieldCount).map { reader.fieldBytes($0) }
        }
    }

    func next(_ state: LuaState) throws -> Bool {
        while true {
            let more: Bool
            do { more = try reader.nextRecord() } catch let e as CSVSyntaxError { throw DataFileError(e.message) }
            guard more else { reader.close(); return false }
            let n = reader.fieldCount
            if options.header, n != names.count {
                if options.onError == .skip { dataset.skipped += 1; continue }
                throw DataFileError("\(reader.path):\(reader.lineNumber): expected \(names.count) fields (as the header), got \(n)", row: true)
            }
            state.createTable(array: options.header ? 0 : Int32(n), record: options.header ? Int32(n) : 0)
            for i in 0..<n {
                if options.header {
                    if names[i].isEmpty { state.push(integer: Int64(i + 1)) } else { state.push(bytes: names[i]) }
                }
                pushField(reader.field(i), state)
                if options.header { state.rawSetPair(of: -3) } else { state.rawSet(index: Int64(i + 1), of: -2) }
            }
            return true
        }
    }

    /// Pushes a field: a number when it parses cleanly as one, else its bytes.
    private func pushField(_ f: UnsafeRawBufferPointer, _ state: LuaState) {
        if options.numbers, let first = f.first, let last = f.last,
           first == UInt8(ascii: "-") || first &- 48 < 10, last &- 48 < 10 {
            if (try? decoder.push(f, into: state)) != nil { return }
        }
        state.push(bytes: f)
    }

    func close() { reader.close() }
}
