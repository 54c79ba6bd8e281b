import XCTest
final class PlaceholderLuaKitTests: XCTestCase { func testNothing() {} }
