import ArgumentParser
import Foundation
import Workbench

/// One `moonlab score` run: open the input, plan, build the workers, then read, score and
/// write chunk by chunk until the end of the file or a stop request.
struct ScoreRun {
    let options: ScoreOptions

    init(options: ScoreOptions) { self.options = options }

    func run(global: GlobalOptions) throws {
        let reader: JSONLinesReader
        do { reader = try JSONLinesReader(path: options.data) } catch {
            throw ScoreUsageError("--data \(error)")
        }
        let plan = try ScorePlan.make(rewardArguments: options.rewards, detectorArguments: options.detectors,
                                      options: global.workbenchOptions)
        let pool: ScoringPool
        do {
            pool = try ScoringPool(workers: options.workers, task: plan.task, options: global.workbenchOptions)
        } catch {
            throw ScoreUsageError("could not start the workers: \(error)")
        }
        let output = try ScoreOutput(path: options.out, resume: options.resume)
        let stop = ScoreStopSignal()
        stop.install()
        let bar = ProgressBar(label: "score", enabled: options.progress)
        if bar.isDrawing { countInBackground(skip: output.existingLines, bar: bar) }
        let summary = ScoreSummary(rewards: plan.rewards, detectors: plan.detectors)
        let started = Date()
        var input = ScoreInput(reader: reader, shard: options.shard, skip: output.existingLines)
        // Double buffering: while the workers score one chunk, this thread writes the one
        // before and reads the one after.
        var current = ScoreChunk(), spare = ScoreChunk()
        var chunkSize = 64
        input.read(into: &current, upTo: chunkSize)
        var scored: ScoredChunk?
        while current.count > 0 && !stop.isRequested {
            let job = ScoredChunk()
            let group = DispatchGroup()
            let t0 = Date()
            DispatchQueue.global().async(group: group) { [current] in
                job.bytes = self.score(current, pool: pool, plan: plan, rows: &job.rows)
            }
            if let done = scored { try write(done, to: output, summary: summary, bar: bar) }
            spare.reset()
            if !stop.isRequested && input.error == nil { input.read(into: &spare, upTo: chunkSize) }
            group.wait()
            scored = job
            let rate = Double(current.count) / max(Date().timeIntervalSince(t0), 1e-6)
            chunkSize = min(4096, max(64, Int(rate * 0.5)))
            swap(&current, &spare)
        }
        if let done = scored { try write(done, to: output, summary: summary, bar: bar) }
        let skip = input.skip
        let readError = input.error
        bar.finish()
        let destination = options.out ?? "standard output"
        Platform.writeStderr(summary.report(seconds: Date().timeIntervalSince(started),
                                            resumed: output.existingLines - skip, destination: destination))
        if skip > 0 {
            Platform.writeStderr("note: --out already held \(output.existingLines) lines, more than the \(output.existingLines - skip) records to score: nothing was added\n")
        }
        if let readError { throw ScoreUsageError("--data \(options.data) after line \(reader.lineNumber): \(readError)") }
        if stop.isRequested {
            Platform.writeStderr("moonlab score: stopped; the output ends on a whole line. Run the same command with --resume to continue.\n")
            throw ExitCode(130)
        }
    }

    /// Scores one chunk on the workers; its output lines, each ending in a newline, and the rows.
    private func score(_ chunk: ScoreChunk, pool: ScoringPool, plan: ScorePlan, rows: inout [ScoredRow]) -> [UInt8] {
        let starts = chunk.starts, numbers = chunk.lineNumbers
        let rewards = plan.rewards, detectors = plan.detectors
        let results: [([UInt8], ScoredRow)] = chunk.bytes.withUnsafeBytes { base in
            pool.score(count: chunk.count, line: { i in
                UnsafeRawBufferPointer(rebasing: base[starts[i]..<starts[i + 1]])
            }, finish: { i, row in
                let text = UnsafeRawBufferPointer(rebasing: base[starts[i]..<starts[i + 1]])
                return (ScoreJSON.line(text, row: row, rewards: rewards, detectors: detectors, lineNumber: numbers[i]), row)
            })
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(results.reduce(0) { $0 + $1.0.count + 1 })
        rows.reserveCapacity(results.count)
        for (line, row) in results {
            bytes += line
            bytes.append(10)
            rows.append(row)
        }
        return bytes
    }

    private func write(_ chunk: ScoredChunk, to output: ScoreOutput, summary: ScoreSummary, bar: ProgressBar) throws {
        try output.write(chunk.bytes)
        for row in chunk.rows { summary.add(row) }
        bar.update(summary.rows)
    }

    /// Counts the records to score on another thread, for the progress bar's total and ETA.
    private func countInBackground(skip: Int, bar: ProgressBar) {
        let path = options.data, shard = options.shard
        Thread.detachNewThread {
            guard let r = try? JSONLinesReader(path: path) else { return }
            var n = 0
            while let line = try? r.nextLine() { _ = line; n += 1 }
            let mine = n > shard.index ? (n - shard.index + shard.count - 1) / shard.count : 0
            bar.setTotal(max(0, mine - skip))
        }
    }
}

/// A scored chunk waiting to be written: its output bytes and rows (for the summary).
final class ScoredChunk: @unchecked Sendable {
    var bytes: [UInt8] = []
    var rows: [ScoredRow] = []
}

/// The records of this run, in order: this shard's, after those `--resume` skips.
struct ScoreInput {
    let reader: JSONLinesReader
    let shard: (index: Int, count: Int)
    /// Records still to skip (the lines already in the output).
    private(set) var skip: Int
    /// A read error (a corrupt gzip stream, an I/O error): reading stops there.
    private(set) var error: Error?
    private var record = -1

    init(reader: JSONLinesReader, shard: (index: Int, count: Int), skip: Int) {
        self.reader = reader
        self.shard = shard
        self.skip = skip
    }

    /// Appends up to `n` records to `chunk`.
    mutating func read(into chunk: inout ScoreChunk, upTo n: Int) {
        do {
            while chunk.count < n, let line = try reader.nextLine() {
                record += 1
                guard record % shard.count == shard.index else { continue }
                if skip > 0 { skip -= 1; continue }
                chunk.append(line, lineNumber: reader.lineNumber)
            }
        } catch {
            self.error = error
        }
    }
}

/// The input lines of one chunk, copied end to end into one buffer.
struct ScoreChunk {
    private(set) var bytes: [UInt8] = []
    /// Where each line starts in `bytes`, plus the end of the last.
    private(set) var starts: [Int] = [0]
    /// Each line's 1-based line number in the file.
    private(set) var lineNumbers: [Int] = []

    var count: Int { lineNumbers.count }

    mutating func reset() {
        bytes.removeAll(keepingCapacity: true)
        starts.removeAll(keepingCapacity: true)
        starts.append(0)
        lineNumbers.removeAll(keepingCapacity: true)
    }

    mutating func append(_ line: UnsafeRawBufferPointer, lineNumber: Int) {
        bytes.append(contentsOf: line)
        starts.append(bytes.count)
        lineNumbers.append(lineNumber)
    }
}
