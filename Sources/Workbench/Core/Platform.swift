#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// Every libc and OS difference Workbench and the command line touch: standard streams,
/// terminals, environment, paths.
public enum Platform {
    /// Writes text to standard output at once (so a prompt's output interleaves right).
    public static func writeStdout(_ text: String) { write(text, to: 1) }

    /// Writes text to standard error.
    public static func writeStderr(_ text: String) { write(text, to: 2) }

    /// Writes to a file descriptor, after flushing the C streams (what Lua's io.write and
    /// print buffered comes first, so output stays in order). The C `stdout`/`stderr`
    /// globals are not touched: they are shared mutable state to Swift 6.
    static func write(_ text: String, to fd: Int32) {
        fflush(nil)
        var text = text
        text.withUTF8 { buf in
            guard var p = buf.baseAddress else { return }
            var left = buf.count
            while left > 0 {
                #if canImport(Glibc)
                let n = Glibc.write(fd, p, left)
                #else
                let n = Darwin.write(fd, p, left)
                #endif
                if n < 0 { if errno == EINTR { continue } else { return } }
                left -= n
                p += n
            }
        }
    }

    /// Whether a file descriptor is a terminal (0 stdin, 1 stdout, 2 stderr).
    public static func isTerminal(_ fd: Int32) -> Bool { isatty(fd) != 0 }

    /// An environment variable.
    public static func environment(_ key: String) -> String? {
        guard let p = getenv(key) else { return nil }
        return String(cString: p)
    }

    /// Whether output on `fd` should be coloured: a terminal, and `NO_COLOR` unset.
    public static func wantsColor(_ fd: Int32 = 1) -> Bool {
        isTerminal(fd) && (environment("NO_COLOR") ?? "").isEmpty && environment("TERM") != "dumb"
    }

    /// Columns and rows of the terminal on standard output (80x24 when unknown).
    public static func terminalSize() -> (columns: Int, rows: Int) {
        var ws = winsize()
        if ioctl(1, UInt(TIOCGWINSZ), &ws) == 0, ws.ws_col > 0 {
            return (Int(ws.ws_col), Int(ws.ws_row))
        }
        if let c = environment("COLUMNS").flatMap(Int.init) { return (c, 24) }
        return (80, 24)
    }

    /// The user's home directory.
    public static var home: String { environment("HOME") ?? "/tmp" }

    /// The folder part of a path ("" when it has none): what `NSString.deletingLastPathComponent`
    /// gives, without its trap on "." and "/" in swift-corelibs-foundation.
    public static func parentDirectory(of path: String) -> String {
        var p = Substring(path)
        while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/") else { return "" }
        if slash == p.startIndex { return "/" }
        var d = p[..<slash]
        while d.count > 1, d.hasSuffix("/") { d = d.dropLast() }
        return String(d)
    }

    /// The last part of a path ("qna.yaml" of "a/b/qna.yaml").
    public static func lastComponent(of path: String) -> String {
        var p = Substring(path)
        while p.count > 1, p.hasSuffix("/") { p = p.dropLast() }
        guard let slash = p.lastIndex(of: "/"), p.count > 1 else { return String(p) }
        return String(p[p.index(after: slash)...])
    }

    /// Reads a whole file as text, or nil.
    public static func readFile(_ path: String) -> String? {
        guard let f = fopen(path, "rb") else { return nil }
        defer { fclose(f) }
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&buf, 1, buf.count, f)
            if n <= 0 { break }
            bytes.append(contentsOf: buf[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Reads all of standard input.
    public static func readStandardInput() -> String {
        var bytes: [UInt8] = []
        var buf = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = read(0, &buf, buf.count)
            if n <= 0 { break }
            bytes.append(contentsOf: buf[0..<n])
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
