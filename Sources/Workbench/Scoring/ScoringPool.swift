import Foundation
import LuaKit

/// Worker states that live across many batches, each on its own thread: `moonlab score`
/// streams a file through one pool chunk by chunk, `moonlab serve` scores every request on
/// one, and `reward.score{workers = n}` makes one per call. Each worker's `Workbench` (and
/// its setup, e.g. running a rewards file) is made once.
///
/// Work is handed out as jobs over row indices, split into blocks; workers take blocks in
/// order, so a job started first finishes first, and several jobs (concurrent requests)
/// share the workers. Each worker parses its rows' JSON straight onto its own Lua stack
/// (`JSONDecoderToLua`: `null` is `data.null`, as `data.jsonl` gives it), so the thread
/// that reads a file or a request only hands out bytes.
///
///     let pool = try ScoringPool(workers: 2, task: task)
///     let rows = pool.score(count: n) { i in bytes(of: i) }
///     pool.shutdown()
// @unchecked Sendable: its fields are lets; PoolCore (below) says how the threads share work.
public final class ScoringPool: @unchecked Sendable {
    private let core: PoolCore
    /// The names of the task, shared by every row the pool scores.
    public let names: ScoringNames

    /// Builds `workers` worker states (at least 1), one at a time, and starts a thread for
    /// each. `first`, when given, is used as the first worker's state as it is (its setup
    /// already ran: the state `moonlab score` read the rewards files into), so a rewards
    /// file runs once per worker and not once more. Throws the first setup error (a
    /// rewards file that fails, an unknown reward or detector name).
    public init(workers: Int, task: ScoringTask, options: WorkbenchOptions = WorkbenchOptions(),
                first: Workbench? = nil) throws {
        var o = options
        if o.output == nil { o.output = { _ in } }
        var made: [PoolWorker] = []
        for k in 0..<max(1, workers) {
            made.append(try PoolWorker(task: task, options: o, existing: k == 0 ? first : nil))
        }
        names = task.names
        core = PoolCore(workers: made)
    }

    deinit { core.shutdown() }

    /// How many worker states there are.
    public var count: Int { core.workers.count }

    /// Runs `body(worker, rows)` over the rows `0..<count` in blocks of `block` rows on the
    /// worker threads, and returns when every block is done. `state` replaces the task's
    /// `state` table for this job (a trainer's step). With `stopOnInterrupt`, Ctrl-C (the
    /// interrupt flag every state's hook also sees) stops handing out blocks: the rows not
    /// handed out are never given to `body`, and the result is true ("interrupted").
    @discardableResult
    public func run(count: Int, block: Int, state: LuaValue? = nil, stopOnInterrupt: Bool = false,
                    body: @escaping (PoolWorker, Range<Int>) -> Void) -> Bool {
        guard count > 0 else { return false }
        let done = DispatchSemaphore(value: 0)
        let job = PoolJob(count: count, block: block, state: state, body: body, completion: { done.signal() })
        job.stopOnInterrupt = stopOnInterrupt
        core.submit(job)
        done.wait()
        return job.interrupted
    }

    /// As `run`, without waiting: `completion` runs on the worker thread that finished the
    /// last block.
    public func submit(count: Int, block: Int, state: LuaValue? = nil, body: @escaping (PoolWorker, Range<Int>) -> Void,
                       completion: @escaping () -> Void) {
        guard count > 0 else { completion(); return }
        core.submit(PoolJob(count: count, block: block, state: state, body: body, completion: completion))
    }

    /// Scores `count` rows given as JSON texts (`line(i)` must stay valid for the whole
    /// call and may be called from any worker thread), in input order. A row whose text is
    /// not a JSON object gives a row whose failure says so (named "input").
    public func score(count: Int, state: LuaValue? = nil, line: @escaping (Int) -> UnsafeRawBufferPointer) -> [ScoredRow] {
        collect(count: count, state: state) { worker, i in worker.score(json: line(i)) }
    }

    /// Scores records given as `LuaValue` tables, in input order.
    public func score(records: [LuaValue], state: LuaValue? = nil) -> [ScoredRow] {
        collect(count: records.count, state: state) { worker, i in worker.score(record: records[i]) }
    }

    /// Scores rows on the workers and returns them in input order.
    private func collect(count: Int, state: LuaValue?, _ one: @escaping (PoolWorker, Int) -> ScoredRow) -> [ScoredRow] {
        guard count > 0 else { return [] }
        var rows = [ScoredRow](repeating: ScoredRow(names: names), count: count)
        rows.withUnsafeMutableBufferPointer { out in
            let out = UnsafeSendableBuffer(base: out)
            run(count: count, block: ScoringPool.blockSize(count: count, workers: self.count), state: state) { worker, rows in
                for i in rows { out.base[i] = one(worker, i) }
            }
        }
        return rows
    }

    /// Rows per block: small enough that workers share a chunk evenly, large enough that
    /// taking a block costs nothing beside scoring it.
    public static func blockSize(count: Int, workers: Int) -> Int {
        max(1, min(64, count / (workers * 8)))
    }

    /// Lets the jobs already submitted finish, then stops the threads. Idempotent.
    public func shutdown() { core.shutdown() }
}

/// One pool worker: a `ScoringWorker` and its JSON decoder. Used by one thread at a time.
/// Also made apart from any pool, for a thread that scores on its own: `moonlab serve` keeps
/// one per event loop and scores each request on the loop that read it.
public final class PoolWorker {
    let worker: ScoringWorker
    let decoder: JSONDecoderToLua
    let sentinels: DataSentinels
    /// The serial number of the job whose `state` the worker's rewards get now (0: the
    /// task's own).
    fileprivate var stateJob: UInt64 = 0

