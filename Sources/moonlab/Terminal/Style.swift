import Workbench

/// ANSI styles, applied only when standard output is a terminal and `NO_COLOR` is unset
/// (the prompt also drops them when `moonlab.color` is set to false).
struct Style {
    var enabled: Bool

    static let terminal = Style(enabled: Platform.wantsColor(1))

    func paint(_ s: String, _ code: String) -> String { enabled ? "\u{1b}[\(code)m\(s)\u{1b}[0m" : s }
    func error(_ s: String) -> String { paint(s, "31") }
    func dim(_ s: String) -> String { paint(s, "2") }
    func bold(_ s: String) -> String { paint(s, "1") }
    func accent(_ s: String) -> String { paint(s, "36") }

    /// A prompt string for libedit, with the escapes marked as zero-width (\1 ... \1).
    func prompt(_ s: String) -> String { enabled ? "\u{1}\u{1b}[32m\u{1}\(s)\u{1}\u{1b}[0m\u{1}" : s }
}
