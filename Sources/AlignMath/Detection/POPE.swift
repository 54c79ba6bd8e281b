/// POPE's metrics (Li et al. 2023, RUCAIBox/POPE `evaluate.py`), with its own answer parsing.
public enum POPE {
    /// Counts and rates as `evaluate.py` prints them. Rates with a zero denominator (no
    /// "yes" predicted, no "yes" label) are NaN where the script would divide by zero.
    public struct Metrics: Equatable, Sendable {
        public var accuracy: Double, precision: Double, recall: Double, f1: Double, yesRatio: Double
        public var tp: Int, fp: Int, tn: Int, fn: Int
    }

    /// `evaluate.py`'s parsing: keep the text before the first `.`, delete commas, split on
    /// single spaces; "no" if a word is exactly `No`, `not` or `no`, else "yes".
    public static func isYes(_ answer: String) -> Bool {
        var text = answer.unicodeScalars.prefix { $0 != "." }.filter { $0 != "," }
        text.append(" ")
        var word = String.UnicodeScalarView()
        for u in text {
            if u != " " { word.append(u); continue }
            let w = String(word)
            if w == "No" || w == "not" || w == "no" { return false }
            word = String.UnicodeScalarView()
        }
        return true
    }

    /// The metrics of `answers` (free text) against `labels` (`"no"` is negative, anything
    /// else positive, as the script maps them).
    public static func evaluate(answers: [String], labels: [String]) throws -> Metrics {
        guard answers.count == labels.count else {
            throw AlignMathError.shapeMismatch("answers and labels differ in length (\(answers.count) vs \(labels.count))")
        }
        guard !answers.isEmpty else { throw AlignMathError.invalidArgument("no answers") }
        var tp = 0, fp = 0, tn = 0, fn = 0
        for (a, l) in zip(answers, labels) {
            let pred = isYes(a), label = l != "no"
            switch (pred, label) {
            case (true, true): tp += 1
            case (true, false): fp += 1
            case (false, false): tn += 1
            case (false, true): fn += 1
            }
        }
                let precision = tp + fp == 0 ? .nan : Double(tp) / Double(tp + fp)
        let recall = tp + fn == 0 ? .nan : Double(tp) / Double(tp + fn)
        let f1 = 2 * precision * recall / (precision + recall)
        return Metrics(accuracy: Double(tp + tn) / Double(answers.count), precision: precision, recall: recall, f1: f1,
                       yesRatio: Double(tp + fp) / Double(answers.count), tp: tp, fp: fp, tn: tn, fn: fn)
    }
}
