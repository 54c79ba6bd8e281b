#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The `Date` header of the answers `LoopScoringHandler` writes itself (Hummingbird adds it
/// to the others): IMF-fixdate, e.g. "Sat, 05 Dec 2026 05:30:00 GMT". Written by hand, not by
/// `strftime`, whose day and month names follow the locale. Each connection's handler keeps
/// the last second's text, so most answers only read the clock.
struct HTTPDate {
    private var second = -1
    private var text = ""

    /// The date of now, made at most once a second.
    mutating func now() -> String {
        let t = time(nil)
        if t != second {
            second = t
            text = HTTPDate.format(t)
        }
        return text
    }

    static func format(_ t: Int) -> String {
        var tm = tm()
        var seconds = time_t(t)
        gmtime_r(&seconds, &tm)
        let days = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"]
        let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
        func two(_ n: Int32) -> String { n < 10 ? "0\(n)" : "\(n)" }
        return "\(days[Int(tm.tm_wday)]), \(two(tm.tm_mday)) \(months[Int(tm.tm_mon)]) \(tm.tm_year + 1900) "
            + "\(two(tm.tm_hour)):\(two(tm.tm_min)):\(two(tm.tm_sec)) GMT"
    }
}
