import LuaKit

/// What a replay found.
public struct ReplayReport {
    public struct Divergence {
        public var n: Int
        public var input: String
        public var expected: String
        public var actual: String
    }
    public var entries = 0
    public var divergences: [Divergence] = []
    /// Line numbers of the file that could not be read (a line cut by a crash).
    public var unreadableLines: [Int] = []
    public var seconds = 0.0
    /// True when Ctrl-C stopped the replay before its last entry.
    public var interrupted = false
    public var passed: Bool { divergences.isEmpty && !interrupted }
}

/// Runs every input of a session in a fresh state seeded from the header and compares
/// each output with the recorded one.
public final class Replayer {
    public let file: SessionFormat.File
    public let workbench: Workbench
    public let evaluator: Evaluator
    /// Relative tolerance for numbers inside outputs (nil: exact text).
    public var tolerance: Double?
    /// The entries with their new outputs (for `--update`).
    public private(set) var replayed: [SessionFormat.Entry] = []
    private var position = 0

    public init(file: SessionFormat.File, options: WorkbenchOptions) throws {
        self.file = file
        var o = options
        o.seed = file.header.seed
        o.replaying = true
        if file.header.sandbox { o.sandbox = true }  // as recorded; --sandbox can only add it
        o.onlyPlugins = Set(file.header.plugins.map(\.name))  // the session's, not every one found
        o.pictureSize = file.header.pictureSize ?? (80, 24)
        workbench = try Workbench(options: o)
        evaluator = Evaluator(workbench)
        if let i = file.header.initChunk {
            // what MOONLAB_INIT ran before the first entry (its failure, if any, failed then too)
            try? workbench.runInitChunk(name: i.name, code: i.code)
            workbench.initChunk = i
        }
    }

    /// Problems with the plugins the session needs, found before replay starts.
    public func pluginProblems(loaded: [SessionFormat.Header.Plugin]) -> [String] {
        file.header.plugins.compactMap { need in
            guard let have = loaded.first(where: { $0.name == need.name }) else {
                return "plugin \(need.name) \(need.version) is not available"
            }
            return have.version == need.version ? nil : "plugin \(need.name) is \(have.version), the session used \(need.version)"
        }
    }

    /// Whether entries remain.
    public var hasNext: Bool { position < file.entries.count }

    /// Replays the next entry; returns it, its evaluation, and the divergence if any.
    public func step() -> (SessionFormat.Entry, Evaluation, ReplayReport.Divergence?) {
        let e = file.entries[position]
        position += 1
        if !e.ok, let err = e.error, err.hasSuffix("interrupted") {
            // stopped by Ctrl-C when it was recorded (a loop that never ends, perhaps): not run again
            replayed.append(e)
            return (e, Evaluation(status: .error, error: err), nil)
        }
        workbench.clock.begin(replaying: e.clock)
        workbench.modelTap.begin(replaying: e.model)
        let r = evaluator.evaluate(e.input, entry: e.n)
        let actualError = r.error ?? (r.status == .incomplete ? "<incomplete chunk>" : "")
        // a failed entry: what it printed before the error is compared too
        let expected = e.ok ? e.output : e.output + (e.error ?? "")
        let actual = r.status == .ok ? r.output : r.output + actualError
        var updated = e
        updated.ok = r.status == .ok
        updated.output = r.output
        updated.error = r.status == .ok ? nil : actualError
        updated.clock = workbench.clock.observed
        updated.model = workbench.modelTap.observed
        replayed.append(updated)
        let same = (e.ok == (r.status == .ok)) && OutputComparison.matches(expected, actual, tolerance: tolerance)
        return (e, r, same ? nil : .init(n: e.n, input: e.input, expected: expected, actual: actual))
    }

    /// Replays every remaining entry.
    public func run() -> ReplayReport {
        var report = ReplayReport()
        report.unreadableLines = file.unreadableLines
        let t0 = Clock.now()
        while hasNext {
            if LuaInterrupt.isPending { report.interrupted = true; break }
            let (_, _, d) = step()
            report.entries += 1
            if let d { report.divergences.append(d) }
        }
        report.seconds = Clock.now() - t0
        return report
    }

