import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization
import Workbench

/// `moonlab serve`: the rewards and detectors of `--reward`/`--detect` over HTTP for
/// trainers (design.md, "Trainers: moonlab serve"). Hummingbird (SwiftNIO) takes the
/// connections; each scoring request is answered whole on the event loop that read it, by
/// that loop's own Lua state (`LoopScoringHandler`; the body's JSON parsed straight onto the
/// state's stack), so concurrent requests spread over the loops (`--workers` of them) with no
/// hand-off between threads. `/health` and `/metrics` go through Hummingbird's router.
/// SIGHUP (and, with `--reload`, a change to a rewards file) reads the files again into new
/// states, one per loop, and swaps them in: a file that fails leaves the old rewards
/// serving; requests in flight finish on the version they started with. SIGTERM (or
/// SIGINT) stops accepting, finishes what is in flight and returns: first every loop takes
/// in what was sent before the signal (`settle`), then Hummingbird's graceful shutdown
/// closes the listener and each connection once it owes no answer.
// @unchecked Sendable: `version`, `versions` and `requests` are read and written under `lock`;
// a reload holds `reloading` too, so two never interleave; `signalSources` is filled once by
// `run` before the server answers. The other fields are lets.
public final class RewardServer: @unchecked Sendable {
    private let configuration: ServeConfiguration
    private let lock = NSLock()
    private var version: ServingVersion
    private var versions = 1
    private let reloading = NSLock()
    private let log: AuditLog?
    let metrics = ServeMetrics()
    private var requests: UInt64 = 0
    private let bootID = String(UInt32.random(in: 0...UInt32.max), radix: 36)
    private var signalSources: [DispatchSourceSignal] = []
    /// The event loops, one Lua state of each version per loop.
    let loops: ServingLoops
    /// Connections opened so far (LoopScoringHandler counts them), for `settle`.
    let connectionsOpened = Atomic<Int>(0)

    /// Loads the rewards (an error says what is wrong with a file or a name).
    public init(configuration: ServeConfiguration) throws {
        self.configuration = configuration
        version = try ServingVersion(number: 1, configuration: configuration)
        log = try configuration.logPath.map { try AuditLog(path: $0) }
        loops = ServingLoops(count: version.workers.count)
        metrics.serving(version: 1, workers: version.workers.count)
    }

    /// The rewards and detectors served now.
    public var names: ScoringNames { current().names }

    private func current() -> ServingVersion {
        lock.lock()
        defer { lock.unlock() }
        return version
    }

