import Foundation
import LuaKit
import Workbench

/// The inputs moonlab reads from files and users, each fed by one harness: the bytes become
/// a file (or a chunk of Lua) and go through the function a user calls. A harness may fail
/// with a Lua error (that is the point: bad input gets an error); it must never crash,
/// hang past its budget or leak.
enum Harness: String, CaseIterable {
    case jsonl, csv, npy, npz, safetensors, session, manifest, evaluator

    /// Instructions and bytes a harness's Lua work may use.
    static let budget = 2_000_000
    static let memory = 256 << 20

    /// Runs one input.
    func run(_ data: [UInt8], in scratch: Scratch) {
        switch self {
        case .jsonl:
            let path = scratch.write(data, as: "input.jsonl")
            scratch.lua("for _, mode in ipairs({'raise', 'skip'}) do local n = 0 for r in data.jsonl(\(q(path)), {on_error = mode}):each() do n = n + 1 end end")
            scratch.lua("return data.decode(\(q(String(decoding: data.prefix(1 << 16), as: UTF8.self))))")
        case .csv:
            let path = scratch.write(data, as: "input.csv")
            scratch.lua("for r in data.csv(\(q(path))):each() do end")
            scratch.lua("for r in data.csv(\(q(path)), {header = false, numbers = false, separator = ';'}):each() do end")
        case .npy, .npz, .safetensors:
            let path = scratch.write(data, as: "input." + rawValue)
            scratch.lua("local t = tensor.load(\(q(path))) if type(t) == 'table' then for _, v in pairs(t) do tostring(v) v:sum() end else tostring(t) t:sum() end")
        case .session:
            let path = scratch.write(data, as: "input.jsonl")
            scratch.lua("session.replay(\(q(path)))")
        case .manifest:
            scratch.plugin(manifest: data)
        case .evaluator:
            scratch.evaluate(String(decoding: data, as: UTF8.self))
        }
    }

    /// A Lua string literal for any text (long brackets cannot hold every byte; %q-style
    /// decimal escapes can).
    private func q(_ s: String) -> String {
        var out = "\""
        for b in s.utf8 {
            switch b {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"): out += "\\" + String(UnicodeScalar(b))
            case 32...126: out += String(UnicodeScalar(b))
            default: out += "\\" + String(b)
            }
        }
        return out + "\""
    }
}

/// A directory and the states the harnesses use; one per process.
final class Scratch {
    let dir: String
    private var workbench: Workbench?
    private var uses = 0

    init() {
        dir = NSTemporaryDirectory() + "moonlab-fuzz-\(getpid())"
        try? FileManager.default.createDirectory(atPath: dir + "/plugins/fuzzed", withIntermediateDirectories: true)
        try? "return 0".write(toFile: dir + "/plugins/fuzzed/init.lua", atomically: false, encoding: .utf8)
        PluginSearch.searchDefaultFolders = false
    }

    deinit { try? FileManager.default.removeItem(atPath: dir) }

    /// Writes `data` to `name` in the scratch directory; returns the path.
    func write(_ data: [UInt8], as name: String) -> String {
        let path = dir + "/" + name
        _ = FileManager.default.createFile(atPath: path, contents: Data(data))
        return path
    }

    private static func options(sandbox: Bool, plugins: [String] = []) -> WorkbenchOptions {
        var o = WorkbenchOptions()
        o.output = { _ in }
        o.instructionBudget = Harness.budget
        o.memoryLimit = Harness.memory
        o.sandbox = sandbox
        o.pluginPaths = plugins
        o.loadPlugins = !plugins.isEmpty
        o.pictureSize = (80, 24)
        return o
    }

    /// A workbench for the file harnesses, renewed now and then so state does not pile up.
    private func shared() -> Workbench? {
        uses += 1
        if workbench == nil || uses % 500 == 0 { workbench = try? Workbench(options: Scratch.options(sandbox: false)) }
        return workbench
    }

    /// Runs Lua code; its error, if any, is the expected outcome of bad input.
    func lua(_ code: String) {
        guard let wb = shared() else { return }
        wb.lua.resetBudget()
        let top = wb.lua.top
        _ = try? wb.lua.run(code, name: "=fuzz")
        wb.lua.top = top
    }

    /// The bytes as a plugin's manifest, loaded by a fresh workbench.
    func plugin(manifest: [UInt8]) {
        _ = write(manifest, as: "plugins/fuzzed/plugin.lua")
        // the loader reports a bad manifest on standard error: keep the fuzzer's output readable
        let saved = dup(2), null = open("/dev/null", O_WRONLY)
        dup2(null, 2)
        defer { dup2(saved, 2); close(saved); close(null) }
        guard let wb = try? Workbench(options: Scratch.options(sandbox: false, plugins: [dir + "/plugins"])) else { return }
        _ = wb.pluginListing()
    }

    /// The text as a prompt entry in a fresh sandboxed workbench, then printed.
    func evaluate(_ text: String) {
        guard let wb = try? Workbench(options: Scratch.options(sandbox: true)) else { return }
        let ev = Evaluator(wb)
        for (i, chunk) in text.split(separator: "\u{0}", omittingEmptySubsequences: false).prefix(8).enumerated() {
            _ = ev.evaluate(String(chunk), entry: i + 1)
        }
    }
}
