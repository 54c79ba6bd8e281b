import Foundation
import Workbench

/// The numbers `moonlab score` prints at the end: rows, errors, each reward's mean and
/// quantiles, each detector's flag rate. Memory stays bounded: each reward keeps at most
/// `sampleSize` values (a uniform reservoir sample, deterministic), so quantiles are exact
/// up to that many rows and estimates beyond (marked `~`); means are always exact.
final class ScoreSummary {
    static let sampleSize = 200_000

    private let rewards: [String]
    private let detectors: [String]
    private var stats: [String: RewardStats] = [:]
    private var flagged: [String: (flags: Int, rows: Int)] = [:]
    private(set) var rows = 0
    private(set) var errors = 0

    init(rewards: [String], detectors: [String]) {
        self.rewards = rewards
        self.detectors = detectors
        for r in rewards { stats[r] = RewardStats(capacity: ScoreSummary.sampleSize) }
        for d in detectors { flagged[d] = (0, 0) }
    }

    /// Counts one row (in output order).
    func add(_ row: ScoredRow) {
        rows += 1
        if row.error != nil { errors += 1 }
        for name in rewards {
            if let v = row.rewards[name], v.isFinite { stats[name]?.add(v) }
        }
        for name in detectors {
            if let f = row.flags[name], var c = flagged[name] {
                c.rows += 1
                if f.flag { c.flags += 1 }
                flagged[name] = c
            }
        }
    }

    /// The report: a header line, a table of rewards, a table of detectors.
    func report(seconds: Double, resumed: Int, destination: String) -> String {
        let rate = seconds > 0 ? Double(rows) / seconds : 0
        var lines = [String(format: "scored %d rows in %.2f s (%.0f rows/s), %d with errors -> %@",
                            rows, seconds, rate, errors, destination)]
        if resumed > 0 { lines[0] += " (\(resumed) rows were already there: resumed)" }
        let w = max(8, (rewards + detectors).map(\.count).max() ?? 0)
        func pad(_ s: String) -> String { s.padding(toLength: w, withPad: " ", startingAt: 0) }
        if !rewards.isEmpty {
            lines.append(pad("reward") + "         n        mean          p5         p50         p95")
            for name in rewards {
                guard let s = stats[name] else { continue }
                let q = s.quantiles([0.05, 0.5, 0.95])
                let mark = s.count > s.capacity ? "~" : " "
                let mean = s.count > 0 ? s.sum / Double(s.count) : .nan
                lines.append(pad(name) + right(String(s.count), 10) + right(num(mean), 12)
                             + q.map { right(num($0), 12) }.joined() + mark)
            }
        }
        if !detectors.isEmpty {
            lines.append(pad("detector") + "         n   flag rate")
            for name in detectors {
                let c = flagged[name] ?? (0, 0)
                let r = c.rows > 0 ? Double(c.flags) / Double(c.rows) : .nan
                lines.append(pad(name) + right(String(c.rows), 10) + right(num(r), 12))
            }
        }
        return lines.joined(separator: "\n") + "\n"
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
