import Foundation

/// A client of one OpenAI-compatible server: where it is, which model, and how patient to
/// be. `run` makes calls with `concurrency` requests in flight, retries 408/409/429/5xx and
/// dropped connections with backoff, tops up `n`, and records or replays every exchange.
// @unchecked Sendable: `settings` is a let; `lookup`, `offline` and `observe` are set once
// when the client is made (Workbench.wire), before any `run` shares it with the event loop.
public final class OpenAIClient: @unchecked Sendable {
    public struct Settings: Sendable {
        /// e.g. "http://127.0.0.1:8080/v1" (no trailing slash needed).
        public var baseURL: String
        public var model: String
        public var apiKey: String?
        /// Seconds one request may take.
        public var timeout: Double = 60
        public var concurrency: Int = 8
        /// Further attempts after a retryable failure.
        public var retries: Int = 2
        /// The first pause before a retry (doubling each time, at most 20 s; a server's
        /// Retry-After wins).
        public var backoff: Double = 0.5

        public init(baseURL: String, model: String, apiKey: String? = nil) {
            var b = baseURL
            while b.hasSuffix("/") { b.removeLast() }
            self.baseURL = b
            self.model = model
            self.apiKey = apiKey
        }
    }

    public let settings: Settings
    /// Answers a request from a recording (session replay, cassette) before the network.
    public var lookup: (@Sendable (String) -> Exchange?)?
    /// True when every request must come from `lookup` (replay without a server).
    public var offline = false
    /// Sees every exchange that ends a request (recorded in sessions and cassettes); not
    /// called for answers that came from `lookup`.
    public var observe: (@Sendable (Exchange, _ fromRecording: Bool) -> Void)?

    public init(settings: Settings) { self.settings = settings }

    public func url(_ path: String) -> String { settings.baseURL + path }

    /// Runs the calls and returns one outcome each, in order. Blocks the calling thread (a
    /// Lua state's), waking every 50 ms to report progress and to ask `shouldStop` (Ctrl-C);
    /// when it says stop, requests in flight are cancelled and `ModelError(.interrupted)` is
    /// thrown.
    /// `finished` (if given) sees each call's outcome as it ends, on the event loop (so a
    /// command can write results in order while later ones are still in flight).
    public func run(_ calls: [ModelCall], progress: ((_ done: Int, _ total: Int) -> Void)? = nil,
                    finished: (@Sendable (Int, ModelOutcome) -> Void)? = nil,
                    shouldStop: () -> Bool = { false }) throws -> [ModelOutcome] {
        if calls.isEmpty { return [] }
        let batch = CallBatch(client: self, calls: calls, finished: finished)
        batch.start()
        var lastDone = -1
        while !batch.wait(seconds: 0.05) {
            if shouldStop() {
                batch.stop()
                throw ModelError(.interrupted, url: "", "interrupted")
            }
            let d = batch.finishedCount
            if d != lastDone { progress?(d, calls.count); lastDone = d }
        }
        progress?(calls.count, calls.count)
        return batch.outcomes
    }

    /// One call, its error thrown.
    public func runOne(_ call: ModelCall, shouldStop: () -> Bool = { false }) throws -> ModelOutcome {
        let o = try run([call], shouldStop: shouldStop)[0]
        if let e = o.error { throw e }
        return o
    }

    /// Headers of every request.
    var headers: [(String, String)] {
        var h = [("Content-Type", "application/json"), ("Accept", "application/json"), ("User-Agent", "moonlab")]
        if let k = settings.apiKey, !k.isEmpty { h.append(("Authorization", "Bearer " + k)) }
        return h
    }
}

