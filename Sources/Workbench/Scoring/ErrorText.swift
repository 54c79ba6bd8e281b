/// Error messages as a user should read them: a position inside moonlab's own Lua chunks
/// (`reward:138: `, `detect:40: `, `portable:12: `) means nothing to them, so it is cut from
/// the front of a message, however many such prefixes are stacked. Positions in the user's
/// own files (`rewards.lua:4: `) are kept.
public enum ErrorText {
    /// The names moonlab gives its own chunks (`=reward` and so on, `lua_load`'s `=` form).
    static let internalChunks: [String] = ["reward", "detect", "portable", "score", "worker", "moonlab", "export", "plugin", "re"]

    /// `message` without leading internal positions.
    public static func clean(_ message: String) -> String {
        var rest = Substring(message)
        while let cut = internalPrefixLength(rest) { rest = rest.dropFirst(cut) }
        return rest.count == message.count ? message : String(rest)
    }

    /// The length of "name:digits: " at the start of `s` when `name` is an internal chunk.
    private static func internalPrefixLength(_ s: Substring) -> Int? {
        for name in internalChunks where s.hasPrefix(name) {
            let utf8 = s.utf8
            var i = utf8.index(utf8.startIndex, offsetBy: name.utf8.count)
            guard i < utf8.endIndex, utf8[i] == UInt8(ascii: ":") else { continue }
            i = utf8.index(after: i)
            var digits = 0
            while i < utf8.endIndex, utf8[i] &- 48 < 10 { i = utf8.index(after: i); digits += 1 }
            guard digits > 0, i < utf8.endIndex, utf8[i] == UInt8(ascii: ":") else { continue }
            i = utf8.index(after: i)
            if i < utf8.endIndex, utf8[i] == UInt8(ascii: " ") { i = utf8.index(after: i) }
            return utf8.distance(from: utf8.startIndex, to: i)
        }
        return nil
    }
}
