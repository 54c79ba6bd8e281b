import XCTest
import Foundation
import TestSupport
@testable import Workbench

/// synth.taxonomy: the committed taxonomy loads; each kind of bad file is reported with its
/// file, line and field (as `ilab taxonomy diff` reports it) while the good files load.
final class SynthTaxonomyTests: XCTestCase {
    var root = ""

    override func setUpWithError() throws {
        root = NSTemporaryDirectory() + "taxonomy-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: root, withIntermediateDirectories: true)
    }

    override func tearDown() { try? FileManager.default.removeItem(atPath: root) }

    func write(_ rel: String, _ text: String) throws {
        let path = root + "/" + rel
        try FileManager.default.createDirectory(atPath: (path as NSString).deletingLastPathComponent, withIntermediateDirectories: true)
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }

    static func skill(version: Int = 2, seeds: Int = 5, extra: String = "", seed: (Int) -> String = { "  - question: Question \($0)?\n    answer: Answer \($0).\n" }) -> String {
        "version: \(version)\ncreated_by: tester\ntask_description: Answer short questions.\n\(extra)seed_examples:\n" + (1...seeds).map(seed).joined()
    }

    func testTheCommittedTaxonomyLoadsEveryLeaf() throws {
        let h = try LuaHarness()
        try h.run("leaves, problems = synth.taxonomy('\(repositoryRoot)/Examples/taxonomy')")
        XCTAssertEqual(try h.value("#leaves, #problems"), "4\t0")
        XCTAssertEqual(try h.value("leaves[4].path, leaves[4].kind, leaves[4].grounded, #leaves[4].seeds"), "knowledge/astronomy/moons\tknowledge\ttrue\t15")
        XCTAssertEqual(try h.value("leaves[4].seeds[1].context == leaves[4].seeds[3].context, leaves[4].domain"), "true\tAstronomy",
                       "a knowledge seed's questions_and_answers become one seed each, sharing its context")
        XCTAssertEqual(try h.value("leaves[1].grounded, leaves[2].grounded, leaves[3].kind"), "true\tfalse\tfoundational_skills")
        XCTAssertEqual(try h.value("leaves[2].seeds[1].question"), "Write a haiku about the sea.")
    }

