import Prometheus
import Synchronization
import Workbench

/// `GET /metrics`, in Prometheus text: requests and rows by endpoint and status, row
/// errors, request latency, reloads, and the workers and version being served.
final class ServeMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let reloadsOK: Counter
    private let reloadsFailed: Counter
    private let version: Gauge
    private let workers: Gauge
    private let armed: Counter
    /// RowWatch.armed when the metrics were last written (the counter follows it).
    private let armedSeen = Mutex<UInt64>(0)
    static let latencyBuckets: [Duration] = [.microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5),
                                             .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
                                             .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5),
                                             .seconds(5), .seconds(10), .seconds(30)]

    /// The metrics a scored request of each endpoint updates, made once: looking them up
    /// by name and labels costs more than a few rows of scoring.
    private struct Scored: Sendable {
        let requestsOK: Counter
        let rowsOK: Counter
        let rowsFailed: Counter
        let rowErrors: Counter
        let detectorErrors: Counter
        let duration: DurationHistogram
    }
    private let scored: [String: Scored]

    init() {
        var scored: [String: Scored] = [:]
        for endpoint in ["get_reward", "score"] {
            scored[endpoint] = Scored(requestsOK: registry.makeCounter(descriptor: metric("moonlab_requests_total", ServeMetrics.requestsHelp),
                                                                       labels: [("endpoint", endpoint), ("status", "200")]),
                                      rowsOK: registry.makeCounter(descriptor: metric("moonlab_rows_total", ServeMetrics.rowsHelp),
                                                                   labels: [("endpoint", endpoint), ("status", "ok")]),
                                      rowsFailed: registry.makeCounter(descriptor: metric("moonlab_rows_total", ServeMetrics.rowsHelp),
                                                                       labels: [("endpoint", endpoint), ("status", "error")]),
                                      rowErrors: registry.makeCounter(descriptor: metric("moonlab_row_errors_total", ServeMetrics.rowErrorsHelp),
                                                                      labels: [("endpoint", endpoint)]),
                                      detectorErrors: registry.makeCounter(descriptor: metric("moonlab_detector_errors_total", ServeMetrics.detectorErrorsHelp),
                                                                           labels: [("endpoint", endpoint)]),
                                      duration: registry.makeDurationHistogram(descriptor: metric("moonlab_request_duration_seconds", ServeMetrics.durationHelp),
                                                                               labels: [("endpoint", endpoint)], buckets: ServeMetrics.latencyBuckets))
        }
        self.scored = scored
        reloadsOK = registry.makeCounter(descriptor: metric("moonlab_reloads_total", "Reloads of the rewards files, by result."),
                                         labels: [("result", "ok")])
        reloadsFailed = registry.makeCounter(descriptor: metric("moonlab_reloads_total", "Reloads of the rewards files, by result."),
                                             labels: [("result", "failed")])
        version = registry.makeGauge(descriptor: metric("moonlab_rewards_version",
                                                        "The version of the rewards being served (1, then one more per reload)."))
        workers = registry.makeGauge(descriptor: metric("moonlab_workers", "Worker states (one Lua state per thread)."))
        armed = registry.makeCounter(descriptor: metric("moonlab_rows_armed_total",
                                                        "Reward and detector calls still running after the grace period (about 1 ms): "
                                                            + "their instruction budget was armed then."))
    }

    static let requestsHelp = "HTTP requests, by endpoint (get_reward, score, health, metrics, other) and status code."
    static let rowsHelp = "Rows scored, by endpoint and status."
    static let rowErrorsHelp = "Rows where a reward raised, returned NaN/inf, ran past its budget or timed out."
    static let detectorErrorsHelp = "Rows where a detector raised (their rewards stand: not in moonlab_row_errors_total)."
    static let durationHelp = "Time from a request's arrival to its answer."

    /// One request answered.
    func request(endpoint: String, status: Int, rows: Int, errors: Int, duration: Duration) {
        if status == 200, let m = scored[endpoint] {
            m.requestsOK.increment()
            if rows - errors > 0 { m.rowsOK.increment(by: Int64(rows - errors)) }
            if errors > 0 {
                m.rowsFailed.increment(by: Int64(errors))
                m.rowErrors.increment(by: Int64(errors))
            }
            m.duration.record(duration)
            return
        }
        registry.makeCounter(descriptor: metric("moonlab_requests_total", ServeMetrics.requestsHelp),
                             labels: [("endpoint", endpoint), ("status", String(status))]).increment()
        if rows > 0 {
            let ok = rows - errors
            if ok > 0 {
                registry.makeCounter(descriptor: metric("moonlab_rows_total", ServeMetrics.rowsHelp),
                                     labels: [("endpoint", endpoint), ("status", "ok")]).increment(by: Int64(ok))
            }
            if errors > 0 {
                registry.makeCounter(descriptor: metric("moonlab_rows_total", ServeMetrics.rowsHelp),
                                     labels: [("endpoint", endpoint), ("status", "error")]).increment(by: Int64(errors))
                registry.makeCounter(descriptor: metric("moonlab_row_errors_total", ServeMetrics.rowErrorsHelp),
                                     labels: [("endpoint", endpoint)]).increment(by: Int64(errors))
            }
        }
        registry.makeDurationHistogram(descriptor: metric("moonlab_request_duration_seconds", ServeMetrics.durationHelp),
                                       labels: [("endpoint", endpoint)], buckets: ServeMetrics.latencyBuckets).record(duration)
    }

    /// A request the router answered (/health, /metrics, an unknown path).
    func routed(endpoint: String, status: Int) {
        registry.makeCounter(descriptor: metric("moonlab_requests_total", ServeMetrics.requestsHelp),
                             labels: [("endpoint", endpoint), ("status", String(status))]).increment()
    }

    /// Rows of an answered request where a detector raised and every reward stood.
    func detectorErrors(endpoint: String, rows: Int) {
        scored[endpoint]?.detectorErrors.increment(by: Int64(rows))
    }

    func reloaded(ok: Bool, version v: Int) {
        if ok { reloadsOK.increment() } else { reloadsFailed.increment() }
        version.set(Double(v))
    }

    func serving(version v: Int, workers w: Int) {
        version.set(Double(v))
        workers.set(Double(w))
    }

    func text() -> String {
        armedSeen.withLock { seen in
            let now = RowWatch.armed
            if now > seen { armed.increment(by: Int64(now - seen)) }
            seen = max(seen, now)
        }
        return registry.emitToString()
    }
}

/// The registry's descriptor for a full metric name: the part after the last underscore is
/// its unit (`moonlab_requests` + `total`), so the exposed name is `name` itself.
private func metric(_ name: String, _ help: String) -> MetricNameDescriptor {
    let cut = name.lastIndex(of: "_")!
    return MetricNameDescriptor(metricName: String(name[..<cut]), unitName: String(name[name.index(after: cut)...]), helpText: help)
}
