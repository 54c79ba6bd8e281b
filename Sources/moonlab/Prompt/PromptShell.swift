import LuaKit
import Workbench
#if canImport(Glibc)
import Glibc
#endif

/// `!cmd` (a shell command) and `:edit` (a chunk written in `$EDITOR`, then run). Both
/// leave moonlab's process, so neither is allowed under `--sandbox`.
extension PromptSession {
    func runShell(_ command: String) {
        guard !options.sandbox else { complain("!cmd is not allowed under --sandbox"); return }
        guard !command.isEmpty else { complain("! needs a shell command: !ls"); return }
        let r = ShellCommand.run(command, capture: !interactive)
        write(r.output)
        if r.status != 0 { write(style.dim("(exit status \(r.status))") + "\n") }
        LuaInterrupt.clear()  // a Ctrl-C meant for the command
    }

    /// `:edit` (a new chunk), `:edit fn` (the source of a Lua function, to redefine it) or
    /// `:edit FILE` (edited in place, then run with dofile). The editor is `$VISUAL`,
    /// `$EDITOR` or vi; the chunk runs as an entry when the editor exits with status 0.
    func edit(_ target: String) {
        guard !options.sandbox else { complain(":edit is not allowed under --sandbox"); return }
        var initial = ""
        var file: String? = nil
        if !target.isEmpty {
            let lua = workbench.lua
            let top = lua.top
            if Help.pushPath(lua, target), lua.type(at: -1) == .function {
                do { initial = try workbench.functionSource(at: -1) + "\n" } catch {
                    lua.top = top
                    complain(":edit \(target): \(error)")
                    return
                }
            } else if access(target, F_OK) == 0 || target.hasSuffix(".lua") {
                file = target
            } else {
                lua.top = top
                complain(":edit \(target): no Lua function or file of that name")
                return
            }
            lua.top = top
        }
        let path: String
        if let file { path = file } else {
            guard let p = ShellCommand.temporaryFile(suffix: ".lua", contents: initial) else {
                complain(":edit: cannot make a temporary file")
                return
            }
            path = p
        }
        defer { if file == nil { unlink(path) } }
        let editor = Platform.environment("VISUAL") ?? Platform.environment("EDITOR") ?? "vi"
        let r = ShellCommand.run(editor + " " + ShellCommand.quote(path), capture: !interactive)
        write(r.output)
        LuaInterrupt.clear()
        guard r.status == 0 else { complain(":edit: the editor (\(editor)) exited with status \(r.status); nothing was run"); return }
        if let file {
            evaluate("dofile(\(quoteLua(file)))")
            return
        }
        let text = Platform.readFile(path) ?? ""
        guard !text.allSatisfy({ $0.isWhitespace }) else { write(style.dim("nothing to run") + "\n"); return }
        var chunk = Substring(text)
        while chunk.last == "\n" { chunk.removeLast() }
        write(style.dim(String(chunk)) + "\n")
        if evaluate(String(chunk)).status == .incomplete { complain(":edit: the edited chunk is not complete; nothing was run") }
    }
}

/// A command run by `/bin/sh -c`, its output shared with the terminal or captured.
enum ShellCommand {
    struct Result { var status: Int32; var output: String }

    static func run(_ command: String, capture: Bool) -> Result {
        var fds: [Int32] = [-1, -1]
        if capture, pipe(&fds) != 0 { return Result(status: 127, output: "moonlab: cannot make a pipe\n") }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        if capture {
            posix_spawn_file_actions_adddup2(&actions, fds[1], 1)
            posix_spawn_file_actions_adddup2(&actions, fds[1], 2)
            posix_spawn_file_actions_addclose(&actions, fds[0])
            posix_spawn_file_actions_addclose(&actions, fds[1])
            posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        }
        let words: [String] = ["/bin/sh", "-c", command]
        let argv: [UnsafeMutablePointer<CChar>?] = words.map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, "/bin/sh", &actions, nil, argv, environ)
        if capture { close(fds[1]) }
        guard spawned == 0 else {
            if capture { close(fds[0]) }
            return Result(status: 127, output: "moonlab: cannot run /bin/sh\n")
        }
        var output: [UInt8] = []
        if capture {
            var buf = [UInt8](repeating: 0, count: 65536)
            while true {
                let n = read(fds[0], &buf, buf.count)
                if n > 0 { output.append(contentsOf: buf[0..<n]); continue }
                if n < 0 && errno == EINTR { continue }
                break
            }
            close(fds[0])
        }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        let code: Int32 = (status & 0x7f) == 0 ? (status >> 8) & 0xff : 128 + (status & 0x7f)
        return Result(status: code, output: String(decoding: output, as: UTF8.self))
    }

    /// A word for `sh`: single-quoted.
    static func quote(_ s: String) -> String { "'" + s.replacingAll("'", with: "'\\''") + "'" }

    /// A new file in `$TMPDIR` (or /tmp) holding `contents`; its path.
    static func temporaryFile(suffix: String, contents: String) -> String? {
        let dir = Platform.environment("TMPDIR") ?? "/tmp"
        var template = Array((dir + "/moonlab-edit-XXXXXX" + suffix).utf8CString)
        let fd = template.withUnsafeMutableBufferPointer { b in b.baseAddress.map { mkstemps($0, Int32(suffix.utf8.count)) } ?? -1 }
        guard fd >= 0 else { return nil }
        var text = contents
        text.withUTF8 { buf in _ = Glibc.write(fd, buf.baseAddress, buf.count) }
        close(fd)
        return template.withUnsafeBufferPointer { $0.baseAddress.map { String(cString: $0) } }
    }
}
