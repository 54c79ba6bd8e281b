import Workbench

/// One version's Lua states, one per event loop (`ServingLoops`): state i is used only on
/// loop i, which scores one request at a time, so no state is ever shared between threads
/// and no request waits for a worker. A reload makes a new set; a request keeps the set it
/// started with, and the old states close when the last request using them is answered.
// @unchecked Sendable: the array is a let; worker i is used by event loop i alone (the
// set is handed to the loops through the server's lock, which orders its making before).
final class LoopWorkers: @unchecked Sendable {
    private let workers: [PoolWorker]

    /// `count` states (at least 1); `first`, when given, is the first state as it is (its
    /// setup already ran: the plan read the rewards files into it).
    init(count: Int, task: ScoringTask, options: WorkbenchOptions, first: Workbench?) throws {
        var made: [PoolWorker] = []
        for k in 0..<max(1, count) {
            made.append(try PoolWorker(task: task, options: options, existing: k == 0 ? first : nil))
        }
        workers = made
    }

    var count: Int { workers.count }

    /// The state of event loop `loop` (to be used on that loop only).
    subscript(loop: Int) -> PoolWorker { workers[loop] }
}
