import ArgumentParser
import Workbench

/// `moonlab plugins [list | info NAME | test NAME]`.
struct PluginsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "plugins",
        abstract: "List plugins, show one, or run its spec.")

    @OptionGroup var global: GlobalOptions

    mutating func run() throws {
        fail("plugins: not built yet")
    }
}