/// The calls of one `run`, driven on the event loop: a queue of requests, at most
/// `concurrency` in flight, each call's choices gathered across its requests.
// @unchecked Sendable: its queue and handles are touched only on the event loop (every
// method but `finishedCount`/`wait` hops there); `finished` and `outcomes` are read by
// the waiting thread under `lock`, or after `done` is signalled.
final class CallBatch: @unchecked Sendable {
    private let client: OpenAIClient
    private let calls: [ModelCall]
    /// Read by the waiting thread under `lock`; written on the event loop.
    private(set) var outcomes: [ModelOutcome]
    private var choices: [[JSONValue]]
    private var pending: [Int] = []
    private var nextPending = 0
    private var inFlight = 0
    private var finished = 0
    private var stopped = false
    private var handles: [Int: HTTPTransport.Handle] = [:]
    private var nextHandle = 0
    private let lock = NSLock()
    private let done = DispatchSemaphore(value: 0)

    private let onFinish: (@Sendable (Int, ModelOutcome) -> Void)?

    init(client: OpenAIClient, calls: [ModelCall], finished: (@Sendable (Int, ModelOutcome) -> Void)?) {
        self.client = client
        onFinish = finished
        self.calls = calls
        outcomes = Array(repeating: ModelOutcome(), count: calls.count)
        choices = Array(repeating: [], count: calls.count)
        pending = Array(calls.indices)
    }

    var finishedCount: Int { lock.lock(); defer { lock.unlock() }; return finished }

    func start() { HTTPTransport.eventLoop.execute { self.pump() } }

    /// True once every call has finished (waits at most `seconds`).
    func wait(seconds: Double) -> Bool {
        done.wait(timeout: .now() + seconds) == .success
    }

    func stop() {
        HTTPTransport.eventLoop.execute {
            self.stopped = true
            for h in self.handles.values { h.cancel() }
            self.handles.removeAll()
        }
    }

    private func pump() {
        while !stopped, inFlight < max(1, client.settings.concurrency), nextPending < pending.count {
            let i = pending[nextPending]
            nextPending += 1
            launch(i)
        }
    }

    /// The body of call `i`'s next request: `n` asks for what is still missing, and each
    /// further request carries the next seed.
    private func body(_ i: Int) -> String {
        let call = calls[i]
        if call.method == "GET" { return "" }
        var b = call.body
        let made = outcomes[i].requests
        if call.wanted > 0 {
            b["n"] = .integer(call.wanted - choices[i].count)
            if made > 0, let seed = call.body["seed"]?.intValue { b["seed"] = .integer(seed + made) }
        }
        return JSONValue.object(b).text
    }

    private func launch(_ i: Int) {
        inFlight += 1
        let call = calls[i]
        let url = client.url(call.path)
        let body = self.body(i)
        let key = Exchange.key(method: call.method, url: url, request: body)
        if let recorded = client.lookup?(key) {
            outcomes[i].replayed += 1
            client.observe?(recorded, true)
            HTTPTransport.eventLoop.execute { self.answered(i, recorded, body: body, live: false) }
            return
        }
        if client.offline {
            HTTPTransport.eventLoop.execute {
                self.fail(i, ModelError(.notRecorded, url: url,
                    "the recording has no answer for \(call.method) \(call.path) with body \(body)"))
            }
            return
        }
        attempt(i, url: url, body: body, number: 0)
    }

    private func attempt(_ i: Int, url: String, body: String, number: Int) {
        guard !stopped else { return }
        let id = nextHandle
        nextHandle += 1
        let method = calls[i].method
        handles[id] = HTTPTransport.send(method: method, url: url, body: body, headers: client.headers,
                                         timeout: client.settings.timeout) { result in
            self.handles[id] = nil
            guard !self.stopped else { return }
            var failure: ModelError
            var retryAfter: Double?
            switch result {
            case .success(let a) where (200..<300).contains(a.status):
                self.answered(i, Exchange(method: method, url: url, request: body, status: a.status, response: a.body),
                              body: body, live: true)
                return
            case .success(let a):
                failure = ModelError(.status(a.status), url: url, "HTTP \(a.status): \(ModelError.serverMessage(a.body))")
                retryAfter = a.retryAfter
                if failure.isRetryable, number < self.client.settings.retries {
                    self.retry(i, url: url, body: body, number: number, after: retryAfter)
                    return
                }
                if number > 0 { failure.message += " (after \(number + 1) attempts)" }
                let ex = Exchange(method: method, url: url, request: body, status: a.status, response: a.body,
                                  error: failure.description, errorKind: failure.kind.recordedName)
                self.client.observe?(ex, false)
            case .failure(let e):
                failure = e
                if failure.isRetryable, number < self.client.settings.retries {
                    self.retry(i, url: url, body: body, number: number, after: nil)
                    return
                }
                if number > 0 { failure.message += " (after \(number + 1) attempts)" }
                let ex = Exchange(method: method, url: url, request: body, error: failure.description,
                                  errorKind: failure.kind.recordedName)
                self.client.observe?(ex, false)
            }
            self.fail(i, failure)
        }
    }

