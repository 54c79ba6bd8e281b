import XCTest
import Foundation
import TestSupport

/// `moonlab synth` against the real teacher: bad files reported and skipped, a per-leaf
/// summary, and --resume that skips finished leaves and redoes one cut short.
final class SynthCommandTests: XCTestCase {
    func testSynthWritesRecordsPerLeafAndResumesWithoutDoubling() throws {
        guard let url = RealServers.llm else { throw XCTSkip("MOONLAB_LLM_URL not set (Scripts/servers.sh start)") }
        let dir = NSTemporaryDirectory() + "synth-\(UUID().uuidString)"
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let leaf = dir + "/taxonomy/foundational_skills/reasoning/arithmetic"
        try FileManager.default.createDirectory(atPath: leaf, withIntermediateDirectories: true)
        try FileManager.default.copyItem(atPath: repositoryRoot + "/Examples/taxonomy/foundational_skills/reasoning/arithmetic/qna.yaml",
                                         toPath: leaf + "/qna.yaml")
        try FileManager.default.createDirectory(atPath: dir + "/taxonomy/compositional_skills/broken", withIntermediateDirectories: true)
        try "version: 2\ncreated_by: x\n".write(toFile: dir + "/taxonomy/compositional_skills/broken/qna.yaml", atomically: true, encoding: .utf8)
        let out = dir + "/out.jsonl"
        let args = ["synth", "--taxonomy", dir + "/taxonomy", "--base-url", url, "--model", RealServers.llmModel,
                    "--per-leaf", "2", "--out", out, "--no-progress"]
        let r = try runMoonlab(args)
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stderr.contains("compositional_skills/broken/qna.yaml:1: [.task_description] 'task_description' is a required property (skipped)"), r.stderr)
        XCTAssertTrue(r.stderr.contains("foundational_skills/reasoning/arithmetic"), r.stderr)
        XCTAssertTrue(r.stderr.contains("kept"), "the per-leaf summary: \(r.stderr)")
        let first = try String(contentsOfFile: out, encoding: .utf8)
        XCTAssertEqual(try String(contentsOfFile: out + ".leaves", encoding: .utf8), "foundational_skills/reasoning/arithmetic\n")
        for line in first.split(separator: "\n") {
            let o = try XCTUnwrap(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            XCTAssertEqual(o["leaf"] as? String, "foundational_skills/reasoning/arithmetic")
            XCTAssertEqual((o["messages"] as? [[String: Any]])?.count, 2)
        }
        let again = try runMoonlab(args + ["--resume"])
        XCTAssertEqual(again.status, 0, again.stderr)
        XCTAssertTrue(again.stderr.contains("done before (--resume)"), again.stderr)
        XCTAssertEqual(try String(contentsOfFile: out, encoding: .utf8), first, "nothing doubled")
        // a leaf whose records were written but not marked done (killed in between) is redone, not doubled
        try "".write(toFile: out + ".leaves", atomically: true, encoding: .utf8)
        try (first + "{\"leaf\": \"foundational_skills/reasoning/arith").write(toFile: out, atomically: true, encoding: .utf8)
        let redo = try runMoonlab(args + ["--resume"])
        XCTAssertEqual(redo.status, 0, redo.stderr)
        let lines = try String(contentsOfFile: out, encoding: .utf8).split(separator: "\n")
        XCTAssertLessThanOrEqual(lines.count, 2)
        XCTAssertEqual(try String(contentsOfFile: out + ".leaves", encoding: .utf8), "foundational_skills/reasoning/arithmetic\n")
    }
}
