import ArgumentParser
import Foundation
import LuaKit
import Workbench

/// `moonlab score`: stream a JSON Lines file through rewards and detectors (Docs/design.md,
/// "Batch work and scale").
///
/// The file is read a chunk at a time (64 to 4096 records, sized to take about half a
/// second) and never held whole; each chunk is scored by the worker states of a
/// `ScoringPool`, written in input order, and handed to the kernel before the next is read.
/// Stopping (Ctrl-C, SIGTERM) takes effect between chunks, so the output always ends on a
/// whole line and `--resume` continues where it stopped.
struct ScoreCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "score",
        abstract: "Score a JSON Lines file with rewards and detectors, one output line per input line.",
        discussion: """
            Each output line is the input record, its own text kept as it is, with two fields \
            added: "rewards" (reward name -> number; null where the reward returned nil, \
            meaning it does not apply, or failed, or gave NaN/inf) and "flags" (detector name \
            -> {"flag", "score", "reason"}). Where a reward or detector raised on the row, the \
            values of the others are kept and "errors" (name -> message) and "error" (all of \
            them as one string) are added; where a reward gave NaN or an infinity, \
            "nonfinite" (name -> "nan", "inf" or "-inf"); a line that is not a JSON object \
            becomes {"error": "input line N: ..."}. Blank input lines are skipped. The summary \
            on standard error counts NaN/inf, not-applicable and failed values per reward and \
            names the most frequent error messages. Exit status 0 when the run finished (rows \
            with errors included), 1 for a bad command line or an unreadable file, 130 when \
            stopped by Ctrl-C.

            Rewards get a second argument, state: --state step=100 (repeatable, or \
            comma-separated pairs) gives state.step = 100; an empty table otherwise. Before each \
            row, math.random and random.default (random.new() without a seed splits it) are \
            seeded from --seed and the row's line number, so a reward that draws gives the same \
            output whatever --workers, --shard or --resume.

            --shard I/N scores records I, I+N, I+2N, ... (0-based, counting non-blank lines), \
            so N shards run as N jobs (Slurm array, Kubernetes indexed Job) and `cat` of their \
            outputs holds every record once. --resume counts the complete lines already in \
            --out, cuts away a partial last line, skips that many records and appends; its \
            summary covers the whole file.

            Example: moonlab score --data pairs.jsonl.gz --reward rewards.lua --detect long --out scored.jsonl
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("The JSON Lines file to score (gzip read transparently).", valueName: "file"))
    var data: String?

    @Option(help: ArgumentHelp("A registered reward (built-in or from a plugin), or a .lua file: every reward it defines is scored. Repeatable.", valueName: "name|file.lua"))
    var reward: [String] = []

    @Option(help: ArgumentHelp("A detector by name (from a plugin or defined in the --reward file). Repeatable.", valueName: "name"))
    var detect: [String] = []

    @Option(help: ArgumentHelp("The output file (default: standard output).", valueName: "file"))
    var out: String?

    @Option(help: ArgumentHelp("Worker threads, one Lua state each (default: the number of cores).", valueName: "n"))
    var workers: String?

    @Option(help: ArgumentHelp("Score only records I, I+N, I+2N, ... (0-based).", valueName: "I/N"))
    var shard: String?

    @Option(help: ArgumentHelp("The state table rewards get as their second argument (repeatable; numbers stay numbers).", valueName: "key=value"))
    var state: [String] = []

    @Flag(name: .customLong("nan-as-error"), help: "A reward returning NaN or an infinity is an error for that row (default: a null value, counted apart).")
    var nanAsError = false

    @Flag(help: "Continue an interrupted run: keep the complete lines already in --out and score the rest.")
    var resume = false

    @Flag(name: .customLong("no-progress"), help: "No progress bar, even on a terminal.")
    var noProgress = false

    @Argument(parsing: .allUnrecognized, help: .hidden)
    var unexpected: [String] = []

    mutating func run() throws {
        do {
            try ScoreRun(options: try validated()).run(global: global)
        } catch let e as ScoreUsageError {
            fail("score: \(e)")
        }
    }

    /// The options after the checks ArgumentParser cannot make (exit status 1, not 64).
    func validated() throws -> ScoreOptions {
        if let first = unexpected.first {
            throw ScoreUsageError("unexpected argument '\(first)' (see moonlab score --help)")
        }
        guard let data else { throw ScoreUsageError("--data FILE is required (a JSON Lines file to score)") }
        guard !reward.isEmpty else { throw ScoreUsageError("--reward NAME|FILE.lua is required") }
        var o = ScoreOptions(data: data, rewards: reward, detectors: detect, out: out)
        if let w = workers {
            guard let n = Int(w), (1...512).contains(n) else {
                throw ScoreUsageError("--workers \(w): expected a number of workers from 1 to 512")
            }
            o.workers = n
        }
        if let s = shard {
            let parts = s.split(separator: "/", omittingEmptySubsequences: false).map { Int($0) }
            guard parts.count == 2, let i = parts[0], let n = parts[1], n >= 1, (0..<n).contains(i) else {
                throw ScoreUsageError("--shard \(s): expected I/N with 0 <= I < N (e.g. 0/4)")
            }
            o.shard = (i, n)
        }
        if resume && out == nil { throw ScoreUsageError("--resume needs --out (the file to continue)") }
        o.resume = resume
        if let out {
            if out.hasSuffix(".gz") { throw ScoreUsageError("--out \(out): write plain JSON Lines (compress it afterwards)") }
            if ScoreOutput.sameFile(out, data) { throw ScoreUsageError("--out \(out) is the --data file") }
        }
        o.progress = !noProgress
        o.state = try ScoreStateArgument.parse(state)
        o.nanAsError = nanAsError
        return o
    }
}

/// `moonlab score`'s settings, checked.
struct ScoreOptions {
    var data: String
    var rewards: [String]
    var detectors: [String]
    var out: String?
    var workers = ProcessInfo.processInfo.activeProcessorCount
    var shard = (index: 0, count: 1)
    var resume = false
    var progress = true
    var state: LuaValue?
    var nanAsError = false
}
