import Foundation

/// The repository's root folder, found from this source file (tests run from a checkout).
public let repositoryRoot: String = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path

/// The path of a file of the example data shipped in the repository (`Examples/data`,
/// described in its SOURCES.md), e.g. `exampleData("TruthfulQA/TruthfulQA.csv")`.
public func exampleData(_ path: String) -> String {
    repositoryRoot + "/Examples/data/" + path
}