    /// One good file and one of each kind of bad one.
    func testEachSchemaErrorIsReportedWithFileLineAndFieldWhileTheGoodFilesLoad() throws {
        try write("compositional_skills/good/qna.yaml", Self.skill())
        try write("compositional_skills/wrong_name/file.yaml", Self.skill())
        try write("compositional_skills/bad_yaml/qna.yaml", "version: 2\ncreated_by: [unclosed\n")
        try write("compositional_skills/not_a_mapping/qna.yaml", "- a\n- b\n")
        try write("compositional_skills/missing/qna.yaml", Self.skill().replacingOccurrences(of: "created_by: tester\n", with: ""))
        try write("compositional_skills/few_seeds/qna.yaml", Self.skill(seeds: 4))
        try write("compositional_skills/empty_answer/qna.yaml", Self.skill { $0 == 3 ? "  - question: Q3?\n    answer: ''\n" : "  - question: Q\($0)?\n    answer: A\($0).\n" })
        try write("compositional_skills/unknown_key/qna.yaml", Self.skill(extra: "colour: blue\n"))
        try write("compositional_skills/wrong_type/qna.yaml", Self.skill { $0 == 2 ? "  - question: Q2?\n    answer: 5\n" : "  - question: Q\($0)?\n    answer: A\($0).\n" })
        try write("compositional_skills/duplicates/qna.yaml", Self.skill { _ in "  - question: Same?\n    answer: Same.\n" })
        try write("compositional_skills/version_one/qna.yaml", Self.skill(version: 1))
        try write("compositional_skills/version_nine/qna.yaml", Self.skill(version: 9))
        try write("knowledge/no_outline/qna.yaml", """
            version: 3
            created_by: tester
            domain: Things
            document:
              repo: https://example.com/docs.git
              commit: abc123
              patterns: ["doc.md"]
            seed_examples:
            \((1...5).map { "  - context: Context \($0).\n    questions_and_answers:\n      - {question: q\($0)a?, answer: a}\n      - {question: q\($0)b?, answer: b}\n      - {question: q\($0)c?, answer: c}\n" }.joined())
            """)
        try write("knowledge/two_qas/qna.yaml", """
            version: 3
            created_by: tester
            domain: Things
            document_outline: Things.
            document:
              patterns: ["doc.md"]
            seed_examples:
            \((1...5).map { "  - context: Context \($0).\n    questions_and_answers:\n      - {question: q\($0)a?, answer: a}\n" + ($0 == 2 ? "" : "      - {question: q\($0)b?, answer: b}\n      - {question: q\($0)c?, answer: c}\n") }.joined())
            """)
        let h = try LuaHarness()
        try h.run("leaves, problems = synth.taxonomy('\(root)'); by = {}; for _, p in ipairs(problems) do by[p.file:match('([^/]+/[^/]+)$')] = p end")
        XCTAssertEqual(try h.value("#leaves, leaves[1].path"), "1\tcompositional_skills/good")
        XCTAssertEqual(try h.value("#problems"), "13")
        func check(_ key: String, line: Int, field: String, _ message: String, file: StaticString = #filePath, l: UInt = #line) throws {
            XCTAssertEqual(try h.value("by['\(key)'] and by['\(key)'].line"), "\(line)", key, file: file, line: l)
            XCTAssertEqual(try h.value("by['\(key)'] and by['\(key)'].field"), field, key, file: file, line: l)
            let m = try h.value("by['\(key)'] and by['\(key)'].message")
            XCTAssertTrue(m.contains(message), "\(key): \(m)", file: file, line: l)
        }
        try check("wrong_name/file.yaml", line: 1, field: ".", "Taxonomy file must be named \"qna.yaml\"; \"file.yaml\" is not a valid name")
        try check("bad_yaml/qna.yaml", line: 3, field: ".", "invalid YAML")
        try check("not_a_mapping/qna.yaml", line: 1, field: ".", "The top-level element is not an object with key-value pairs")
        try check("missing/qna.yaml", line: 1, field: ".created_by", "'created_by' is a required property")
        try check("few_seeds/qna.yaml", line: 5, field: ".seed_examples", "Value must have at least 5 items")
        try check("empty_answer/qna.yaml", line: 10, field: ".seed_examples[2].answer", "'' should be non-empty")
        try check("unknown_key/qna.yaml", line: 1, field: ".", "Unevaluated properties are not allowed ('colour' was unexpected)")
        try check("wrong_type/qna.yaml", line: 8, field: ".seed_examples[1].answer", "5 is not of type 'string'")
        try check("duplicates/qna.yaml", line: 5, field: ".seed_examples", "has non-unique elements")
        try check("version_one/qna.yaml", line: 1, field: ".version", "schema version 1 is deprecated")
        try check("version_nine/qna.yaml", line: 1, field: ".version", "Cannot load schema file")
        try check("no_outline/qna.yaml", line: 1, field: ".document_outline", "'document_outline' is a required property")
        try check("two_qas/qna.yaml", line: 15, field: ".seed_examples[1].questions_and_answers", "Value must have at least 3 items")
        XCTAssertEqual(try h.value("#by['unknown_key/qna.yaml'].errors"), "1")
    }

    func testAMissingFolderIsAnErrorNamingIt() throws {
        let h = try LuaHarness()
        XCTAssertTrue(h.error("synth.taxonomy('/nonexistent/taxonomy')")?.contains("no taxonomy folder at /nonexistent/taxonomy") ?? false)
    }

    func testTheTemplatesFileIsTheBuiltInTemplates() throws {
        let file = try String(contentsOfFile: repositoryRoot + "/Examples/synth/templates.lua", encoding: .utf8)
        XCTAssertEqual(file, SynthTemplates.source, "Examples/synth/templates.lua and SynthTemplates.source must be the same text")
        let h = try LuaHarness()
        XCTAssertEqual(try h.value("type(load(synth.templates())().parse_questions)"), "function")
        XCTAssertEqual(try h.value("#load(synth.templates())().parse_questions('1. What is a moon?\\n2) Why is the sky blue?\\nok')"), "2")
        XCTAssertEqual(try h.value("load(synth.templates())().verdict('Yes, it is.'), load(synth.templates())().verdict('no'), load(synth.templates())().verdict('maybe')"), "true\tfalse\tnil")
    }
}