    private func retry(_ i: Int, url: String, body: String, number: Int, after: Double?) {
        outcomes[i].retries += 1
        let base = min(client.settings.backoff * pow(2, Double(number)), 20)
        let pause = after.map { min($0, 60) } ?? base * Double.random(in: 0.75...1.25)
        HTTPTransport.eventLoop.scheduleTask(in: HTTPTransport.nanoseconds(pause)) {
            self.attempt(i, url: url, body: body, number: number + 1)
        }
    }

    /// A 2xx answer (or a recorded one) for call `i`.
    private func answered(_ i: Int, _ ex: Exchange, body: String, live: Bool) {
        guard !stopped else { return }
        let call = calls[i]
        if let e = ex.replayedError { fail(i, e); return }
        if live { client.observe?(ex, false) }
        let url = ex.url
        guard let v = JSONValue.parse(ex.response) else {
            fail(i, ModelError(.badAnswer, url: url, "the answer is not JSON: \(ModelError.serverMessage(ex.response))"))
            return
        }
        outcomes[i].requests += 1
        outcomes[i].seeds.append(JSONValue.parse(body)?["seed"]?.intValue)
        guard call.wanted > 0 else {
            outcomes[i].response = v
            finish(i)
            return
        }
        guard let got = v["choices"]?.arrayValue else {
            fail(i, ModelError(.badAnswer, url: url, "the answer has no choices: \(ModelError.serverMessage(ex.response))"))
            return
        }
        outcomes[i].choicesPerRequest.append(got.count)
        if got.isEmpty {
            fail(i, ModelError(.badAnswer, url: url, "the server returned no choices (asked for \(call.wanted - choices[i].count))"))
            return
        }
        choices[i] += got
        outcomes[i].response = merged(outcomes[i].response, v, choices: choices[i])
        if choices[i].count < call.wanted {
            inFlight -= 1
            launch(i)  // ask again for the rest, with the next seed
            return
        }
        finish(i)
    }

    /// The first answer with every request's choices (renumbered) and usage summed.
    private func merged(_ first: JSONValue?, _ latest: JSONValue, choices: [JSONValue]) -> JSONValue {
        guard var o = (first ?? latest).objectValue else { return latest }
        o["choices"] = .array(choices.enumerated().map { k, c in
            guard var co = c.objectValue else { return c }
            co["index"] = .integer(k)
            return .object(co)
        })
        if first != nil, let u0 = o["usage"]?.objectValue, let u1 = latest["usage"]?.objectValue {
            var u = u0
            for (k, v) in u1 {
                if let a = u0[k]?.intValue, let b = v.intValue { u[k] = .integer(a + b) }
            }
            o["usage"] = .object(u)
        }
        return .object(o)
    }

    private func fail(_ i: Int, _ e: ModelError) {
        outcomes[i].error = e
        finish(i)
    }

    private func finish(_ i: Int) {
        inFlight -= 1
        onFinish?(i, outcomes[i])
        lock.lock()
        finished += 1
        let all = finished == calls.count
        lock.unlock()
        if all { done.signal() } else { pump() }
    }
}
