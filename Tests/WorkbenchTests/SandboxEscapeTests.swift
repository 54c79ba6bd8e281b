import XCTest
import Foundation
import Workbench
import LuaKit
import TestSupport

/// Issue 10 §4: the sandbox holds. Every function that opens a path refuses (checked in one
/// place, `FileAccess`), a sandboxed plugin cannot reach shared metatables, tensor storage
/// counts against the memory limit, and the collector's modes stay available.
final class SandboxEscapeTests: XCTestCase {
    override func tearDown() { PluginSearch.searchDefaultFolders = true }

    /// Calls that open a file named by the caller, with `PATH` and `OUT` to substitute.
    static let fileCalls = [
        "sample.vocab(PATH)", "data.jsonl(PATH)", "data.csv(PATH)", "data.json(PATH)",
        "data.write_jsonl(OUT, {{a = 1}})", "data.from({{a = 1}}):write(OUT)", "data.array({{a = 1}})",
        "tensor.load(PATH)", "tensor.save(OUT, tensor{1, 2})",
        "plot.line({1, 2, 3}, {svg = OUT, print = false})", "plot.hist({1, 2, 3}, {svg = OUT, print = false})",
        "session.record(OUT)", "session.replay(PATH)", "plugin.load('x')", "plugin.reload('x')",
        "model.openai{base_url = 'http://127.0.0.1:9/v1', model = 'm', cassette = OUT}",
        "synth.taxonomy(PATH)", "data.write_chat(OUT, {{question = 'q', answer = 'a'}})",
        "synth.generate{leaves = {}, teacher = {}, templates = PATH}",
    ]

    private func calls(secret: String, out: String) -> [String] {
        Self.fileCalls.map { $0.replacingOccurrences(of: "PATH", with: quoted(secret)).replacingOccurrences(of: "OUT", with: quoted(out)) }
    }

    func testEveryPathOpeningFunctionRefusesUnderSandbox() throws {
        let f = try PluginFolder()
        try f.write("secret.txt", "the secret\n")
        let out = f.root + "/written"
        let h = try f.harness(sandbox: true)
        for call in calls(secret: f.root + "/secret.txt", out: out) {
            let e = h.eval(call)
            if call.hasPrefix("data.array") { continue }  // no file: a list marked as an array
            XCTAssertEqual(e.status, .error, "\(call) was not refused")
            XCTAssertTrue((e.error ?? "").contains("sandbox"), "\(call): \(e.error ?? "")")
            XCTAssertFalse(FileManager.default.fileExists(atPath: out), "\(call) wrote a file")
        }
        // the refusal names the function called, not one it calls inside
        XCTAssertTrue(h.eval("data.write_chat('x.jsonl', {})").error?.contains("sandbox: data.write_chat opens files") == true)
        XCTAssertTrue(h.eval("synth.generate{leaves = {}, teacher = {}, templates = 'x.lua'}").error?.contains("sandbox: synth.generate opens files") == true)
    }

    /// A sandboxed plugin reaches the same functions through its environment, through
    /// methods of shared types, and through closures that run later outside its calls
    /// (a finalizer, a function it hands out): all refused.
    func testASandboxedPluginCannotOpenFilesByAnyRoute() throws {
        let f = try PluginFolder()
        try f.write("secret.txt", "the secret\n")
        let out = f.root + "/written"
        let tries = calls(secret: f.root + "/secret.txt", out: out)
            .map { "function() return \($0) end" }.joined(separator: ",\n  ")
        try f.plugin("sneaky", rewards: ["r"], extra: "sandbox = true,", code: """
            local attempts = {
              \(tries)
            }
            results = {}
            for i, a in ipairs(attempts) do results[i] = {pcall(a)} end
            -- handed out: a function the user will call, and a finalizer that runs at some collection
            reward.define("r", function() return 1 end)
            leaked = {}
            function leaked.later() return data.from({{a = 1}}):write(\(quoted(out))) end
            setmetatable({}, {__gc = function() pcall(data.write_jsonl, \(quoted(out)), {{a = 1}}) end})
            local ok, err = pcall(function() return load([[return sample.vocab(\(quoted(f.root + "/secret.txt")))]])() end)
            loaded_ok = ok
            return { samplers = {}, unload = function() end, later = leaked.later }
            """)
        let h = try f.harness()
        XCTAssertEqual(try h.pluginField("sneaky", "status"), "loaded", (try? h.pluginField("sneaky", "error")) ?? "")
        try h.run("collectgarbage() collectgarbage()")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a sandboxed plugin wrote a file")
        // the user's own state is not sandboxed
        try h.run("data.from({{a = 1}}):write(\(quoted(out)))")
        XCTAssertTrue(FileManager.default.fileExists(atPath: out))
    }

    /// A sandboxed plugin's function sent to worker states stays sandboxed there, also when
    /// the workers do not load plugins themselves (a plugin loaded later with plugin.load).
    func testASandboxedPluginsFunctionStaysSandboxedInWorkers() throws {
        let f = try PluginFolder()
        let out = f.root + "/written-by-worker"
        try f.plugin("farmer", rewards: ["w"], extra: "sandbox = true,", code: """
            reward.define("w", function() return 1 end)
            local rows = {{}, {}, {}, {}}
            scores, errors = reward.score(function(s)
              data.from({{a = 1}}):write(\(quoted(out)))
              return 1
            end, rows, {workers = 2, progress = false})
            first_error = errors[1] and errors[1].message
            """)
        let h = try f.harness(load: false)
        _ = h.eval("plugin.load('farmer')")
        XCTAssertFalse(FileManager.default.fileExists(atPath: out), "a worker ran the sandboxed plugin's code unsandboxed")
    }

