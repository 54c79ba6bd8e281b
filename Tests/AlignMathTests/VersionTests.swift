import XCTest
@testable import AlignMath

final class VersionTests: XCTestCase {
    func testVersionIsSemver() {
        XCTAssertEqual(AlignMath.version.split(separator: ".").count, 3)
    }
}
