/// What one detector said about one row.
public struct DetectorFlag: Sendable, Equatable {
    public var flag: Bool
    public var score: Double?
    public var reason: String?
    public init(flag: Bool, score: Double?, reason: String?) {
        self.flag = flag
        self.score = score
        self.reason = reason
    }
}

/// How one reward fared on one row.
public enum RewardOutcome: UInt8, Sendable {
    /// A finite number.
    case value
    /// The reward returned nil: it does not apply to this row (TRL's None). The value is NaN,
    /// and no error is recorded.
    case notApplicable
    /// The reward returned NaN or an infinity (an error instead under `nanAsError`).
    case nonFinite
    /// The reward raised, returned something that is not a number, or never ran.
    case failed
}

/// The reward and detector names of a task, shared by every row it scores (rows hold
/// arrays in this order, not dictionaries keyed by names that never change).
public final class ScoringNames: Sendable {
    public let rewards: [String]
    public let detectors: [String]
    public init(rewards: [String], detectors: [String]) {
        self.rewards = rewards
        self.detectors = detectors
    }
    public static let none = ScoringNames(rewards: [], detectors: [])
}

/// The outcome of one row: each reward's value (NaN where it failed or did not apply), each
/// detector's flag, and the failures, in the order of the task's names.
public struct ScoredRow: Sendable {
    public let names: ScoringNames
    /// One value per reward, in `names.rewards` order.
    public var values: [Double]
    /// One outcome per reward, in `names.rewards` order.
    public var outcomes: [RewardOutcome]
    /// One flag per detector, in `names.detectors` order (nil where the detector raised).
    public var detectorFlags: [DetectorFlag?]
    /// Failed reward or detector name -> its error message, in the order they ran. A row
    /// whose text could not be read as a record has one failure named "input".
    public var failures: [(name: String, message: String)] = []

    public init(names: ScoringNames) {
        self.names = names
        values = [Double](repeating: .nan, count: names.rewards.count)
        outcomes = [RewardOutcome](repeating: .failed, count: names.rewards.count)
        detectorFlags = [DetectorFlag?](repeating: nil, count: names.detectors.count)
    }

    /// A row whose input could not be read (not JSON, not an object): no reward ran.
    public static func inputFailure(_ message: String, names: ScoringNames = .none) -> ScoredRow {
        var row = ScoredRow(names: names)
        row.failures = [("input", message)]
        return row
    }

    /// The input failure's message, if the row's text could not be read as a record.
    public var inputError: String? {
        failures.first { $0.name == "input" }?.message
    }

    /// All failures as "name: message", joined by "; ", or nil when the row scored cleanly.
    public var error: String? {
        failures.isEmpty ? nil : failures.map { "\($0.name): \($0.message)" }.joined(separator: "; ")
    }

    /// Reward name -> value (NaN where it failed or did not apply). For reading; the
    /// arrays are what the scoring paths use.
    public var rewards: [String: Double] {
        Dictionary(zip(names.rewards, values), uniquingKeysWith: { a, _ in a })
    }

    /// Detector name -> flag, for the detectors that did not raise.
    public var flags: [String: DetectorFlag] {
        var out: [String: DetectorFlag] = [:]
        for (name, f) in zip(names.detectors, detectorFlags) { if let f { out[name] = f } }
        return out
    }
}
