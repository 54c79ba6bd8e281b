import Foundation
import LuaKit
import Workbench

/// What `moonlab score` runs in every worker: the reward and detector names, and the
/// rewards files to run first. Made by running the files once in a probe state, which is
/// how the names a file defines are found and how a bad file or name is caught before any
/// output is written.
struct ScorePlan {
    var rewards: [String] = []
    var detectors: [String] = []
    var files: [String] = []

    /// The task each worker state builds itself from: the files run in order (with `arg`
    /// set as `moonlab run` sets it), then the names are looked up. Workers collect
    /// garbage in Lua's generational mode, which suits a stream of short-lived record
    /// tables (a file may switch back with `collectgarbage("incremental")`).
    var task: ScoringTask {
        let files = self.files
        return ScoringTask(rewards: rewards, detectors: detectors, setup: { wb in
            _ = try wb.lua.run("collectgarbage('generational')", name: "=score")
            for f in files { try wb.runFile(f) }
        })
    }

    /// Whether a `--reward` argument names a file rather than a registered reward.
    static func isFile(_ argument: String) -> Bool {
        if argument.hasSuffix(".lua") { return true }
        var isDirectory: ObjCBool = false
        return FileManager.default.fileExists(atPath: argument, isDirectory: &isDirectory) && !isDirectory.boolValue
    }

    /// Runs the rewards files in a probe state and checks every name.
    /// Throws `ScoreUsageError` with a message for the user.
    static func make(rewardArguments: [String], detectorArguments: [String],
                     options: WorkbenchOptions) throws -> ScorePlan {
        var o = options
        o.output = { Platform.writeStderr($0) }  // a file's top-level prints never reach the output
        let wb: Workbench
        do { wb = try Workbench(options: o) } catch { throw ScoreUsageError("could not start: \(error)") }
        let lua = wb.lua
        var plan = ScorePlan()
        do { _ = try lua.run(probeSource, name: "=score") } catch { throw ScoreUsageError("could not start: \(error)") }
        for argument in rewardArguments {
            if isFile(argument) {
                guard FileManager.default.isReadableFile(atPath: argument) else {
                    throw ScoreUsageError("--reward \(argument): no such file (or not readable)")
                }
                let (rewards, detectors) = try defined(by: argument, in: wb)
                if rewards.isEmpty && detectors.isEmpty {
                    throw ScoreUsageError("--reward \(argument): the file defines no rewards (reward.define(name, fn))")
                }
                plan.files.append(argument)
                plan.rewards += rewards.filter { !plan.rewards.contains($0) }
            } else {
                guard try names(lua, "rewards()").contains(argument) else {
                    throw ScoreUsageError("--reward \(argument): unknown reward; registered: "
                                          + (try names(lua, "rewards()")).joined(separator: ", ")
                                          + " (or give a .lua file that defines rewards)")
                }
                if !plan.rewards.contains(argument) { plan.rewards.append(argument) }
            }
        }
        for name in detectorArguments where !plan.detectors.contains(name) {
            guard try names(lua, "has_detector(\(luaQuoted(name)))") == ["true"] else {
                let known = try names(lua, "detectors()").filter { !$0.isEmpty }
                let list = known.isEmpty ? "none" : known.joined(separator: ", ")
                throw ScoreUsageError("--detect \(name): unknown detector; registered (by plugins and the --reward files): \(list); define one with detect.define in a --reward file")
            }
            plan.detectors.append(name)
        }
        if plan.rewards.isEmpty && plan.detectors.isEmpty {
            throw ScoreUsageError("nothing to score: the --reward files define only detectors; name them with --detect")
        }
        return plan
    }

    /// Runs one file; the rewards and detectors it defined, each sorted by name.
    private static func defined(by file: String, in wb: Workbench) throws -> ([String], [String]) {
        let lua = wb.lua
        do {
            _ = try lua.run("__moonlab_score.begin()", name: "=score")
            try wb.runFile(file)
        } catch let e as LuaError {
            throw ScoreUsageError("--reward \(file): " + scriptFailure(e))
        }
        return (try names(lua, "new_rewards()"), try names(lua, "new_detectors()"))
    }

    /// The lines of what `__moonlab_score.<call>` returns (a newline-joined string or a boolean).
    private static func names(_ lua: LuaState, _ call: String) throws -> [String] {
        let n = try lua.run("return tostring(__moonlab_score.\(call))", name: "=score")
        defer { lua.pop(n) }
        guard n > 0, let s = lua.string(at: -n) else { return [] }
        return s.split(separator: "\n").map(String.init)
    }

    /// Tracks what a file registers: a snapshot of the rewards registry (so a redefined
    /// name counts) and a wrapper around `detect.define` (to tell which detectors the file
    /// itself defines, beside the plugins' in `detect.list()`).
    private static let probeSource = """
        local S, all, fresh, snap = {}, {}, {}, {}
        local define = detect.define
        detect.define = function(name, ...)
          if type(name) == "string" then all[name] = true; fresh[name] = true end
          return define(name, ...)
        end
        local function sorted(t) local o = {} for k in pairs(t) do o[#o + 1] = k end table.sort(o) return table.concat(o, "\\n") end
        function S.begin()
          snap, fresh = {}, {}
          for _, n in ipairs(reward.list()) do snap[n] = reward.get(n) end
        end
        function S.new_rewards()
          local out = {}
          for _, n in ipairs(reward.list()) do if snap[n] ~= reward.get(n) then out[n] = true end end
          return sorted(out)
        end
        function S.new_detectors() return sorted(fresh) end
        function S.rewards() return table.concat(reward.list(), "\\n") end
        function S.detectors() return table.concat(detect.list(), "\\n") end
        function S.has_detector(name) return (pcall(detect.get, name)) end
        __moonlab_score = S
        """
}

/// `s` as a Lua string literal.
func luaQuoted(_ s: String) -> String {
    var out = "\""
    for b in s.utf8 {
        switch b {
        case UInt8(ascii: "\\"), UInt8(ascii: "\""): out += "\\" + String(UnicodeScalar(b))
        case 32...126: out += String(UnicodeScalar(b))
        default: out += "\\" + String(format: "%03d", Int(b))
        }
    }
    return out + "\""
}

/// A mistake in the command line or its inputs: exit status 1 with this message.
struct ScoreUsageError: Error, CustomStringConvertible {
    var description: String
    init(_ message: String) { description = message }
}
