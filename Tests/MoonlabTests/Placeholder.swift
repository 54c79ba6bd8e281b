import XCTest
final class PlaceholderMoonlabTests: XCTestCase { func testNothing() {} }
