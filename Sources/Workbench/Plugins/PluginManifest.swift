import LuaKit

/// What a plugin's `plugin.lua` declares (Docs/design.md, "Plugins"):
/// `return { name =, version =, description =, requires = { moonlab = ">=0.1" },
/// provides = { rewards = {...}, detectors = {...}, samplers = {...} }, sandbox = false }`.
public struct PluginManifest: Sendable {
    public var name: String
    public var version: SemVer
    public var description: String
    /// `requires.moonlab`, if given.
    public var requires: VersionRange?
    /// Names by kind: "rewards", "detectors", "samplers".
    public var provides: [String: [String]]
    /// Run the plugin's code in the sandbox even when moonlab is not run with `--sandbox`.
    public var sandbox: Bool

    public static let kinds = ["rewards", "detectors", "samplers"]
    static let fields = ["name", "version", "description", "requires", "provides", "sandbox", "author", "license", "homepage"]

    /// Every name the plugin provides, as (kind, name).
    public var providedNames: [(kind: String, name: String)] {
        PluginManifest.kinds.flatMap { k in (provides[k] ?? []).map { (k, $0) } }
    }

    /// Validates the table `plugin.lua` returned. Errors name the file and the field.
    init(_ value: LuaValue, file: String) throws {
        func fail(_ field: String, _ problem: String) -> PluginError { .manifest(file: file, field: field, problem: problem) }
        guard case .table(let t) = value else { throw fail("(file)", "must return a table, got \(value.typeName)") }
        for key in t.keys {
            guard let k = key.text, PluginManifest.fields.contains(k) else {
                throw fail(key.text ?? "?", "unknown field; valid fields: \(PluginManifest.fields.sorted().joined(separator: ", "))")
            }
        }
        guard let name = t[.text("name")]?.text, !name.isEmpty else { throw fail("name", "a non-empty string is required") }
        guard name.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" || $0 == ".") }) else {
            throw fail("name", "'\(name)' may only hold letters, digits, '-', '_' and '.'")
        }
        guard let vtext = t[.text("version")]?.text else { throw fail("version", "a version string such as \"1.0.0\" is required") }
        guard let version = SemVer(strict: vtext) else {
            throw fail("version", "'\(vtext)' is not a semantic version (MAJOR.MINOR.PATCH, e.g. \"1.0.0\")")
        }
        guard let desc = t[.text("description")]?.text, !desc.isEmpty else { throw fail("description", "a non-empty string is required") }
        self.name = name
        self.version = version
        self.description = desc
        requires = nil
        if let r = t[.text("requires")] {
            guard case .table(let rt) = r else { throw fail("requires", "must be a table such as { moonlab = \">=0.1\" }") }
            for key in rt.keys where key.text != "moonlab" {
                throw fail("requires", "unknown requirement '\(key.text ?? "?")' (only 'moonlab' is known)")
            }
            if let m = rt[.text("moonlab")] {
                guard let s = m.text, let range = VersionRange(s) else {
                    throw fail("requires.moonlab", "'\(m.text ?? m.typeName)' is not a version range (e.g. \">=0.1\" or \">=0.1, <1.0\")")
                }
                requires = range
            }
        }
        provides = [:]
        if let p = t[.text("provides")] {
            guard case .table(let pt) = p else { throw fail("provides", "must be a table { rewards = {...}, detectors = {...}, samplers = {...} }") }
            for (key, list) in pt {
                guard let k = key.text, PluginManifest.kinds.contains(k) else {
                    throw fail("provides", "unknown kind '\(key.text ?? "?")' (rewards, detectors, samplers)")
                }
                guard let names = list.stringArray else { throw fail("provides.\(k)", "must be an array of names") }
                provides[k] = names
            }
        }
        if let s = t[.text("sandbox")] {
            guard case .boolean(let b) = s else { throw fail("sandbox", "must be true or false") }
            sandbox = b
        } else {
            sandbox = false
        }
    }
}

/// Why a plugin did not load.
public enum PluginError: Error, CustomStringConvertible, Equatable {
    case manifest(file: String, field: String, problem: String)
    case unreadable(file: String, message: String)
    case requires(file: String, range: String, have: String)
    case failed(file: String, message: String)
    case notRegistered(file: String, kind: String, name: String)
    case duplicate(kind: String, name: String, first: String, firstPath: String, second: String, secondPath: String)
    case unknown(String)

    public var description: String {
        switch self {
        case let .manifest(file, field, problem): return "\(file): field '\(field)': \(problem)"
        case let .unreadable(file, message): return "\(file): \(message)"
        case let .requires(file, range, have):
            return "\(file): field 'requires.moonlab': needs moonlab \(range), this is \(have)"
        case let .failed(file, message): return "\(file): \(message)"
        case let .notRegistered(file, kind, name):
            return "\(file): provides \(kind.dropLast()) '\(name)' but its init.lua did not register it"
        case let .duplicate(kind, name, first, firstPath, second, secondPath):
            return "\(kind.dropLast()) '\(name)' is provided by both plugin '\(first)' (\(firstPath)) and plugin '\(second)' (\(secondPath))"
        case let .unknown(name): return "no plugin named '\(name)' (plugin.list() shows what was found)"
        }
    }
}

extension LuaValue {
    /// The value as text, if it is a string.
    var text: String? { if case .string(let b) = self { return String(decoding: b, as: UTF8.self) }; return nil }
    static func text(_ s: String) -> LuaValue { .string(Array(s.utf8)) }
    var typeName: String {
        switch self {
        case .nil: return "nil"
        case .boolean: return "boolean"
        case .integer, .number: return "number"
        case .string: return "string"
        case .table: return "table"
        }
    }
    /// A Lua array of strings (an empty table counts), in order.
    var stringArray: [String]? {
        guard case .table(let t) = self else { return nil }
        var out: [String] = []
        for i in 1...max(1, t.count) where i <= t.count {
            guard let s = t[.integer(i)]?.text else { return nil }
            out.append(s)
        }
        return out.count == t.count ? out : nil
    }
}
