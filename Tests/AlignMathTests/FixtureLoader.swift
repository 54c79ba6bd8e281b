import Foundation

/// Reads a JSON fixture from `Tests/AlignMathTests/Fixtures`, written once by the
/// generator scripts beside it (numpy/scipy, formulas cited there).
enum Fixture {
    static var directory: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Fixtures")
    }

    static func load(_ name: String) throws -> Any {
        let data = try Data(contentsOf: directory.appendingPathComponent(name))
        return try JSONSerialization.jsonObject(with: data, options: [.fragmentsAllowed])
    }
}
