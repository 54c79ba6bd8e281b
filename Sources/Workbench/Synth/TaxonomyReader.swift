import Foundation
import Yams

/// One leaf of an InstructLab taxonomy: a folder holding a valid qna.yaml.
struct TaxonomyLeaf {
    struct Seed {
        var context: String?
        var question: String
        var answer: String
    }

    var path: String
    var kind: String
    var version: Int
    var createdBy: String
    var domain: String?
    var taskDescription: String?
    var documentOutline: String?
    var seeds: [Seed]
    /// Knowledge leaves are grounded in their documents' contexts; a skill is grounded when
    /// its seeds carry a context.
    var grounded: Bool { kind == "knowledge" || seeds.contains { $0.context != nil } }
}

/// A file that fails: where and why (the first error; `errors` holds them all).
struct TaxonomyProblem: Error {
    var file: String
    var line: Int
    var field: String
    var message: String
    var errors: [TaxonomySchemaError]
}

/// Reads a taxonomy tree as `ilab taxonomy diff` checks it: every `*.yaml`/`*.yml` file must
/// be named qna.yaml, parse as YAML, hold a mapping, declare a version with a schema (1 is
/// deprecated), and satisfy that version's schema for its folder (`knowledge`,
/// `compositional_skills`; other folders by content: `document` means knowledge). Good
/// files become leaves; each bad file becomes one problem, and does not stop the others.
enum TaxonomyReader {
    static let kinds = ["knowledge", "compositional_skills", "foundational_skills"]
    static let maxFileBytes = 16 << 20

    /// `poll` runs between files (Ctrl-C, the instruction budget: a root such as `/` walks
    /// for a long time); what it throws ends the walk.
    static func read(root: String, poll: () throws -> Void = {}) throws -> (leaves: [TaxonomyLeaf], problems: [TaxonomyProblem]) {
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: root, isDirectory: &isDir), isDir.boolValue else {
            throw SynthError("no taxonomy folder at \(root)")
        }
        guard let walker = FileManager.default.enumerator(atPath: root) else { throw SynthError("cannot read \(root)") }
        var files: [String] = []
        while let rel = walker.nextObject() as? String {
            try poll()
            if rel.hasSuffix(".yaml") || rel.hasSuffix(".yml") { files.append(rel) }
        }
        files.sort()
        var leaves: [TaxonomyLeaf] = [], problems: [TaxonomyProblem] = []
        for rel in files {
            try poll()
            let full = (root as NSString).appendingPathComponent(rel)
            switch readFile(full: full, relative: rel) {
            case .success(let leaf): if let leaf { leaves.append(leaf) }
            case .failure(let p): problems.append(p)
            }
        }
        return (leaves, problems)
    }

    private static func problem(_ file: String, _ line: Int, _ field: String, _ message: String,
                                _ all: [TaxonomySchemaError] = []) -> Result<TaxonomyLeaf?, TaxonomyProblem> {
        let errors = all.isEmpty ? [TaxonomySchemaError(line: line, field: field, message: message)] : all
        return .failure(TaxonomyProblem(file: file, line: line, field: field, message: message, errors: errors))
    }

    private static func readFile(full: String, relative rel: String) -> Result<TaxonomyLeaf?, TaxonomyProblem> {
        let name = Platform.lastComponent(of: rel)
        guard name == "qna.yaml" else {
            return problem(full, 1, ".", "Taxonomy file must be named \"qna.yaml\"; \"\(name)\" is not a valid name")
        }
        // A qna.yaml is a few KiB: refuse what is not a regular file (a FIFO would block) or
        // is larger than `maxFileBytes`.
        var info = stat()
        guard stat(full, &info) == 0 else { return problem(full, 1, ".", "cannot read the file") }
        guard info.st_mode & S_IFMT == S_IFREG else { return problem(full, 1, ".", "not a regular file") }
        guard Int(info.st_size) <= maxFileBytes else {
            return problem(full, 1, ".", "the file is \(info.st_size) bytes; at most \(maxFileBytes) are read")
        }
        guard let text = Platform.readFile(full) else { return problem(full, 1, ".", "cannot read the file") }
        let node: Node?
        do {
            node = try Yams.compose(yaml: text)
        } catch let e as YamlError {
            let (line, msg) = yamlProblem(e)
            return problem(full, line, ".", msg)
        } catch {
            return problem(full, 1, ".", "\(error)")
        }
        guard let root = node, !(root.tag.rawValue == Tag.Name.null.rawValue) else { return problem(full, 1, ".", "The file is empty") }
        guard let map = root.mapping else {
            return problem(full, root.mark?.line ?? 1, ".", "The file is not valid. The top-level element is not an object with key-value pairs.")
        }
        let folder = Platform.parentDirectory(of: rel)
        let top = folder.split(separator: "/").first.map(String.init) ?? ""
        let hasDocument = map["document"] != nil
        let schemaName = top == "knowledge" || top == "compositional_skills" ? top : (hasDocument ? "knowledge" : "compositional_skills")
        let kind = kinds.contains(top) ? top : schemaName
        var version = 1
        if let v = map["version"] {
            if let i = v.int { version = i } else if let s = v.string, let i = Int(s) { version = i }
        }
        if version == 1 {
            return problem(full, map["version"]?.mark?.line ?? 1, ".version",
                           "\(schemaName) schema version 1 is deprecated: set version to 3 (knowledge) or 2 (skills)")
        }
        guard let shape = TaxonomyShape.schema(schemaName, version: version) else {
            return problem(full, map["version"]?.mark?.line ?? 1, ".version",
                           "Cannot load schema file \(schemaName).json for version \(version) (versions 2 and 3 have schemas)")
        }
        var validator = TaxonomyValidator()
        validator.check(root, shape, path: ".", line: 1)
        if let first = validator.errors.first {
            return problem(full, first.line, first.field, first.message, validator.errors)
        }
        return .success(leaf(map, path: folder, kind: kind, version: version))
    }

    private static func leaf(_ map: Node.Mapping, path: String, kind: String, version: Int) -> TaxonomyLeaf {
        var seeds: [TaxonomyLeaf.Seed] = []
        for s in map["seed_examples"]?.sequence ?? [] {
            let context = s["context"]?.string
            if let qas = s["questions_and_answers"]?.sequence {
                for qa in qas {
                    seeds.append(.init(context: context, question: qa["question"]?.string ?? "", answer: qa["answer"]?.string ?? ""))
                }
            } else {
                seeds.append(.init(context: context, question: s["question"]?.string ?? "", answer: s["answer"]?.string ?? ""))
            }
        }
        return TaxonomyLeaf(path: path, kind: kind, version: version, createdBy: map["created_by"]?.string ?? "",
                            domain: map["domain"]?.string, taskDescription: map["task_description"]?.string,
                            documentOutline: map["document_outline"]?.string, seeds: seeds)
    }

    /// A YAML syntax error's line and message.
    private static func yamlProblem(_ e: YamlError) -> (Int, String) {
        switch e {
        case .scanner(_, let problem, let mark, _), .parser(_, let problem, let mark, _), .composer(_, let problem, let mark, _):
            return (mark.line, "invalid YAML: \(problem)")
        default:
            return (1, "invalid YAML: \(e)")
        }
    }
}

struct SynthError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
