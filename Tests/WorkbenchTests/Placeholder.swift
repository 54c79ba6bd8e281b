import XCTest
final class PlaceholderWorkbenchTests: XCTestCase { func testNothing() {} }