    /// The string metatable and every shared metatable are out of a sandboxed plugin's
    /// reach: before the fix `getmetatable("").__index.upper = ...` changed the user's strings.
    func testASandboxedPluginCannotChangeSharedMetatables() throws {
        let f = try PluginFolder()
        try f.plugin("meddler", rewards: ["m"], extra: "sandbox = true,", code: """
            reward.define("m", function() return 1 end)
            local define, remove, get = reward.define, reward.remove, reward.get  -- before the lines that clear them
            local function try(f) pcall(f) end
            try(function() getmetatable("").__index.upper = function() return "pwned" end end)
            try(function() getmetatable("").__index = {upper = function() return "pwned" end} end)
            try(function() getmetatable("").__add = function() return "pwned" end end)
            try(function() getmetatable(tensor{1}).__methods.sum = function() return "pwned" end end)
            try(function() getmetatable(tensor{1}).__index = function() return "pwned" end end)
            try(function() getmetatable(tensor).__call = function() return "pwned" end end)
            try(function() string.upper = function() return "pwned" end end)
            try(function() tensor.zeros = function() return "pwned" end end)
            try(function() rl.gae = nil end)
            try(function() reward.define = nil end)
            try(function() moonlab.prompt = "pwned> " end)
            -- shared objects handed out: a match's keys, the reward registry
            try(function()
              for k in pairs(re.search("a", "a")) do
                if type(k) == "table" then rawset(k, "__index", {span = function() return "pwned" end}) end
              end
            end)
            try(function() get("length").fn = function() return "pwned" end end)
            try(function() rawset(get("length"), "fn", function() return "pwned" end) end)
            try(function() define("length", function() return "pwned" end) end)
            try(function() remove("format") end)
            assert(not pcall(define, "length", function() end), "redefining a built-in is refused")
            define("mine", function() return 1 end)
            define("mine", function() return 2 end)  -- its own names stay its own
            remove("mine")
            local own = setmetatable({}, {__index = function() return 42 end})
            assert(getmetatable(own) ~= nil, "a plugin still sees its own metatables")
            """)
        let h = try f.harness()
        XCTAssertEqual(try h.pluginField("meddler", "status"), "loaded", (try? h.pluginField("meddler", "error")) ?? "")
        XCTAssertEqual(try h.value("('abc'):upper()"), "ABC")
        XCTAssertEqual(try h.value("string.upper('abc')"), "ABC")
        XCTAssertEqual(try h.value("tensor{1, 2}:sum()"), "3.0")
        XCTAssertEqual(try h.value("tensor.zeros{2}:numel()"), "2")
        XCTAssertEqual(try h.value("type(rl.gae)"), "function")
        XCTAssertEqual(try h.value("type(reward.define)"), "function")
        XCTAssertEqual(try h.value("moonlab.prompt"), "> ")
        XCTAssertEqual(h.error("return 'a' + {}")?.contains("pwned"), false)
        XCTAssertEqual(try h.value("re.search('a', 'xa'):span()"), "2\t2")
        XCTAssertEqual(try h.value("reward.get('length')({completion = ('x'):rep(200)})"), "1.0")
        XCTAssertEqual(try h.value("type(reward.get('format'))"), "table")
        XCTAssertEqual(try h.value("(pcall(reward.get, 'mine'))"), "false")
    }

    /// Tensor storage counts against the memory limit, and the limit survives errors.
    func testTensorStorageCountsAgainstTheMemoryLimit() throws {
        let f = try PluginFolder()
        let h = try f.harness(sandbox: true, memory: 64 << 20)
        let e = h.error("keep = {} for i = 1, 100 do keep[i] = tensor.zeros{1000, 1000} end") ?? ""
        XCTAssertTrue(e.contains("not enough memory"), e)
        try h.run("keep = nil collectgarbage()")
        // error paths (pcall around a failing Swift call, a raising metamethod) leave it on
        try h.run("for i = 1, 50 do pcall(tensor.zeros, {'x'}) pcall(function() return setmetatable({}, {__index = function() error('x') end}).y end) end")
        let again = h.error("keep = {} for i = 1, 100 do keep[i] = tensor.zeros{1000, 1000} end") ?? ""
        XCTAssertTrue(again.contains("not enough memory"), again)
        let lua = h.error("local t = {} for i = 1, 1e8 do t[i] = ('x'):rep(64) .. i end") ?? ""
        XCTAssertTrue(lua.contains("not enough memory"), lua)
        try h.run("keep = nil collectgarbage()")
        XCTAssertEqual(try h.value("tensor.zeros{100, 100}:numel()"), "10000")
    }

    /// A state starts in generational mode, under --sandbox too, and a script may switch.
    func testCollectorModesAreAvailableInTheSandbox() throws {
        let f = try PluginFolder()
        let h = try f.harness(sandbox: true)
        XCTAssertEqual(try h.value("collectgarbage('generational')"), "generational")
        XCTAssertEqual(try h.value("collectgarbage('incremental')"), "generational")
        XCTAssertEqual(try h.value("collectgarbage('generational')"), "incremental")
        XCTAssertNotNil(h.error("collectgarbage('stop')"))
    }
}
