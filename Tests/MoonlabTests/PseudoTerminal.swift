import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// Runs the built `moonlab` in a pseudo-terminal, as a person at a terminal would: keys
/// go in, the screen's bytes come out. Ctrl-C is the real thing (the byte 0x03 through
/// the terminal's line discipline, which sends SIGINT to the foreground process).
final class PseudoTerminal {
    let master: Int32
    let pid: pid_t
    private(set) var transcript = ""

    /// The moonlab binary built beside this test bundle.
    static var moonlabPath: String {
        let testBinary = URL(fileURLWithPath: CommandLine.arguments[0])
        var dir = testBinary.deletingLastPathComponent()
        if dir.lastPathComponent.hasSuffix(".xctest") { dir = dir.deletingLastPathComponent() }
        return dir.appendingPathComponent("moonlab").path
    }

    init(arguments: [String] = [], environment: [String: String]) throws {
        var env = ProcessInfo.processInfo.environment
        for (k, v) in environment { env[k] = v }
        env["TERM"] = "xterm"
        let path = PseudoTerminal.moonlabPath
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        let envp: [UnsafeMutablePointer<CChar>?] = env.map { strdup("\($0.key)=\($0.value)") } + [nil]
        var m: Int32 = 0
        var size = winsize(ws_row: 40, ws_col: 100, ws_xpixel: 0, ws_ypixel: 0)
        let child = forkpty(&m, nil, nil, &size)
        if child == 0 {
            execve(path, argv, envp)
            _exit(127)
        }
        guard child > 0 else { throw POSIXError(.EAGAIN) }
        master = m
        pid = child
        consumed = transcript.startIndex
        _ = fcntl(master, F_SETFL, fcntl(master, F_GETFL) | O_NONBLOCK)
    }

    deinit {
        kill(pid, SIGKILL)
        var status: Int32 = 0
        waitpid(pid, &status, 0)
        close(master)
    }

    /// Types text (use "\r" for Enter, "\t" for Tab, "\u{3}" for Ctrl-C, "\u{4}" for Ctrl-D).
    func send(_ text: String) {
        var bytes = Array(text.utf8)
        _ = bytes.withUnsafeMutableBytes { write(master, $0.baseAddress, $0.count) }
    }

    /// Reads until `needle` appears in the transcript after `from`, or the timeout.
    @discardableResult
    func expect(_ needle: String, timeout: Double = 10, file: StaticString = #filePath, line: UInt = #line) -> Bool {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            pump()
            if let r = transcript.range(of: needle, range: consumed..<transcript.endIndex) {
                consumed = r.upperBound
                return true
            }
            usleep(10_000)
        }
        return false
    }

    /// Where the last `expect` matched; the next search starts there.
    private var consumed: String.Index


    /// Drains what the program wrote so far.
    func pump() {
        var buf = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = read(master, &buf, buf.count)
            if n <= 0 { break }
            let before = transcript.distance(from: transcript.startIndex, to: consumed)
            transcript += String(decoding: buf[0..<n], as: UTF8.self)
            consumed = transcript.index(transcript.startIndex, offsetBy: before)
        }
    }

    /// Waits for the program to exit; its exit status, or nil on timeout.
    func waitForExit(timeout: Double = 10) -> Int32? {
        let deadline = Date().addingTimeInterval(timeout)
        while Date() < deadline {
            pump()
            var status: Int32 = 0
            if waitpid(pid, &status, WNOHANG) == pid { return (status >> 8) & 0xff }
            usleep(10_000)
        }
        return nil
    }
}