    /// Rewrites the session file with the replayed outputs (`--update`).
    public func writeUpdated(to path: String) throws {
        let rec = try SessionRecorder(path: path, header: file.header)
        for e in replayed { rec.write(entry: e) }
    }
}

/// Compares a recorded output with a replayed one: memory addresses as `tostring` shows them
/// (`table: 0x55d0c8a2b3c0`, `file (0x7f...)`: 8 or more hex digits after ": " or "(") are not
/// compared, and with a tolerance, numbers inside the text are compared relatively. Any other
/// `0x...` is compared as text, so a changed hex value (`string.format("0x%x", n)`) diverges.
public enum OutputComparison {
    public static func matches(_ a: String, _ b: String, tolerance: Double?) -> Bool {
        if a == b { return true }
        let ta = tokens(Workbench.strippingANSI(a)), tb = tokens(Workbench.strippingANSI(b))
        guard ta.count == tb.count else { return false }
        for (x, y) in zip(ta, tb) {
            switch (x, y) {
            case (.text(let s), .text(let t)): if s != t { return false }
            case (.address, .address): continue
            case (.number(let p, let ps), .number(let q, let qs)):
                if ps == qs { continue }
                guard let tol = tolerance else { return false }
                if p.isNaN && q.isNaN { continue }
                let scale = max(abs(p), abs(q))
                if !(abs(p - q) <= tol * scale) { return false }
            default: return false
            }
        }
        return true
    }

    enum Token: Equatable { case text(String), number(Double, String), address }

    static func tokens(_ s: String) -> [Token] {
        var out: [Token] = []
        let c = Array(s.unicodeScalars)
        var i = 0
        var text = ""
        func flush() { if !text.isEmpty { out.append(.text(text)); text = "" } }
        func isDigit(_ u: Unicode.Scalar) -> Bool { ("0"..."9").contains(u) }
        while i < c.count {
            if c[i] == "0", i + 1 < c.count, c[i + 1] == "x", text.hasSuffix(": ") || text.hasSuffix("(") {
                var j = i + 2
                while j < c.count, c[j].properties.isASCIIHexDigit { j += 1 }
                if j >= i + 2 + 8 { flush(); out.append(.address); i = j; continue }
            }
            let prevIsWord = i > 0 && (c[i - 1].properties.isAlphabetic || c[i - 1] == "_")
            if !prevIsWord, isDigit(c[i]) || ((c[i] == "-" || c[i] == ".") && i + 1 < c.count && isDigit(c[i + 1])) {
                var j = i + 1
                while j < c.count, isDigit(c[j]) || c[j] == "." || c[j] == "e" || c[j] == "E"
                        || ((c[j] == "-" || c[j] == "+") && (c[j - 1] == "e" || c[j - 1] == "E")) { j += 1 }
                let lit = String(String.UnicodeScalarView(c[i..<j]))
                if let d = Double(lit) { flush(); out.append(.number(d, lit)); i = j; continue }
            }
            text.unicodeScalars.append(c[i])
            i += 1
        }
        flush()
        return out
    }

    /// A line diff of two outputs (for long ones), `-` expected, `+` actual.
    public static func diff(_ expected: String, _ actual: String) -> String {
        let a = expected.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        let b = actual.split(separator: "\n", omittingEmptySubsequences: false).map(String.init)
        var lcs = [[Int]](repeating: [Int](repeating: 0, count: b.count + 1), count: a.count + 1)
        for i in stride(from: a.count - 1, through: 0, by: -1) {
            for j in stride(from: b.count - 1, through: 0, by: -1) {
                lcs[i][j] = a[i] == b[j] ? lcs[i + 1][j + 1] + 1 : max(lcs[i + 1][j], lcs[i][j + 1])
            }
        }
        var out: [String] = []
        var i = 0, j = 0
        while i < a.count || j < b.count {
            if i < a.count, j < b.count, a[i] == b[j] { out.append("  " + a[i]); i += 1; j += 1 }
            else if j < b.count, i == a.count || lcs[i][j + 1] >= lcs[i + 1][j] { out.append("+ " + b[j]); j += 1 }
            else { out.append("- " + a[i]); i += 1 }
        }
        return out.joined(separator: "\n")
    }
}