    /// Serves until SIGTERM or SIGINT, then drains and returns. `ready` gets the bound
    /// address ("127.0.0.1:8000") once the server listens.
    public func run(ready: @escaping @Sendable (String) -> Void) async throws {
        let router = Router()
        router.middlewares.add(RoutedRequestsMetrics(metrics: metrics))  // (before the routes: it wraps them)
        router.get("/health") { _, _ in self.health() }
        router.get("/metrics") { _, _ in
            Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4"],
                     body: .init(byteBuffer: ByteBuffer(string: self.metrics.text())))
        }
        // POST /get_reward and /score never reach the router: LoopScoringHandler answers them.
        var logger = Logger(label: "moonlab.serve")
        logger.logLevel = .error
        let serverName = "moonlab/\(Workbench.version)"
        let c = configuration
        let http = HTTP1Channel.Configuration(additionalChannelHandlers: [
            LoopScoringHandler(server: self, serverName: serverName, maxBodyBytes: c.maxBodyBytes,
                               timeoutMilliseconds: c.timeoutMilliseconds),
        ])
        let app = Application(router: router, server: .http1(configuration: http),
                              configuration: .init(address: .hostname(configuration.host, port: configuration.port),
                                                   serverName: serverName),
                              onServerRunning: { channel in
                                  ready(channel.localAddress.map { "\($0.ipAddress ?? self.configuration.host):\($0.port ?? 0)" } ?? "?")
                              },
                              eventLoopGroupProvider: .shared(loops.group),
                              logger: logger)
        if configuration.watchFiles { watchFiles() }
        // SIGTERM and SIGINT are this server's, not ServiceLifecycle's: the listener must not
        // close before the connections waiting in its backlog are accepted (`settle`).
        let services = ServiceGroup(configuration: .init(services: [app], logger: logger))
        installSignals(stop: { await self.settle(); await services.triggerGracefulShutdown() })
        do { try await services.run() } catch let e as IOError where e.errnoCode == EADDRINUSE {
            await loops.shutdown()
            throw ScoringPlan.Problem("cannot listen on \(configuration.host):\(configuration.port): the address is already in use "
                                      + "(another server on that port? pick another --port, or --port 0 for a free one)")
        } catch {
            await loops.shutdown()
            throw error
        }
        await loops.shutdown()
    }

    // MARK: requests

    /// What to answer to a scoring request (`endpoint` "get_reward" or "score") read on event
    /// loop `loop`: scored there, by that loop's state of the version served now (a reload
    /// meanwhile changes nothing for it). `body` nil: it was larger than --max-body-mb;
    /// `stepText` is the X-Moonlab-Step header as sent (not an integer: 400).
    /// Records the request's metrics, writes the audit log and reports failed rows.
    func answer(endpoint: String, body: ByteBuffer?, headerStep stepText: String?, deadline: DispatchTime,
                arrived: ContinuousClock.Instant, loop: Int) -> (status: Int, bytes: [UInt8]) {
        var status = 200, rows = 0, errors = 0
        defer { metrics.request(endpoint: endpoint, status: status, rows: rows, errors: errors, duration: arrived.duration(to: .now)) }
        guard let body else {
            status = 413
            return (413, RewardResponses.error("the body is larger than --max-body-mb (\(configuration.maxBodyBytes >> 20) MB)"))
        }
        var headerStep: Int?
        if let stepText {
            guard let step = Int(stepText.trimmingCharacters(in: .whitespaces)) else {
                status = 400
                return (400, RewardResponses.error("the X-Moonlab-Step header must be an integer (the training step), got \"\(stepText)\""))
            }
            headerStep = step
        }
        let v = current()
        let limits = RequestLimits(deadline: deadline, headerStep: headerStep, keepRecords: log != nil)
        let worker = v.workers[loop]
        let result = body.withUnsafeReadableBytes { bytes in
            endpoint == "score" ? worker.scoreRecords(body: bytes, limits: limits)
                                : worker.scoreGetReward(body: bytes, limits: limits)
        }
        switch result {
        case .failure(let problem):
            status = 400
            return (400, RewardResponses.error(problem.description))
        case .success(let scored):
            rows = scored.count
            // What the trainer sees as failed (moonlab/errors); a detector that raised is counted apart.
            errors = (0..<scored.count).reduce(0) { $0 + (scored.rewardsFailed($1) ? 1 : 0) }
            let detectorErrors = (0..<scored.count).reduce(0) { $0 + (scored.failed($1) && !scored.rewardsFailed($1) ? 1 : 0) }
            if detectorErrors > 0 { metrics.detectorErrors(endpoint: endpoint, rows: detectorErrors) }
            if let log { log.write(scored, id: nextRequestID(), endpoint: endpoint, version: v) }
            if errors > 0 { reportErrors(scored, endpoint: endpoint) }
            return (200, endpoint == "score" ? RewardResponses.score(scored, version: v, onError: configuration.onError)
                                             : RewardResponses.getReward(scored, version: v, onError: configuration.onError))
        }
    }

    private func json(_ status: Int, _ bytes: [UInt8]) -> Response {
        Response(status: .init(code: status), headers: [.contentType: "application/json"],
                 body: .init(byteBuffer: ByteBuffer(bytes: bytes)))
    }

    private func nextRequestID() -> String {
        lock.lock()
        requests += 1
        let n = requests
        lock.unlock()
        return "\(bootID)-\(n)"
    }

    /// Failed rows go to standard error (one line each, at most a few per request).
    private func reportErrors(_ scored: ScoredRequest, endpoint: String) {
        var lines: [String] = []
        for i in 0..<scored.count where scored.failed(i) {
            if lines.count == 3 { lines.append("  ..."); break }
            let row = scored.row(i)
            let why = row.error ?? row.outcomes.enumerated().filter { $0.element == .nonFinite }
                .map { "\(scored.names.rewards[$0.offset]): returned NaN or an infinity" }.joined(separator: "; ")
            lines.append("moonlab serve: \(endpoint) row \(i)\(scored.step.map { " (step \($0))" } ?? ""): \(why)")
        }
        Platform.writeStderr(lines.joined(separator: "\n") + "\n")
    }

    private func health() -> Response {
        let v = current()
        var out: [UInt8] = Array("{\"status\":\"ok\",\"rewards\":[".utf8)
        for (i, n) in v.names.rewards.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            ScoreJSON.appendString(n, to: &out)
        }
        out += Array("],\"detectors\":[".utf8)
        for (i, n) in v.names.detectors.enumerated() {
            if i > 0 { out.append(UInt8(ascii: ",")) }
            ScoreJSON.appendString(n, to: &out)
        }
        out += Array("],\"workers\":\(v.workers.count),\"version\":\(v.number),\"moonlab\":\"\(Workbench.version)\"}".utf8)
        return json(200, out)
    }

    // MARK: reloads

    /// Reads the rewards files again into new worker states and swaps them in; a failure
    /// leaves the current ones serving and says why. Returns whether it swapped.
    @discardableResult
    public func reload(reason: String) -> Bool {
        reloading.lock()
        defer { reloading.unlock() }
        lock.lock()
        versions += 1
        let number = versions
        lock.unlock()
        do {
            let next = try ServingVersion(number: number, configuration: configuration)
            lock.lock()
            version = next  // the old version stops when its last request is done
            lock.unlock()
            metrics.reloaded(ok: true, version: number)
            Platform.writeStderr("moonlab serve: reloaded (\(reason)): version \(number), rewards \(next.names.rewards.joined(separator: ", "))\n")
            return true
        } catch {
            let still = current().number
            metrics.reloaded(ok: false, version: still)
            Platform.writeStderr("moonlab serve: reload (\(reason)) failed, still serving version \(still): \(error)\n")
            return false
        }
    }

    /// SIGHUP reloads; SIGTERM and SIGINT call `stop`; a second one exits at once (status
    /// 128 + the signal's number).
    private func installSignals(stop: @escaping @Sendable () async -> Void) {
        signal(SIGHUP, SIG_IGN)
        let s = DispatchSource.makeSignalSource(signal: SIGHUP, queue: .global())
        s.setEventHandler { [weak self] in
            guard let self else { return }
            if let problem = self.log?.reopen() { Platform.writeStderr("moonlab serve: SIGHUP: \(problem); the log goes on in the old file\n") }
            self.reload(reason: "SIGHUP")
        }
        s.resume()
        signalSources.append(s)
        let stopping = Atomic(false)
        for number in [SIGTERM, SIGINT] {
            signal(number, SIG_IGN)
            let t = DispatchSource.makeSignalSource(signal: number, queue: .global())
            t.setEventHandler {
                guard !stopping.exchange(true, ordering: .acquiringAndReleasing) else {
                    // A second one (Ctrl-C twice, as with uvicorn): what is in flight is dropped.
                    Platform.writeStderr("moonlab serve: a second SIGTERM or SIGINT: exiting without finishing the requests in flight\n")
                    exit(128 + number)
                }
                Task { await stop() }
            }
            t.resume()
            signalSources.append(t)
        }
    }

    /// Before the listener closes: every loop looks at its sockets again, so the listener
    /// accepts the connections already waiting in its backlog (a loop scoring a request does
    /// not accept meanwhile, and closing a listener resets what it has not accepted: requests
    /// sent before the SIGTERM, lost), each accepted connection is set up on its loop (one the
    /// listener closes before that is dropped, and NIO traps: swift-nio issue 2813) and reads
    /// what was sent on it (else Hummingbird closes it as idle). Rounds of two passes over the
    /// loops, one after the other (the listener's loop, whichever it is, accepts before the
    /// second pass sets the connections up), until a round sees no new connection; at most 20.
    func settle() async {
        var last = -1
        for _ in 0..<20 {
            for _ in 0..<2 {
                for loop in loops.group.makeIterator() {
                    // A task scheduled ahead runs after the loop's next look at its sockets,
                    // and after the tasks queued before it (a new connection's set-up).
                    try? await loop.scheduleTask(in: .milliseconds(1)) {}.futureResult.get()
                }
            }
            let now = connectionsOpened.load(ordering: .acquiring)
            if now == last { return }
            last = now
        }
    }

    /// `--reload`: looks at the rewards files' modification times once a second.
    private func watchFiles() {
        Thread.detachNewThread { [weak self] in
            var seen = self?.current().stamps ?? []
            while let self {
                Thread.sleep(forTimeInterval: 1)
                let now = self.current().files.map { ServingVersion.modified($0) }
                if now != seen {  // once per change, even when the changed file fails to load
                    seen = now
                    self.reload(reason: "a rewards file changed")
                }
            }
        }
    }
}

