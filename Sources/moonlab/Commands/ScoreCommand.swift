import ArgumentParser
import Workbench

/// `moonlab score`: stream a JSON Lines file through rewards and detectors (design.md,
/// "Batch work and scale").
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score a JSON Lines file with rewards and detectors, one output line per input line.")

    @OptionGroup var global: GlobalOptions

    mutating func run() throws {
        fail("score: not built yet")
    }
}
