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
    ///
    /// Numbers are written once per row: a value that equals the row's `rewards` entry (its
    /// `scores` entry, a single reward's own column, as with one reward they all are) copies
    /// that entry's text instead of formatting it again.
    static func getReward(_ request: ScoredRequest, version v: ServingVersion, onError: Double) -> [UInt8] {
        let n = request.count
        let r = v.names.rewards.count, d = v.names.detectors.count
        // Each row's reward, written once; the other columns copy it where they are equal.
        var rewards = [Double](repeating: onError, count: n)
        var scores = rewards
        var errors = [Bool](repeating: false, count: n)
        var texts: [UInt8] = []
        texts.reserveCapacity(n * 20)
        var ends = [Int](repeating: 0, count: n)
        for i in 0..<n {
            let c = combined(request, i, version: v, onError: onError)
            rewards[i] = c.reward
            scores[i] = c.score
            errors[i] = c.failed
            ScoreJSON.appendNumber(c.reward, to: &texts)
            ends[i] = texts.count
        }
        // `rewards` as a JSON list, written once; a column equal to it row for row (`scores`
        // and a single reward's own, as with one reward they all are) copies it whole.
        var rewardsList: [UInt8] = [UInt8(ascii: "[")]
        rewardsList.reserveCapacity(texts.count + n + 2)
        for i in 0..<n {
            if i > 0 { rewardsList.append(UInt8(ascii: ",")) }
            rewardsList.append(contentsOf: texts[(i == 0 ? 0 : ends[i - 1])..<ends[i]])
        }
        rewardsList.append(UInt8(ascii: "]"))
        var out: [UInt8] = []
        out.reserveCapacity(64 + rewardsList.count * (2 + r + d) + n * 4)
        func list(_ value: (Int) -> Double) {
            if (0..<n).allSatisfy({ value($0).bitPattern == rewards[$0].bitPattern }) {
                out.append(contentsOf: rewardsList)
                return
            }
            out.append(UInt8(ascii: "["))
            for i in 0..<n {
                if i > 0 { out.append(UInt8(ascii: ",")) }
                let x = value(i)
                if x.bitPattern == rewards[i].bitPattern {
                    out.append(contentsOf: texts[(i == 0 ? 0 : ends[i - 1])..<ends[i]])
                } else {
                    ScoreJSON.appendNumber(x, to: &out)
                }
            }
            out.append(UInt8(ascii: "]"))
        }
        out.append(contentsOf: "{\"rewards\":".utf8)
        out.append(contentsOf: rewardsList)
        out.append(contentsOf: ",\"scores\":".utf8)
        list { scores[$0] }
        out.append(contentsOf: ",\"extra_logs\":{".utf8)
        for k in 0..<r {
            ScoreJSON.appendString(v.names.rewards[k], to: &out)
            out.append(UInt8(ascii: ":"))
            list { request.outcomes[$0 * r + k] == .value ? request.values[$0 * r + k] : onError }
            out.append(UInt8(ascii: ","))
        }
        for k in 0..<d {
            ScoreJSON.appendString(v.names.detectors[k], to: &out)
            out.append(UInt8(ascii: ":"))
            list { i in
                guard let f = request.detectorFlags[i * d + k] else { return onError }
                return f.score.flatMap { $0.isFinite ? $0 : nil } ?? (f.flag ? 1 : 0)
            }
            out.append(UInt8(ascii: ","))
        }
        out.append(contentsOf: "\"moonlab/errors\":[".utf8)
        for i in 0..<n {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            out.append(errors[i] ? UInt8(ascii: "1") : UInt8(ascii: "0"))  // 1.0 or 0.0
            out.append(UInt8(ascii: "."))
            out.append(UInt8(ascii: "0"))
        }
        out.append(contentsOf: "]}}".utf8)
        return out
    }

    /// Row `i`'s `rewards` and `scores` entries, and whether it failed (then both are
    /// `onError`).
    static func combined(_ request: ScoredRequest, _ i: Int, version v: ServingVersion, onError: Double)
        -> (reward: Double, score: Double, failed: Bool) {
        let r = v.names.rewards.count
        var failed = request.inputError(i) != nil
        var sum = 0.0, applies = false
        for k in 0..<r {
            switch request.outcomes[i * r + k] {
            case .value:
                sum += v.weights[k] * request.values[i * r + k]
                applies = true
            case .notApplicable: break
            case .nonFinite, .failed: failed = true
            }
        }
        if failed { return (onError, onError, true) }
        let reward = applies && sum.isFinite ? sum : onError
        guard let s = v.scoreIndex else { return (reward, reward, false) }
        return (reward, request.outcomes[i * r + s] == .value ? request.values[i * r + s] : onError, false)
    }

    /// `/score`'s reply: `{"results": [...]}`, each what `moonlab score` adds to a line
    /// (`rewards`, `flags`, and where something failed `errors` and `error`) and `reward`,
    /// what `/get_reward` would give for the row (never null); or `{"error": ...}` for a
    /// record that is not an object.
    static func score(_ request: ScoredRequest, version v: ServingVersion, onError: Double) -> [UInt8] {
        var out: [UInt8] = Array("{\"results\":[".utf8)
        for i in 0..<request.count {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            if let input = request.inputError(i) {
                out += Array("{\"error\":".utf8)
                ScoreJSON.appendString(input, to: &out)
                out.append(UInt8(ascii: "}"))
            } else {
                var head: [UInt8] = Array("{\"reward\":".utf8)
                ScoreJSON.appendNumber(combined(request, i, version: v, onError: onError).reward, to: &head)
                head.append(UInt8(ascii: "}"))
                let row = request.row(i)
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
}
