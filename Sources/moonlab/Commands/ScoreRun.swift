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
        // The state the rewards files are read into becomes the first worker: a file's
        // top-level prints go to standard error, a reward's prints nowhere (as in every worker).
        let printing = PrintSwitch()
        var firstOptions = global.workbenchOptions
        firstOptions.output = { text in if printing.isOn { Platform.writeStderr(text) } }
        let plan: ScoringPlan
        do {
            plan = try ScoringPlan.make(rewardArguments: options.rewards, detectorArguments: options.detectors,
                                        options: firstOptions, describe: scriptFailure)
        } catch let e as ScoringPlan.Problem {
            throw ScoreUsageError(e.description)
        }
        printing.isOn = false
        let task = plan.task(state: options.state, nanAsError: options.nanAsError)
        let pool: ScoringPool
        do {
            pool = try ScoringPool(workers: options.workers, task: task, options: global.workbenchOptions, first: plan.first)
        } catch {
            throw ScoreUsageError("could not start the workers: \(error)")
        }
        defer { pool.shutdown() }
        let summary = ScoreSummary(names: task.names)
        let output = try ScoreOutput(path: options.out, resume: options.resume,
                                     existing: { line in summary.add(outputLine: line) })
        let stop = ScoreStopSignal()
        stop.install()
        let bar = ProgressBar(label: "score", enabled: options.progress)
        if bar.isDrawing { countInBackground(skip: output.existingLines, bar: bar) }
        let started = Date()
        var input = ScoreInput(reader: reader, shard: options.shard, skip: output.existingLines)
        // Double buffering: while the workers score one chunk, this thread writes the one
        // before and reads the one after.
        var current = ScoreChunk(), spare = ScoreChunk()
        var chunkSize = 64
        input.read(into: &current, upTo: chunkSize)
        var scored: ScoredChunk?
        while current.count > 0 && !stop.isRequested {
            let t0 = Date()
            let finished = DispatchSemaphore(value: 0)
            let job = score(current, pool: pool) { finished.signal() }
            if let done = scored { try write(done, to: output, summary: summary, bar: bar) }
            spare.reset()
            if !stop.isRequested && input.error == nil { input.read(into: &spare, upTo: chunkSize) }
            finished.wait()
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

    /// Scores one chunk on the workers without waiting: each block of rows is scored and
    /// its output lines written into one buffer by the worker that took it, so no line is
    /// copied again before it goes to the file. `done` runs when the last block is scored.
    private func score(_ chunk: ScoreChunk, pool: ScoringPool, done: @escaping () -> Void) -> ScoredChunk {
        let n = chunk.count
        let block = ScoringPool.blockSize(count: n, workers: pool.count)
        let r = pool.names.rewards.count
        let job = ScoredChunk(rows: n, rewards: r, blocks: (n + block - 1) / block)
        let lines = chunk.lines, numbers = chunk.lineNumbers
        let keys = ScoreJSON.Keys(pool.names)
        pool.submit(count: n, block: block, body: { worker, range in
            var out: [UInt8] = []
            out.reserveCapacity(lines.bytes(range).count + range.count * 96)
            for i in range {
                let text = lines.line(i)
                worker.workbench.reseed(row: numbers[i])  // draws follow --seed and the line, not the worker
                let row = worker.score(json: text)
                ScoreJSON.append(text, row: row, keys: keys, lineNumber: numbers[i], to: &out)
                out.append(10)
                // What the summary needs, in flat arrays; a whole row only where there is more.
                for k in 0..<r {
                    job.values.base[i * r + k] = row.values[k]
                    job.outcomes.base[i * r + k] = row.outcomes[k]
                }
                job.extras.base.baseAddress?.advanced(by: i)
                    .initialize(to: row.failures.isEmpty && row.detectorFlags.isEmpty ? nil : row)
            }
            job.blocks.base.baseAddress?.advanced(by: range.lowerBound / block).initialize(to: out)
        }, completion: done)
        return job
    }

    private func write(_ chunk: ScoredChunk, to output: ScoreOutput, summary: ScoreSummary, bar: ProgressBar) throws {
        for block in chunk.blocks.base { try output.write(block) }
        let r = chunk.rewards
        for i in 0..<chunk.extras.base.count {
            summary.add(values: UnsafeBufferPointer(rebasing: chunk.values.base[(i * r)..<(i * r + r)]),
                        outcomes: UnsafeBufferPointer(rebasing: chunk.outcomes.base[(i * r)..<(i * r + r)]),
                        row: chunk.extras.base[i])
        }
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

/// A scored chunk waiting to be written: its output bytes, one buffer per block of rows
/// in input order, and its rows (for the summary). Filled by the workers, each its own
/// blocks and rows; read by the writing thread after the last block is done.
// @unchecked Sendable: its buffers are lets; each worker writes its own blocks and rows, and
// the writing thread reads them after the last block is done (ordered by the pool's lock).
final class ScoredChunk: @unchecked Sendable {
    let blocks: UnsafeBuffer<[UInt8]>
    /// Row i's reward k at `i * rewards + k` (plain values: written, never deinitialized).
    let values: UnsafeBuffer<Double>
    let outcomes: UnsafeBuffer<RewardOutcome>
    /// The whole row where it has failures or detector flags, else nil.
    let extras: UnsafeBuffer<ScoredRow?>
    let rewards: Int

    init(rows n: Int, rewards r: Int, blocks b: Int) {
        rewards = r
        blocks = UnsafeBuffer(count: b)
        values = UnsafeBuffer(count: n * r)
        outcomes = UnsafeBuffer(count: n * r)
        extras = UnsafeBuffer(count: n)
    }

    deinit {
        blocks.free()
        extras.free()
        values.base.deallocate()
        outcomes.base.deallocate()
    }
}

/// Memory for `count` values written once each by worker threads (disjoint elements),
/// read after all of them are written, freed by its owner.
// @unchecked Sendable: disjoint elements written once each, read after all are written.
struct UnsafeBuffer<T>: @unchecked Sendable {
    let base: UnsafeMutableBufferPointer<T>
    init(count: Int) { base = .allocate(capacity: count) }
    func free() {
        _ = base.baseAddress.map { $0.deinitialize(count: base.count) }
        base.deallocate()
    }
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
    private(set) var lines = ChunkLines()
    /// Each line's 1-based line number in the file.
    private(set) var lineNumbers: [Int] = []

    var count: Int { lineNumbers.count }

    mutating func reset() {
        if !isKnownUniquelyReferenced(&lines) { lines = ChunkLines() }
        lines.reset()
        lineNumbers.removeAll(keepingCapacity: true)
    }

    mutating func append(_ line: UnsafeRawBufferPointer, lineNumber: Int) {
        if !isKnownUniquelyReferenced(&lines) { lines = ChunkLines() }
        lines.append(line)
        lineNumbers.append(lineNumber)
    }
}

/// The bytes of a chunk's lines in one growing allocation and where each starts; shared
/// with the workers (as a reference) while they score it, never written meanwhile.
// @unchecked Sendable: written by the reading thread only between chunks, while no worker
// holds it; the workers only read it.
final class ChunkLines: @unchecked Sendable {
    private var storage = UnsafeMutableRawPointer.allocate(byteCount: 1 << 16, alignment: 16)
    private var capacity = 1 << 16
    private var used = 0
    /// Where each line starts, plus the end of the last.
    private var starts: [Int] = [0]

    deinit { storage.deallocate() }

    func reset() {
        used = 0
        starts.removeAll(keepingCapacity: true)
        starts.append(0)
    }

    func append(_ line: UnsafeRawBufferPointer) {
        if used + line.count > capacity {
            let grown = max(capacity * 2, used + line.count)
            let bigger = UnsafeMutableRawPointer.allocate(byteCount: grown, alignment: 16)
            bigger.copyMemory(from: storage, byteCount: used)
            storage.deallocate()
            storage = bigger
            capacity = grown
        }
        if let base = line.baseAddress { (storage + used).copyMemory(from: base, byteCount: line.count) }
        used += line.count
        starts.append(used)
    }

    /// Line `i`'s bytes.
    func line(_ i: Int) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage + starts[i], count: starts[i + 1] - starts[i])
    }

    /// The bytes of lines `range`, end to end.
    func bytes(_ range: Range<Int>) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: storage + starts[range.lowerBound], count: starts[range.upperBound] - starts[range.lowerBound])
    }
}
