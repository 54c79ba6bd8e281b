import Yams

/// The parts of JSON Schema that InstructLab's qna.yaml schemas use (instructlab/schema,
/// v2 and v3: knowledge.json, compositional_skills.json, version.json), checked over Yams
/// nodes so that every error has the line it is on. Messages read as the `jsonschema`
/// package words them, which is what `ilab taxonomy diff` prints.
indirect enum TaxonomyShape {
    case string(minLength: Int)
    case integer(const: Int?)
    case array(TaxonomyShape, minItems: Int, unique: Bool)
    /// required keys, the properties in the schema's order, whether others are refused
    /// (`unevaluatedProperties: false`), and `anyOf` alternatives of required keys.
    case object(required: [String], properties: [(String, TaxonomyShape)], closed: Bool, anyOfRequired: [[String]])
    case any

    /// The schema of a file: `knowledge` or `compositional_skills` (foundational skills use
    /// the latter), version 2 or 3; nil for a version without a schema.
    static func schema(_ name: String, version: Int) -> TaxonomyShape? {
        let text = TaxonomyShape.string(minLength: 1)
        let versionShape = TaxonomyShape.integer(const: version)
        switch (name, version) {
        case ("compositional_skills", 2), ("compositional_skills", 3):
            let seed = TaxonomyShape.object(required: ["question", "answer"],
                                            properties: [("context", text), ("question", text), ("answer", text)],
                                            closed: true, anyOfRequired: [])
            return .object(required: ["version", "created_by", "task_description", "seed_examples"],
                           properties: [("version", versionShape), ("created_by", text), ("task_description", text),
                                        ("seed_examples", .array(seed, minItems: 5, unique: true))],
                           closed: true, anyOfRequired: [])
        case ("knowledge", 2):
            let seed = TaxonomyShape.object(required: ["question", "answer"], properties: [("question", text), ("answer", text)],
                                            closed: true, anyOfRequired: [])
            let document = TaxonomyShape.object(required: [], properties: [
                ("repo", text), ("commit", text), ("patterns", .array(text, minItems: 1, unique: true)), ("confluence", .any),
            ], closed: true, anyOfRequired: [["repo", "commit", "patterns"], ["confluence"]])
            return .object(required: ["version", "created_by", "domain", "task_description", "seed_examples", "document"],
                           properties: [("version", versionShape), ("created_by", text), ("domain", text),
                                        ("task_description", text), ("seed_examples", .array(seed, minItems: 5, unique: true)),
                                        ("document", document)],
                           closed: true, anyOfRequired: [])
        case ("knowledge", 3):
            let qa = TaxonomyShape.object(required: ["question", "answer"], properties: [("question", text), ("answer", text)],
                                          closed: false, anyOfRequired: [])
            let seed = TaxonomyShape.object(required: ["context", "questions_and_answers"],
                                            properties: [("context", text), ("questions_and_answers", .array(qa, minItems: 3, unique: true))],
                                            closed: true, anyOfRequired: [])
            let document = TaxonomyShape.object(required: ["patterns"], properties: [
                ("repo", .string(minLength: 0)), ("commit", .string(minLength: 0)), ("folder", text),
                ("patterns", .array(text, minItems: 1, unique: true)),
            ], closed: true, anyOfRequired: [])
            return .object(required: ["version", "created_by", "domain", "seed_examples", "document", "document_outline"],
                           properties: [("version", versionShape), ("created_by", text), ("domain", text),
                                        ("seed_examples", .array(seed, minItems: 5, unique: true)), ("document", document),
                                        ("document_outline", text)],
                           closed: true, anyOfRequired: [])
        default:
            return nil
        }
    }
}

/// One schema error: where (line, and the YAML path as `ilab` prints it) and what.
struct TaxonomySchemaError {
    var line: Int
    var field: String
    var message: String
}

/// Checks a node against a shape, collecting errors in the order `jsonschema` yields them.
///
/// YAML aliases make a small file a huge tree (the "billion laughs": ten lists of ten
/// aliases of the list before), so the check visits at most `maxNodes` nodes and keeps at
/// most `maxErrors` errors, and error messages quote nodes cut short (`repr`).
struct TaxonomyValidator {
    private(set) var errors: [TaxonomySchemaError] = []
    private var visits = 0
    static let maxNodes = 1_000_000, maxErrors = 100

