import Foundation

/// The session file format of Docs/design.md: JSON Lines, a header line, then one line per
/// entry. Written line by line and flushed, so a crash loses at most the entry in flight.
public enum SessionFormat {
    public static let version = 1

    /// The header: format version, moonlab's and Lua's versions, the seed, the start time
    /// and the plugins with versions.
    public struct Header: Equatable {
        public var version = Workbench.version
        public var lua = "Lua 5.4"
        public var seed = 0
        public var started = ""
        public var plugins: [Plugin] = []
        /// The size pictures were drawn at (columns, rows), so a replay draws the same.
        public var pictureSize: (columns: Int, rows: Int)? = nil
        /// What `MOONLAB_INIT` ran before the first entry: its chunk name (`=MOONLAB_INIT`, or
        /// `@FILE` for `@FILE`) and its code, run again by a replay before the first entry.
        public var initChunk: (name: String, code: String)? = nil
        /// Recorded under `--sandbox` (no io, os.execute, ...): a replay runs sandboxed too.
        public var sandbox = false

        public static func == (a: Header, b: Header) -> Bool {
            a.version == b.version && a.lua == b.lua && a.seed == b.seed && a.started == b.started
                && a.plugins == b.plugins && a.pictureSize?.columns == b.pictureSize?.columns
                && a.pictureSize?.rows == b.pictureSize?.rows
                && a.initChunk?.name == b.initChunk?.name && a.initChunk?.code == b.initChunk?.code
                && a.sandbox == b.sandbox
        }

        public struct Plugin: Equatable {
            public var name: String
            public var version: String
            public init(name: String, version: String) { self.name = name; self.version = version }
        }

        public init() {}
    }

    /// One entry: its input, whether it succeeded, what it printed or its error, its time,
    /// and the values of clock calls (`os.time()`...) served back in replay.
    public struct Entry: Equatable {
        public var n: Int
        public var input: String
        public var ok: Bool
        public var output: String
        public var error: String?
        public var ms: Double
        public var clock: [Double] = []
        /// The model calls the entry made (each a JSON object: url, request, status,
        /// response or error), answered from here in replay.
        public var model: [String] = []

        public init(n: Int, input: String, ok: Bool, output: String, error: String?, ms: Double, clock: [Double] = []) {
            self.n = n; self.input = input; self.ok = ok; self.output = output
            self.error = error; self.ms = ms; self.clock = clock
        }
    }

    static func encode(_ h: Header) -> String {
        let plugins = h.plugins.map { "{\"name\":\(JSONText.quote($0.name)),\"version\":\(JSONText.quote($0.version))}" }
        return "{\"moonlab_session\":\(version),\"version\":\(JSONText.quote(h.version)),\"lua\":\(JSONText.quote(h.lua))," +
            "\"seed\":\(h.seed),\"started\":\(JSONText.quote(h.started)),\"plugins\":[\(plugins.joined(separator: ","))]" +
            (h.pictureSize.map { ",\"picture\":[\($0.columns),\($0.rows)]" } ?? "") +
            (h.sandbox ? ",\"sandbox\":true" : "") +
            (h.initChunk.map { ",\"init\":{\"chunk\":\(JSONText.quote($0.name)),\"code\":\(JSONText.quote($0.code))}" } ?? "") + "}"
    }

    static func encode(_ e: Entry) -> String {
        var s = "{\"n\":\(e.n),\"input\":\(JSONText.quote(e.input)),\"ok\":\(e.ok),"
        if e.ok { s += "\"output\":\(JSONText.quote(e.output)),\"error\":null," } else {
            s += "\"output\":\(JSONText.quote(e.output)),\"error\":\(JSONText.quote(e.error ?? "")),"
        }
        s += "\"ms\":\(JSONText.number((e.ms * 1000).rounded() / 1000))"
        if !e.clock.isEmpty { s += ",\"clock\":[\(e.clock.map(JSONText.number).joined(separator: ","))]" }
        if !e.model.isEmpty { s += ",\"model\":[\(e.model.joined(separator: ","))]" }
        return s + "}"
    }

