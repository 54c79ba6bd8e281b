import Foundation
import Workbench

/// The numbers `moonlab score` prints at the end: rows, errors, each reward's mean and
/// quantiles with its NaN/inf, not-applicable (nil) and failed rows, each detector's flag
/// rate, and the most frequent error messages. With `--resume` the lines already in the
/// output are counted too, so the summary is always of the whole file. Memory stays
/// bounded: each reward keeps at most `sampleSize` values (a uniform reservoir sample,
/// deterministic), so quantiles are exact up to that many rows and estimates beyond
/// (marked `~`); means are always exact; at most `distinctMessages` different error
/// messages are counted one by one.
final class ScoreSummary {
    static let sampleSize = 200_000
    static let distinctMessages = 10_000
    static let messagesShown = 5

    let names: ScoringNames
    private var stats: [RewardStats]
    private var nonFinite: [Int]
    private var notApplicable: [Int]
    private var failed: [Int]
    private var flagged: [(flags: Int, rows: Int)]
    private var messages: [String: Int] = [:]
    private var otherMessages = 0
    private(set) var rows = 0
    private(set) var errors = 0

    init(names: ScoringNames) {
        self.names = names
        let r = names.rewards.count
        stats = (0..<r).map { _ in RewardStats(capacity: ScoreSummary.sampleSize) }
        nonFinite = Array(repeating: 0, count: r)
        notApplicable = nonFinite
        failed = nonFinite
        flagged = Array(repeating: (0, 0), count: names.detectors.count)
    }

    /// Counts one row (in output order) given as its values and outcomes, and the whole
    /// row when it has failures or detector flags.
    func add(values: UnsafeBufferPointer<Double>, outcomes: UnsafeBufferPointer<RewardOutcome>, row: ScoredRow?) {
        if let row { add(row); return }
        rows += 1
        for k in 0..<min(values.count, stats.count) {
            switch outcomes[k] {
            case .value: stats[k].add(values[k])
            case .nonFinite: nonFinite[k] += 1
            case .notApplicable: notApplicable[k] += 1
            case .failed: failed[k] += 1
            }
        }
    }

    /// Counts one row (in output order).
    func add(_ row: ScoredRow) {
        rows += 1
        guard !row.failures.isEmpty || row.outcomes.contains(where: { $0 != .value }) else {
            for (k, v) in row.values.enumerated() { stats[k].add(v) }
            countFlags(row)
            return
        }
        if !row.failures.isEmpty {
            errors += 1
            for f in row.failures { count(message: f.name + ": " + f.message) }
        }
        for (k, outcome) in row.outcomes.enumerated() where k < stats.count {
            switch outcome {
            case .value: stats[k].add(row.values[k])
            case .nonFinite: nonFinite[k] += 1
            case .notApplicable: notApplicable[k] += 1
            case .failed: if row.inputError == nil { failed[k] += 1 }
            }
        }
        countFlags(row)
    }

    private func countFlags(_ row: ScoredRow) {
        for (k, f) in row.detectorFlags.enumerated() where k < flagged.count {
            guard let f else { continue }
            flagged[k].rows += 1
            if f.flag { flagged[k].flags += 1 }
        }
    }

    private func count(message: String) {
        if let n = messages[message] { messages[message] = n + 1 }
        else if messages.count < ScoreSummary.distinctMessages { messages[message] = 1 }
        else { otherMessages += 1 }
    }

    /// Counts a line already in the output (`--resume`): its `rewards`, `nonfinite`,
    /// `flags`, `errors` and `error` fields as `ScoreJSON` wrote them.
    func add(outputLine text: [UInt8]) {
        var row = ScoredRow(names: names)
        let m = ScoreJSON.members(Set(ScoreJSON.added), of: text)
        func object(_ key: String) -> [String: Any] {
            guard let slice = m[key] else { return [:] }
            return ((try? JSONSerialization.jsonObject(with: Data(slice), options: [])) as? [String: Any]) ?? [:]
        }
        let rewards = object("rewards"), nonfinite = object("nonfinite"), errs = object("errors"), flags = object("flags")
        var error: String?
        if let slice = m["error"] {
            error = (try? JSONSerialization.jsonObject(with: Data(slice), options: [.fragmentsAllowed])) as? String
        }
        if m["rewards"] == nil, let error {  // an input line that could not be read
            rows += 1
            errors += 1
            count(message: "input: " + ScoreSummary.withoutLineNumber(error))
            return
        }
        for (k, name) in names.rewards.enumerated() {
            if let n = rewards[name] as? NSNumber {
                row.values[k] = n.doubleValue
                row.outcomes[k] = .value
            } else if let spelled = nonfinite[name] as? String {
                row.values[k] = spelled == "nan" ? .nan : spelled == "-inf" ? -.infinity : .infinity
                row.outcomes[k] = .nonFinite
            } else if rewards[name] is NSNull, errs[name] == nil {
                row.outcomes[k] = .notApplicable
            }
        }
        for (name, message) in errs { row.failures.append((name, message as? String ?? "\(message)")) }
        if row.failures.isEmpty, let error { row.failures.append(("error", error)) }
        for (k, name) in names.detectors.enumerated() {
            guard let f = flags[name] as? [String: Any] else { continue }
            row.detectorFlags[k] = DetectorFlag(flag: f["flag"] as? Bool ?? false,
                                                score: (f["score"] as? NSNumber)?.doubleValue, reason: f["reason"] as? String)
        }
        add(row)
    }

