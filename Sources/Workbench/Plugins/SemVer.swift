/// A semantic version (`1.2.3`, `1.0.0-beta.1`, `2.0.0+build`), as plugin manifests give it.
public struct SemVer: Comparable, CustomStringConvertible, Sendable {
    public var major: Int, minor: Int, patch: Int
    /// Pre-release identifiers (`beta.1` -> ["beta", "1"]); empty for a release.
    public var prerelease: [String] = []

    public init(_ major: Int, _ minor: Int, _ patch: Int, prerelease: [String] = []) {
        self.major = major; self.minor = minor; self.patch = patch; self.prerelease = prerelease
    }

    /// Parses `MAJOR.MINOR.PATCH[-PRE][+BUILD]` strictly (three numbers, no leading zeros).
    public init?(strict text: String) {
        guard let v = SemVer.parse(text, partial: false) else { return nil }
        self = v.version
    }

    /// Parses a version that may leave out minor and patch (`0.1`, `1`), as ranges allow;
    /// `parts` says how many numbers were given.
    static func parse(_ text: String, partial: Bool) -> (version: SemVer, parts: Int)? {
        var core = Substring(text)
        if let plus = core.firstIndex(of: "+") { core = core[..<plus] }
        var pre: [String] = []
        if let dash = core.firstIndex(of: "-") {
            pre = core[core.index(after: dash)...].split(separator: ".", omittingEmptySubsequences: false).map(String.init)
            guard !pre.isEmpty, pre.allSatisfy({ !$0.isEmpty }) else { return nil }
            core = core[..<dash]
        }
        let nums = core.split(separator: ".", omittingEmptySubsequences: false)
        guard nums.count == 3 || (partial && (1...3).contains(nums.count)) else { return nil }
        var values: [Int] = []
        for n in nums {
            guard !n.isEmpty, n.allSatisfy({ $0.isASCII && $0.isNumber }), let v = Int(n),
                  n == "0" || !n.hasPrefix("0") else { return nil }
            values.append(v)
        }
        while values.count < 3 { values.append(0) }
        return (SemVer(values[0], values[1], values[2], prerelease: pre), nums.count)
    }

    public var description: String {
        "\(major).\(minor).\(patch)" + (prerelease.isEmpty ? "" : "-" + prerelease.joined(separator: "."))
    }

    public static func < (a: SemVer, b: SemVer) -> Bool {
        if (a.major, a.minor, a.patch) != (b.major, b.minor, b.patch) {
            return (a.major, a.minor, a.patch) < (b.major, b.minor, b.patch)
        }
        if a.prerelease.isEmpty || b.prerelease.isEmpty { return !a.prerelease.isEmpty && b.prerelease.isEmpty }
        for (x, y) in zip(a.prerelease, b.prerelease) where x != y {
            switch (Int(x), Int(y)) {
            case let (i?, j?): return i < j
            case (_?, nil): return true
            case (nil, _?): return false
            default: return x < y
            }
        }
        return a.prerelease.count < b.prerelease.count
    }
}

/// A version range as `requires.moonlab` gives it: comparators joined by commas or spaces,
/// all of which must hold: `>=0.1`, `>=0.1, <1.0`, `^0.1` (same major; for 0.x, same
/// minor), `~1.2` (same minor), `=0.1.0` or a bare version (exactly), `*` (any).
/// Missing minor/patch count as 0.
public struct VersionRange: CustomStringConvertible, Sendable {
    enum Op: String { case ge = ">=", gt = ">", le = "<=", lt = "<", eq = "=", caret = "^", tilde = "~" }
    let comparators: [(Op, SemVer, Int)]
    public let description: String

    /// Parses a range; nil if a part is not a comparator.
    public init?(_ text: String) {
        description = text
        var out: [(Op, SemVer, Int)] = []
        let words = text.split(whereSeparator: { $0 == "," || $0 == " " })
        for w in words where w != "*" {
            var body = Substring(w)
            var op = Op.eq
            for candidate in [Op.ge, .le, .gt, .lt, .caret, .tilde, .eq] where body.hasPrefix(candidate.rawValue) {
                op = candidate
                body = body.dropFirst(candidate.rawValue.count)
                break
            }
            if body.hasPrefix("=") { body = body.dropFirst() }  // "==1.0"
            guard let (v, parts) = SemVer.parse(String(body), partial: true) else { return nil }
            out.append((op, v, parts))
        }
        guard !words.isEmpty else { return nil }
        comparators = out
    }

    /// Whether `v` is in the range.
    public func contains(_ v: SemVer) -> Bool {
        comparators.allSatisfy { op, w, parts in
            switch op {
            case .ge: return v >= w
            case .gt: return v > w
            case .le: return v <= w
            case .lt: return v < w
            case .eq:
                if parts == 3 { return v == w }
                return v.major == w.major && (parts < 2 || v.minor == w.minor)
            case .caret:
                guard v >= w else { return false }
                return w.major > 0 ? v.major == w.major : (v.major == 0 && v.minor == w.minor)
            case .tilde:
                return v >= w && v.major == w.major && (parts < 2 || v.minor == w.minor)
            }
        }
    }
}