    /// A session read back: the header, the entries, and how many lines could not be read
    /// (a file cut mid-line by a crash still gives what it holds).
    public struct File {
        public var header: Header
        public var entries: [Entry]
        public var unreadableLines: [Int]
    }

    /// Reads a session file. Throws when the header is missing or not a moonlab session.
    public static func read(path: String) throws -> File {
        guard let text = Platform.readFile(path) else { throw SessionError("cannot read \(path)") }
        var lines = text.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        if lines.last == "" { lines.removeLast() }
        guard let first = lines.first, let h = parseObject(first), h["moonlab_session"] != nil else {
            throw SessionError("\(path): not a moonlab session (the first line must be the header)")
        }
        var header = Header()
        header.version = h["version"] as? String ?? ""
        header.lua = h["lua"] as? String ?? ""
        header.seed = (h["seed"] as? NSNumber)?.intValue ?? 0
        header.started = h["started"] as? String ?? ""
        header.plugins = (h["plugins"] as? [[String: Any]] ?? []).map {
            Header.Plugin(name: $0["name"] as? String ?? "?", version: $0["version"] as? String ?? "?")
        }
        if let p = h["picture"] as? [NSNumber], p.count == 2 { header.pictureSize = (p[0].intValue, p[1].intValue) }
        header.sandbox = (h["sandbox"] as? Bool) ?? false
        if let i = h["init"] as? [String: Any], let code = i["code"] as? String {
            header.initChunk = (i["chunk"] as? String ?? "=MOONLAB_INIT", code)
        }
        var entries: [Entry] = []
        var bad: [Int] = []
        for (i, line) in lines.enumerated().dropFirst() {
            guard let o = parseObject(line), let input = o["input"] as? String else { bad.append(i + 1); continue }
            var entry = Entry(n: (o["n"] as? NSNumber)?.intValue ?? entries.count + 1, input: input,
                              ok: (o["ok"] as? Bool) ?? true, output: o["output"] as? String ?? "",
                              error: o["error"] as? String, ms: (o["ms"] as? NSNumber)?.doubleValue ?? 0,
                              clock: (o["clock"] as? [NSNumber] ?? []).map(\.doubleValue))
            entry.model = (o["model"] as? [Any] ?? []).compactMap {
                (try? JSONSerialization.data(withJSONObject: $0)).map { String(decoding: $0, as: UTF8.self) }
            }
            entries.append(entry)
        }
        return File(header: header, entries: entries, unreadableLines: bad)
    }

    static func parseObject(_ line: String) -> [String: Any]? {
        guard let data = line.data(using: .utf8) else { return nil }
        return (try? JSONSerialization.jsonObject(with: data)) as? [String: Any]
    }

    /// The current time as ISO 8601 UTC (`2026-11-22T23:01:02Z`).
    public static func timestamp(compact: Bool = false) -> String {
        var t = time(nil)
        var tmv = tm()
        gmtime_r(&t, &tmv)
        var buf = [CChar](repeating: 0, count: 32)
        strftime(&buf, buf.count, compact ? "%Y%m%d-%H%M%S" : "%Y-%m-%dT%H:%M:%SZ", &tmv)
        return buf.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
    }
}

/// An error about a session file or a replay.
public struct SessionError: Error, CustomStringConvertible {
    public var description: String
    public init(_ d: String) { description = d }
}

/// JSON text for strings and numbers (the session writer's needs).
public enum JSONText {
    public static func quote(_ s: String) -> String {
        var out = "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if u.value < 0x20 {
                    let hex = String(u.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                } else {
                    out.unicodeScalars.append(u)
                }
            }
        }
        return out + "\""
    }

    public static func number(_ d: Double) -> String {
        guard d.isFinite else { return "null" }
        if d == d.rounded(), abs(d) < 1e15 { return String(Int64(d)) }
        return "\(d)"
    }
}
