import XCTest
import Workbench

/// What a replay compares: addresses as `tostring` prints them are skipped, every other hex
/// value is compared (a replay of `string.format("0x%x", n)` that changed went unnoticed,
/// since any `0x...` was taken for an address).
final class OutputComparisonTests: XCTestCase {
    func testHexValuesAreComparedAndAddressesAreNot() {
        XCTAssertFalse(OutputComparison.matches("0x1\n", "0xfff\n", tolerance: nil))
        XCTAssertFalse(OutputComparison.matches("hash 0xdeadbeef\n", "hash 0xdeadbee0\n", tolerance: nil))
        XCTAssertFalse(OutputComparison.matches("crc: 0x1f\n", "crc: 0x2f\n", tolerance: 1e-9))
        XCTAssertTrue(OutputComparison.matches("table: 0x55d0c8a2b3c0\n", "table: 0x5600aa01f260\n", tolerance: nil))
        XCTAssertTrue(OutputComparison.matches("function: 0x559d90145540\tthread: 0x559d901ef6a8\n",
                                               "function: 0x55aa00000010\tthread: 0x55aa000000f0\n", tolerance: nil))
        XCTAssertTrue(OutputComparison.matches("file (0x7fdede9f2760)\n", "file (0x7f0000000001)\n", tolerance: nil))
        XCTAssertFalse(OutputComparison.matches("table: 0x55d0c8a2b3c0\n", "table: 0x55d0c8a2b3c0 extra\n", tolerance: nil))
    }
}
