import ArgumentParser
import Foundation
import MoonlabServe
import Synchronization
import Workbench

/// `moonlab serve`: rewards and detectors over HTTP for trainers (design.md, "Trainers:
/// moonlab serve"). The server lives in MoonlabServe, which nothing else touches.
struct ServeCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve rewards and detectors over HTTP to trainers (OpenRLHF's /get_reward, /score, /health, /metrics).",
        discussion: """
            POST /get_reward takes OpenRLHF's {"query": [...], "prompts": [...], "labels": [...]} \
            (each row becomes {query, prompt, label, completion = query without its prompt}) and \
            answers {"rewards": [...], "scores": [...], "extra_logs": {name: [...], \
            "moonlab/errors": [...]}}. POST /score takes {"records": [...]} and answers \
            {"results": [...]}, each what `moonlab score` adds to a line. A "step" in the body \
            (or an X-Moonlab-Step header) reaches rewards as state.step. A row whose reward \
            raised, returned NaN/inf, ran past --max-instructions or --timeout-ms gets \
            --on-error and 1 in extra_logs["moonlab/errors"]; the answer is still 200. Bad \
            JSON or lists of different lengths: 400; a body over --max-body-mb: 413. A row runs \
            without the instruction count hook until it has run for a grace period (about 1 ms); \
            --max-instructions counts from then, so a runaway row stops after at most the grace \
            plus the budget.

            SIGHUP (and, with --reload, a change to a rewards file) reads the files again; a \
            file that fails to load leaves the old rewards serving. SIGHUP also reopens --log \
            (for logrotate). SIGTERM stops accepting, \
            finishes the requests in flight and exits 0.

            Example: moonlab serve --reward rewards.lua --port 8000 --log audit.jsonl
            OpenRLHF: --remote_rm_url http://HOST:8000/get_reward (several URLs for several replicas)
            """)

    @OptionGroup var global: GlobalOptions

    @Option(help: ArgumentHelp("A registered reward, or a .lua file: every reward it defines is served. Repeatable.", valueName: "name|file.lua"))
    var reward: [String] = []

    @Option(help: ArgumentHelp("A detector by name (from a plugin or a --reward file). Repeatable.", valueName: "name"))
    var detect: [String] = []

    @Option(help: ArgumentHelp("Weights of the rewards in \"rewards\" when several are served (default 1 each).", valueName: "name=w,..."))
    var weights: [String] = []

    @Option(help: ArgumentHelp("The reward whose value \"scores\" holds (default: the same as \"rewards\").", valueName: "name"))
    var score: String?

    @Option(name: .customLong("on-error"), parsing: .unconditional, help: ArgumentHelp("What a failed row gets in rewards, scores and extra_logs (default 0).", valueName: "x"))
    var onError: String = "0"

    @Option(help: "Address to listen on (default 127.0.0.1; 0.0.0.0 for every interface).")
    var host = "127.0.0.1"

    @Option(help: "Port (default 8000; 0 picks a free one, printed at start).")
    var port = 8000

    @Option(help: ArgumentHelp("Threads, each with one Lua state, answering the requests of its connections (default: the number of cores).", valueName: "n"))
    var workers: Int?

    @Option(name: .customLong("timeout-ms"), help: ArgumentHelp("Rows not started this long after their request arrived fail; a body not all received by then is a 408 (default 30000).", valueName: "ms"))
    var timeoutMs = 30_000

    @Option(name: .customLong("max-body-mb"), help: ArgumentHelp("Largest request body (default 64).", valueName: "mb"))
    var maxBodyMB = 64

    @Option(name: .customLong("max-instructions"), help: ArgumentHelp("Instructions a reward may run on one row, counted after its first ~1 ms (default 100000000).", valueName: "n"))
    var maxInstructions = 100_000_000

    @Option(help: ArgumentHelp("Append every scored row to this JSON Lines file (readable by moonlab score and data.jsonl).", valueName: "file.jsonl"))
    var log: String?

    @Flag(help: "Read the rewards files again when they change (SIGHUP does it at any time).")
    var reload = false

    mutating func run() throws {
        guard !reward.isEmpty else { fail("serve: --reward NAME|FILE.lua is required") }
        var c = ServeConfiguration(rewardArguments: reward, workbench: global.workbenchOptions)
        c.detectorArguments = detect
        c.scoreName = score
        guard let e = Double(onError), e.isFinite else { fail("serve: --on-error \(onError): expected a finite number") }
        c.onError = e
        for item in weights.flatMap({ $0.split(separator: ",") }) {
            let parts = item.split(separator: "=", maxSplits: 1)
            guard parts.count == 2, let w = Double(parts[1]), w.isFinite else {
                fail("serve: --weights \(item): expected NAME=W (e.g. format=0.5,accuracy=1)")
            }
            c.weights[String(parts[0])] = w
        }
        c.host = host
        guard (0...65535).contains(port) else { fail("serve: --port \(port): expected 0 to 65535") }
        c.port = port
        if let workers {
            guard (1...512).contains(workers) else { fail("serve: --workers \(workers): expected 1 to 512") }
            c.workers = workers
        }
        guard timeoutMs >= 1 else { fail("serve: --timeout-ms must be at least 1") }
        c.timeoutMilliseconds = timeoutMs
        guard (1...4096).contains(maxBodyMB) else { fail("serve: --max-body-mb \(maxBodyMB): expected 1 to 4096") }
        c.maxBodyBytes = maxBodyMB << 20
        guard maxInstructions >= 1000 else { fail("serve: --max-instructions must be at least 1000") }
        c.instructionsPerRow = maxInstructions
        c.logPath = log
        c.watchFiles = reload
        if reload && !reward.contains(where: ScoringPlan.isFile) {
            Platform.writeStderr("moonlab serve: --reload: no --reward FILE.lua to watch (a reward given by name is not watched)\n")
        }
        c.describe = { scriptFailure($0) }
        let server: RewardServer
        do { server = try RewardServer(configuration: c) } catch { fail("serve: \(error)") }
        let names = server.names, workerCount = c.workers
        let done = DispatchSemaphore(value: 0)
        let failure = Mutex<(any Error)?>(nil)  // set by the server task, read after `done`
        Task.detached {
            do {
                try await server.run { address in
                    Platform.writeStderr("moonlab serve: listening on http://\(address) (rewards: \(names.rewards.joined(separator: ", "))"
                                         + (names.detectors.isEmpty ? "" : "; detectors: \(names.detectors.joined(separator: ", "))")
                                         + "; \(workerCount) workers)\n")
                }
            } catch {
                failure.withLock { $0 = error }
            }
            done.signal()
        }
        done.wait()
        if let e = failure.withLock({ $0 }) { fail("serve: \(e)") }
        Platform.writeStderr("moonlab serve: stopped\n")
    }
}
