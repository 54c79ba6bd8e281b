import Prometheus

/// `GET /metrics`, in Prometheus text: requests and rows by endpoint and status, row
/// errors, request latency, reloads, and the workers and version being served.
final class ServeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let reloadsOK: Counter
    private let reloadsFailed: Counter
    private let version: Gauge
    private let workers: Gauge
    static let latencyBuckets: [Duration] = [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                                             .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                                             .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
                                             .seconds(5), .seconds(10), .seconds(30)]

    init() {
        reloadsOK = registry.makeCounter(name: "moonlab_reloads_total", labels: [("result", "ok")],
                                         help: "Reloads of the rewards files, by result.")
        reloadsFailed = registry.makeCounter(name: "moonlab_reloads_total", labels: [("result", "failed")],
                                             help: "Reloads of the rewards files, by result.")
        version = registry.makeGauge(name: "moonlab_rewards_version", help: "The version of the rewards being served (1, then one more per reload).")
        workers = registry.makeGauge(name: "moonlab_workers", help: "Worker states (one Lua state per thread).")
    }

    /// One request answered.
    func request(endpoint: String, status: Int, rows: Int, errors: Int, duration: Duration) {
        registry.makeCounter(name: "moonlab_requests_total", labels: [("endpoint", endpoint), ("status", String(status))],
                             help: "HTTP requests, by endpoint and status code.").increment()
        if rows > 0 {
            let ok = rows - errors
            if ok > 0 {
                registry.makeCounter(name: "moonlab_rows_total", labels: [("endpoint", endpoint), ("status", "ok")],
                                     help: "Rows scored, by endpoint and status.").increment(by: Int64(ok))
            }
            if errors > 0 {
                registry.makeCounter(name: "moonlab_rows_total", labels: [("endpoint", endpoint), ("status", "error")],
                                     help: "Rows scored, by endpoint and status.").increment(by: Int64(errors))
                registry.makeCounter(name: "moonlab_row_errors_total", labels: [("endpoint", endpoint)],
                                     help: "Rows where a reward raised, returned NaN/inf, ran past its budget or timed out.")
                    .increment(by: Int64(errors))
            }
        }
        registry.makeDurationHistogram(name: "moonlab_request_duration_seconds", labels: [("endpoint", endpoint)],
                                       buckets: ServeMetrics.latencyBuckets,
                                       help: "Time from a request's arrival to its answer.").record(duration)
    }

    func reloaded(ok: Bool, version v: Int) {
        if ok { reloadsOK.increment() } else { reloadsFailed.increment() }
        version.set(Double(v))
    }

    func serving(version v: Int, workers w: Int) {
        version.set(Double(v))
        workers.set(Double(w))
    }

    func text() -> String { registry.emitToString() }
}