    /// A worker in a fresh workbench made with `options` (its `output` as given: nil prints),
    /// or in `existing`, whose setup already ran (the state a `ScoringPlan` read the rewards
    /// files into).
    public init(task: ScoringTask, options: WorkbenchOptions, existing: Workbench? = nil) throws {
        worker = try ScoringWorker(task: task, options: options, existing: existing)
        decoder = JSONDecoderToLua(state: worker.workbench.lua)
        sentinels = DataSentinels.of(worker.workbench.lua)
    }

    /// The workbench this worker scores in.
    public var workbench: Workbench { worker.workbench }

    /// Scores one row given as JSON text.
    public func score(json: UnsafeRawBufferPointer) -> ScoredRow {
        let lua = worker.workbench.lua
        let base = lua.top
        defer { lua.top = base }
        guard lua.checkStack(64) else { return .inputFailure("not enough Lua stack", names: worker.names) }
        do {
            try decoder.push(json, into: lua)
        } catch {
            return .inputFailure("not valid JSON: \(error)", names: worker.names)
        }
        guard lua.type(at: -1) == .table, json.first(where: { $0 != 32 && $0 != 9 }) == UInt8(ascii: "{") else {
            return .inputFailure("not a JSON object", names: worker.names)
        }
        return worker.scoreRecord(at: lua.top)
    }

    /// Scores one record given as a `LuaValue`.
    public func score(record: LuaValue) -> ScoredRow { worker.score(record) }

    /// Scores the record at stack index `index` of this worker's state.
    public func scoreRecord(at index: Int32) -> ScoredRow { worker.scoreRecord(at: index) }

    fileprivate func adopt(state: LuaValue?, of job: PoolJob) {
        let id = state == nil ? 0 : job.serial
        guard id != stateJob else { return }
        worker.setState(state ?? worker.defaultState)
        stateJob = id
    }
}

/// A job: rows `0..<count` handed out in blocks, and what to do when all are scored.
final class PoolJob {
    let count: Int
    let block: Int
    let state: LuaValue?
    let body: (PoolWorker, Range<Int>) -> Void
    let completion: () -> Void
    /// Under the pool's lock: the first row not yet handed out, and rows finished.
    var next = 0
    var finished = 0
    /// Set when submitted: 1, 2, ... (which job's `state` a worker holds).
    var serial: UInt64 = 0
    /// Stop handing out blocks at Ctrl-C; `interrupted` tells that it happened.
    var stopOnInterrupt = false
    var interrupted = false

    init(count: Int, block: Int, state: LuaValue?, body: @escaping (PoolWorker, Range<Int>) -> Void,
         completion: @escaping () -> Void) {
        self.count = count
        self.block = max(1, block)
        self.state = state
        self.body = body
        self.completion = completion
    }
}

/// The threads and the queue of a pool, apart from `ScoringPool` so that the threads
/// (which hold the core) do not keep the pool itself alive.
// @unchecked Sendable: `queue`, `head`, `closing`, `running`, `serials` and each job's
// `next`/`finished`/`interrupted` are touched only under `lock`; worker i is used by thread i
// alone. A job's `body` (not @Sendable) runs on the worker threads while `run` waits: its
// callers write disjoint rows of their own buffers.
final class PoolCore: @unchecked Sendable {
    let workers: [PoolWorker]
    private let lock = NSCondition()
    private var queue: [PoolJob] = []
    private var head = 0
    private var closing = false
    private var running = 0
    private var serials: UInt64 = 0

    init(workers: [PoolWorker]) {
        self.workers = workers
        running = workers.count
        for i in workers.indices {
            let t = Thread { [self] in self.loop(self.workers[i]) }  // worker i is this thread's alone
            t.stackSize = 8 << 20  // Lua's C stack in deep calls, as the main thread has
            t.name = "moonlab-worker"
            t.start()
        }
    }

    func submit(_ job: PoolJob) {
        lock.lock()
        serials += 1
        job.serial = serials
        queue.append(job)
        lock.broadcast()
        lock.unlock()
    }

    func shutdown() {
        lock.lock()
        closing = true
        lock.broadcast()
        lock.unlock()
    }

    private func loop(_ worker: PoolWorker) {
        while true {
            lock.lock()
            while head == queue.count && !closing { lock.wait() }
            if head == queue.count {  // closing, and nothing left
                running -= 1
                lock.unlock()
                return
            }
            let job = queue[head]
            let lo = job.next
            var hi = min(job.count, lo + job.block)
            var skipped = 0
            if job.stopOnInterrupt && LuaInterrupt.isPending {  // the rest is never handed out
                job.interrupted = true
                skipped = job.count - lo
                hi = job.count
            }
            job.next = hi
            if hi == job.count {
                head += 1
                if head == queue.count { queue.removeAll(keepingCapacity: true); head = 0 }
            }
            lock.unlock()
            if skipped == 0 {
                worker.adopt(state: job.state, of: job)
                job.body(worker, lo..<hi)
            }
            lock.lock()
            job.finished += hi - lo
            let last = job.finished == job.count
            lock.unlock()
            if last { job.completion() }
        }
    }
}

/// A buffer pointer handed to worker threads that write disjoint elements.
// @unchecked Sendable: each worker writes only its own rows' elements, and the owner reads
// them after the job's completion (ordered by the pool's lock).
struct UnsafeSendableBuffer<T>: @unchecked Sendable {
    let base: UnsafeMutableBufferPointer<T>
}