/// Counts the requests the router answers by endpoint ("health", "metrics", or "other": a
/// trainer's mistyped URL shows as endpoint="other", status="404") and status, beside the
/// scoring requests that `LoopScoringHandler` counts. A path or method that does not exist
/// is answered `{"error": ...}` naming the endpoints that do (Hummingbird's is empty).
struct RoutedRequestsMetrics<Context: RequestContext>: RouterMiddleware {
    let metrics: ServeMetrics
    static var endpoints: [(path: String, method: String)] {
        [("/get_reward", "POST"), ("/score", "POST"), ("/health", "GET"), ("/metrics", "GET")]
    }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        let known = Self.endpoints.first { $0.path == path }
        let endpoint = known.map { String($0.path.dropFirst()) } ?? "other"
        do {
            let response = try await next(request, context)
            metrics.routed(endpoint: endpoint, status: response.status.code)
            return response
        } catch let e as any HTTPResponseError where e.status == .notFound || e.status == .methodNotAllowed {
            var headers: HTTPFields = [.contentType: "application/json"]
            let status: HTTPResponse.Status
            let message: String
            if let known {
                status = .methodNotAllowed
                headers[.allow] = known.method
                message = "\(known.path) takes \(known.method), not \(request.method.rawValue)"
            } else {
                status = .notFound
                message = "no endpoint \(request.method.rawValue) \(path): moonlab serve answers "
                    + Self.endpoints.map { "\($0.method) \($0.path)" }.joined(separator: ", ")
            }
            metrics.routed(endpoint: endpoint, status: status.code)
            return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: RewardResponses.error(message))))
        } catch let e as any HTTPResponseError {
            metrics.routed(endpoint: endpoint, status: e.status.code)
            throw e
        } catch {
            metrics.routed(endpoint: endpoint, status: 500)
            throw error
        }
    }
}
