import Workbench

/// The JSON bodies `moonlab serve` answers with, written as bytes.
enum RewardResponses {
    /// OpenRLHF's reply to `/get_reward`: `{"rewards": [...], "scores": [...], "extra_logs":
    /// {name: [...], ..., "moonlab/errors": [...]}}`. `rewards` is the one reward or the
    /// weighted sum (a reward returning nil, which does not apply, adds nothing); `scores` is
    /// `--score`'s reward or the same; `extra_logs` holds every reward and detector (its
    /// score, else its flag as 0/1) by name. A row where a reward raised, returned NaN/inf,
    /// ran past its budget or timed out gets `onError` everywhere and 1 in
    /// `moonlab/errors`; a value that is missing otherwise (nil, a detector that raised) is
    /// `onError` too, so no NaN or null ever reaches a trainer.
    static func getReward(_ request: ScoredRequest, version v: ServingVersion, onError: Double) -> [UInt8] {
        let n = request.rows.count
        let r = v.names.rewards.count, d = v.names.detectors.count
        var rewards = [Double](repeating: onError, count: n)
        var scores = rewards
        var errors = [Double](repeating: 0, count: n)
        var logs = [Double](repeating: onError, count: n * (r + d))  // column k at k * n
        for (i, row) in request.rows.enumerated() {
            for k in 0..<r where row.outcomes[k] == .value { logs[k * n + i] = row.values[k] }
            for k in 0..<d {
                if let f = row.detectorFlags[k] {
                    logs[(r + k) * n + i] = f.score.flatMap { $0.isFinite ? $0 : nil } ?? (f.flag ? 1 : 0)
                }
            }
            let c = combined(row, version: v, onError: onError)
            rewards[i] = c.reward
            scores[i] = c.score
            errors[i] = c.failed ? 1 : 0
        }
        var out: [UInt8] = []
        out.reserveCapacity(32 + n * 24 * (3 + r + d))
        out.append(contentsOf: "{\"rewards\":".utf8)
        appendList(rewards[...], to: &out)
        out.append(contentsOf: ",\"scores\":".utf8)
        appendList(scores[...], to: &out)
        out.append(contentsOf: ",\"extra_logs\":{".utf8)
        for k in 0..<(r + d) {
            ScoreJSON.appendString(k < r ? v.names.rewards[k] : v.names.detectors[k - r], to: &out)
            out.append(UInt8(ascii: ":"))
            appendList(logs[(k * n)..<(k * n + n)], to: &out)
            out.append(UInt8(ascii: ","))
        }
        out.append(contentsOf: "\"moonlab/errors\":".utf8)
        appendList(errors[...], to: &out)
        out.append(contentsOf: "}}".utf8)
        return out
    }

    /// A row's `rewards` and `scores` entries, and whether it failed (then both are
    /// `onError`).
    static func combined(_ row: ScoredRow, version v: ServingVersion, onError: Double) -> (reward: Double, score: Double, failed: Bool) {
        var failed = row.inputError != nil
        var sum = 0.0, applies = false
        for k in 0..<row.outcomes.count {
            switch row.outcomes[k] {
            case .value:
                sum += v.weights[k] * row.values[k]
                applies = true
            case .notApplicable: break
            case .nonFinite, .failed: failed = true
            }
        }
        if failed { return (onError, onError, true) }
        let reward = applies && sum.isFinite ? sum : onError
        guard let s = v.scoreIndex else { return (reward, reward, false) }
        return (reward, row.outcomes[s] == .value ? row.values[s] : onError, false)
    }

    /// `/score`'s reply: `{"results": [...]}`, each what `moonlab score` adds to a line
    /// (`rewards`, `flags`, and where something failed `errors` and `error`) and `reward`,
    /// what `/get_reward` would give for the row (never null); or `{"error": ...}` for a
    /// record that is not an object.
    static func score(_ request: ScoredRequest, version v: ServingVersion, onError: Double) -> [UInt8] {
        var out: [UInt8] = Array("{\"results\":[".utf8)
        for (i, row) in request.rows.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            if let input = row.inputError {
                out += Array("{\"error\":".utf8)
                ScoreJSON.appendString(input, to: &out)
                out.append(UInt8(ascii: "}"))
            } else {
                var head: [UInt8] = Array("{\"reward\":".utf8)
                ScoreJSON.appendNumber(combined(row, version: v, onError: onError).reward, to: &head)
                head.append(UInt8(ascii: "}"))
                head.withUnsafeBytes { ScoreJSON.append($0, row: row, keys: v.keys, lineNumber: i + 1, to: &out) }
            }
        }
        out += Array("]}".utf8)
        return out
    }

    /// `{"error": message}`.
    static func error(_ message: String) -> [UInt8] {
        var out: [UInt8] = Array("{\"error\":".utf8)
        ScoreJSON.appendString(message, to: &out)
        out.append(UInt8(ascii: "}"))
        return out
    }

    private static func appendList(_ values: ArraySlice<Double>, to out: inout [UInt8]) {
        out.append(UInt8(ascii: "["))
        for (i, x) in values.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            ScoreJSON.appendNumber(x, to: &out)
        }
        out.append(UInt8(ascii: "]"))
    }
}
