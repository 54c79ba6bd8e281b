import XCTest
import Foundation
import Workbench
import TestSupport

/// A temporary folder of plugins for a test, and a harness that searches only it.
final class PluginFolder {
    let root: String

    init() throws {
        var template = Array((NSTemporaryDirectory() + "moonlab-plugins-XXXXXX").utf8CString)
        guard let p = mkdtemp(&template) else { throw CocoaError(.fileWriteUnknown) }
        root = String(cString: p)
    }

    deinit { try? FileManager.default.removeItem(atPath: root) }

    /// Writes `text` to `root/relative`, making folders.
    func write(_ relative: String, _ text: String) throws {
        let path = root + "/" + relative
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent,
                                                withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    /// A plugin folder `name` with a manifest providing `rewards`/`detectors` and `code` as init.lua.
    func plugin(_ name: String, rewards: [String] = [], detectors: [String] = [], samplers: [String] = [],
                version: String = "1.0.0", requires: String = ">=0.1", extra: String = "", code: String) throws {
        func list(_ a: [String]) -> String { "{" + a.map { "\"\($0)\"" }.joined(separator: ", ") + "}" }
        try write("\(name)/plugin.lua", """
            return { name = "\(name)", version = "\(version)", description = "test plugin \(name)",
                     requires = { moonlab = "\(requires)" }, \(extra)
                     provides = { rewards = \(list(rewards)), detectors = \(list(detectors)), samplers = \(list(samplers)) } }
            """)
        try write("\(name)/init.lua", code)
    }

    /// A harness whose plugins come only from this folder (and `more`).
    func harness(load: Bool = true, sandbox: Bool = false, more: [String] = [],
                 budget: Int? = nil, memory: Int? = nil) throws -> LuaHarness {
        PluginSearch.searchDefaultFolders = false
        var o = WorkbenchOptions()
        o.pluginPaths = [root] + more
        o.loadPlugins = load
        o.sandbox = sandbox
        o.instructionBudget = budget
        o.memoryLimit = memory
        return try LuaHarness(options: o)
    }
}

extension LuaHarness {
    /// `plugin.info(name).field` as text.
    func pluginField(_ name: String, _ field: String) throws -> String {
        try value("tostring(plugin.info(\(quoted(name))).\(field))")
    }
}

func quoted(_ s: String) -> String { "\"" + s.replacingOccurrences(of: "\"", with: "\\\"") + "\"" }
