import ArgumentParser
import Foundation
import Workbench

/// `moonlab doctest FILE.md...`: runs the examples of Markdown files and compares their
/// output, as Python's doctest and Julia's doctests do (Docs/writing-docs.md).
struct DoctestCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "doctest",
        abstract: "Run the examples of Markdown files (```lua prompt blocks and scripts, ```console commands) and compare their output.",
        discussion: "The block convention is in Docs/writing-docs.md. Exit status 1 when an example fails.")

    @Argument(help: "Markdown files.")
    var files: [String]

    @Option(help: "Seconds an example may run before it is stopped and fails.")
    var timeout: Double = 120

    @Flag(help: "Write what moonlab printed into the files where an example's output differed (check the diff before committing).")
    var fix = false

    mutating func run() throws {
        DoctestCommand.prepareEnvironment()
        var total = 0, failed = 0, skipped = 0
        for file in files {
            let runner: DoctestRunner
            do {
                runner = try DoctestRunner(path: URL(fileURLWithPath: file).standardizedFileURL.path, timeout: timeout)
                try runner.run()
            } catch {
                fail("doctest \(file): \(error)")
            }
            total += runner.examples
            skipped += runner.skipped
            failed += runner.failures.count
            for f in runner.failures { Platform.writeStdout("\(file):\(f.line): \(f.message)\n\n") }
            if fix {
                do {
                    let n = try runner.applyFixes()
                    if n > 0 { Platform.writeStdout("\(file): wrote the output of \(n) examples (--fix)\n") }
                } catch {
                    fail("doctest \(file): cannot write: \(error)")
                }
            }
            let status = runner.failures.isEmpty ? "ok" : "\(runner.failures.count) FAILED"
            Platform.writeStdout("\(file): \(runner.examples) examples, \(runner.skipped) blocks skipped: \(status)\n")
        }
        if files.count > 1 {
            Platform.writeStdout("doctest: \(files.count) files, \(total) examples, \(failed) failed, \(skipped) blocks skipped\n")
        }
        if failed > 0 { throw ExitCode(1) }
    }

    /// What every example sees: no colours, an 80-column terminal, the moonlab being run
    /// first on the PATH, and no plugin folders or init code of the user's.
    static func prepareEnvironment() {
        setenv("NO_COLOR", "1", 1)
        setenv("COLUMNS", "80", 1)
        unsetenv("MOONLAB_PATH")
        unsetenv("MOONLAB_INIT")
        unsetenv("MOONLAB_HISTORY")
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent().path
        setenv("PATH", exe + ":" + (Platform.environment("PATH") ?? "/usr/bin:/bin"), 1)
    }
}