    /// "input line 12: not valid JSON" -> "not valid JSON" (so equal messages count together).
    private static func withoutLineNumber(_ s: String) -> String {
        guard s.hasPrefix("input line "), let colon = s.firstIndex(of: ":") else { return s }
        return String(s[s.index(after: colon)...].drop { $0 == " " })
    }

    /// The report: a header line, a table of rewards, a table of detectors, the most
    /// frequent error messages.
    func report(seconds: Double, resumed: Int, destination: String) -> String {
        let scored = rows - resumed
        let rate = seconds > 0 ? Double(scored) / seconds : 0
        var lines: [String]
        if resumed > 0 {
            lines = [String(format: "scored %d rows in %.2f s (%.0f rows/s) -> %@ (resumed: %d rows were already there); the whole file: %d rows, %d with errors",
                            scored, seconds, rate, destination, resumed, rows, errors)]
        } else {
            lines = [String(format: "scored %d rows in %.2f s (%.0f rows/s), %d with errors -> %@",
                            scored, seconds, rate, errors, destination)]
        }
        let w = max(8, (names.rewards + names.detectors).map(\.count).max() ?? 0)
        func pad(_ s: String) -> String { s.padding(toLength: w, withPad: " ", startingAt: 0) }
        if !names.rewards.isEmpty {
            lines.append(pad("reward") + "         n        mean          p5         p50         p95   nan/inf     n/a  errors")
            for (k, s) in stats.enumerated() {
                let q = s.quantiles([0.05, 0.5, 0.95])
                let mark = s.count > s.capacity ? "~" : " "
                let mean = s.count > 0 ? s.sum / Double(s.count) : .nan
                lines.append(pad(names.rewards[k]) + right(String(s.count), 10) + right(num(mean), 12)
                             + q.map { right(num($0), 12) }.joined() + mark
                             + right(String(nonFinite[k]), 9) + right(String(notApplicable[k]), 8)
                             + right(String(failed[k]), 8))
            }
        }
        if !names.detectors.isEmpty {
            lines.append(pad("detector") + "         n   flag rate")
            for (k, name) in names.detectors.enumerated() {
                let c = flagged[k]
                let r = c.rows > 0 ? Double(c.flags) / Double(c.rows) : .nan
                lines.append(pad(name) + right(String(c.rows), 10) + right(num(r), 12))
            }
        }
        if !messages.isEmpty {
            let top = messages.sorted { $0.value != $1.value ? $0.value > $1.value : $0.key < $1.key }
            lines.append("most frequent errors:")
            for (message, n) in top.prefix(ScoreSummary.messagesShown) {
                lines.append(right(String(n), 8) + "x  " + ScoreSummary.oneLine(message))
            }
            let rest = top.dropFirst(ScoreSummary.messagesShown).reduce(0) { $0 + $1.value } + otherMessages
            if rest > 0 { lines.append(right(String(rest), 8) + "x  (other messages)") }
        }
        return lines.joined(separator: "\n") + "\n"
    }

    /// A message on one line, at most 160 characters.
    private static func oneLine(_ s: String) -> String {
        let flat = s.replacingOccurrences(of: "\n", with: " ")
        return flat.count > 160 ? String(flat.prefix(159)) + "…" : flat
    }

    private func num(_ x: Double) -> String { x.isFinite ? String(format: "%.4g", x) : "-" }

    private func right(_ s: String, _ width: Int) -> String {
        String(repeating: " ", count: max(1, width - s.count)) + s
    }
}

/// One reward's running sum and a reservoir sample of its values.
struct RewardStats {
    let capacity: Int
    private(set) var count = 0
    private(set) var sum = 0.0
    private var sample: [Double] = []
    private var rng: UInt64 = 0x9E37_79B9_7F4A_7C15

    init(capacity: Int) { self.capacity = capacity }

    mutating func add(_ v: Double) {
        count += 1
        sum += v
        if sample.count < capacity { sample.append(v); return }
        rng = rng &* 6364136223846793005 &+ 1442695040888963407  // Knuth's MMIX LCG
        let j = Int((rng >> 11) % UInt64(count))
        if j < capacity { sample[j] = v }
    }

    /// Quantiles with linear interpolation between order statistics (numpy's default).
    func quantiles(_ ps: [Double]) -> [Double] {
        guard !sample.isEmpty else { return ps.map { _ in .nan } }
        let s = sample.sorted()
        return ps.map { p in
            let h = p * Double(s.count - 1)
            let lo = Int(h.rounded(.down)), hi = min(lo + 1, s.count - 1)
            return s[lo] + (h - Double(lo)) * (s[hi] - s[lo])
        }
    }
}
