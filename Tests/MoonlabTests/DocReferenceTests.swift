import XCTest
import Foundation
import TestSupport

/// Docs/reference.md is what `moonlab doc --markdown` generates from the docstrings now:
/// a docstring changed without regenerating the file fails here.
final class DocReferenceTests: XCTestCase {
    func testReferenceIsUpToDate() throws {
        let r = try runMoonlab(["doc", "--markdown"])
        XCTAssertEqual(r.status, 0, r.stderr)
        let path = repositoryRoot + "/Docs/reference.md"
        let committed = try String(contentsOfFile: path, encoding: .utf8)
        XCTAssertTrue(r.stdout.contains("### rl.gae\n") && r.stdout.contains("## moonlab\n"), r.stdout)
        if r.stdout != committed {
            let want = r.stdout.split(separator: "\n", omittingEmptySubsequences: false)
            let have = committed.split(separator: "\n", omittingEmptySubsequences: false)
            let first = zip(want, have).enumerated().first { $0.element.0 != $0.element.1 }?.offset ?? min(want.count, have.count)
            XCTFail("""
                Docs/reference.md is stale: regenerate it with
                  swift build && .build/debug/moonlab doc --markdown > Docs/reference.md
                first difference at line \(first + 1):
                  generated: \(first < want.count ? String(want[first]) : "(end)")
                  committed: \(first < have.count ? String(have[first]) : "(end)")
                """)
        }
    }

    func testDocPrintsOneDocFromTheShell() throws {
        let r = try runMoonlab(["doc", "rl.gae"])
        XCTAssertEqual(r.status, 0, r.stderr)
        XCTAssertTrue(r.stdout.hasPrefix("rl.gae(rewards, values,"), r.stdout)
        let missing = try runMoonlab(["doc", "rl.nothing"])
        XCTAssertEqual(missing.status, 1)
        XCTAssertTrue(missing.stderr.contains("doc: no such name 'rl.nothing'"), missing.stderr)
    }
}