    mutating func check(_ node: Node, _ shape: TaxonomyShape, path: String, line parentLine: Int) {
        let line = node.mark?.line ?? parentLine
        guard errors.count < TaxonomyValidator.maxErrors else { return }
        visits += 1
        guard visits <= TaxonomyValidator.maxNodes else {
            if visits == TaxonomyValidator.maxNodes + 1 {
                fail(line, path, "the file holds more than \(TaxonomyValidator.maxNodes) values (aliases that repeat lists?)")
            }
            return
        }
        switch shape {
        case .any:
            return
        case .string(let minLength):
            guard node.scalar != nil, node.tag.rawValue == Tag.Name.str.rawValue else {
                fail(line, path, "\(TaxonomyValidator.repr(node)) is not of type 'string'"); return
            }
            if (node.string ?? "").count < minLength { fail(line, path, "\(TaxonomyValidator.repr(node)) should be non-empty") }
        case .integer(let const):
            guard node.tag.rawValue == Tag.Name.int.rawValue, let v = node.int else {
                fail(line, path, "\(TaxonomyValidator.repr(node)) is not of type 'integer'"); return
            }
            if let c = const, v != c { fail(line, path, "\(c) was expected") }
        case .array(let item, let minItems, let unique):
            guard let seq = node.sequence else { fail(line, path, "\(TaxonomyValidator.repr(node)) is not of type 'array'"); return }
            if seq.count < minItems { fail(line, path, "Value must have at least \(minItems) items") }
            if unique {
                var seen = Set<String>()
                if seq.contains(where: { !seen.insert(TaxonomyValidator.repr($0, limit: 1 << 16)).inserted }) {
                    fail(line, path, "\(TaxonomyValidator.repr(node)) has non-unique elements")
                }
            }
            for (k, child) in seq.enumerated() { check(child, item, path: path + "[\(k)]", line: line) }
        case .object(let required, let properties, let closed, let anyOf):
            guard let map = node.mapping else { fail(line, path, "\(TaxonomyValidator.repr(node)) is not of type 'object'"); return }
            var present: [String: Node] = [:]
            var order: [String] = []
            for (k, v) in map {
                let key = k.string ?? TaxonomyValidator.repr(k)
                present[key] = v
                order.append(key)
            }
            for r in required where present[r] == nil {
                fail(line, (path == "." ? "" : path) + "." + r, "'\(r)' is a required property")
            }
            if !anyOf.isEmpty, !anyOf.contains(where: { alt in alt.allSatisfy { present[$0] != nil } }) {
                fail(line, path, "\(TaxonomyValidator.repr(node)) is not valid under any of the given schemas")
            }
            let known = Set(properties.map(\.0))
            let unexpected = order.filter { !known.contains($0) }
            if closed, !unexpected.isEmpty {
                let list = unexpected.map { "'\($0)'" }.joined(separator: ", ")
                fail(line, path, "Unevaluated properties are not allowed (\(list) \(unexpected.count == 1 ? "was" : "were") unexpected)")
            }
            for (name, shape) in properties {
                if let v = present[name] { check(v, shape, path: (path == "." ? "" : path) + "." + name, line: line) }
            }
        }
    }

    private mutating func fail(_ line: Int, _ path: String, _ message: String) {
        errors.append(TaxonomySchemaError(line: line, field: path.isEmpty ? "." : path, message: message))
    }

    /// A node as Python's repr shows the value it loads to (what jsonschema's messages quote),
    /// cut to `limit` characters. Stops building once past the limit: an aliased list can
    /// stand for billions of values.
    static func repr(_ node: Node, limit: Int = 80) -> String {
        var s = ""
        appendRepr(node, to: &s, limit: limit, depth: 0)
        s = s.replacingOccurrences(of: "\n", with: "\\n")
        return s.count > limit ? String(s.prefix(limit)) + "...'" : s
    }

    private static func appendRepr(_ node: Node, to s: inout String, limit: Int, depth: Int) {
        guard s.utf8.count <= limit else { return }
        guard depth < 200 else { s += "..."; return }
        switch node {
        case .scalar(let sc):
            switch Tag.Name(rawValue: node.tag.rawValue) {
            case .int, .float: s += sc.string
            case .bool: s += (node.bool ?? false) ? "True" : "False"
            case .null: s += "None"
            default:
                let v = sc.string
                s += v.contains("'") && !v.contains("\"") ? "\"\(v)\"" : "'" + v.replacingOccurrences(of: "'", with: "\\'") + "'"
            }
        case .sequence(let seq):
            s += "["
            for (k, item) in seq.enumerated() {
                if s.utf8.count > limit { return }
                if k > 0 { s += ", " }
                appendRepr(item, to: &s, limit: limit, depth: depth + 1)
            }
            s += "]"
        case .mapping(let map):
            s += "{"
            for (k, pair) in map.enumerated() {
                if s.utf8.count > limit { return }
                if k > 0 { s += ", " }
                appendRepr(pair.key, to: &s, limit: limit, depth: depth + 1)
                s += ": "
                appendRepr(pair.value, to: &s, limit: limit, depth: depth + 1)
            }
            s += "}"
        case .alias:
            s += "<alias>"
        }
    }
}
