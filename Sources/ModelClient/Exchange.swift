import Foundation
import Synchronization

/// One request to a model server and what came back: the unit that sessions and cassettes
/// record and replay. The request body is kept as canonical JSON text (sorted keys), so the
/// same call made again finds its recording.
public struct Exchange: Sendable, Equatable {
    public var method: String
    public var url: String
    /// The request body, canonical JSON ("" for a GET).
    public var request: String
    /// The HTTP status, 0 when no answer came (refused, timeout).
    public var status: Int
    /// The answer's body (JSON text), "" when none.
    public var response: String
    /// The error the call ended with after its retries, nil on success.
    public var error: String?
    /// The error's kind, so a replayed failure fails the same way.
    public var errorKind: String?

    public init(method: String, url: String, request: String, status: Int = 0, response: String = "",
                error: String? = nil, errorKind: String? = nil) {
        self.method = method; self.url = url; self.request = request
        self.status = status; self.response = response; self.error = error; self.errorKind = errorKind
    }

    /// What a recording is looked up by.
    public var key: String { Exchange.key(method: method, url: url, request: request) }

    public static func key(method: String, url: String, request: String) -> String {
        method + " " + url + "\n" + request
    }

    /// The exchange as one JSON object: request and response embedded as JSON (readable in a
    /// session file), not as escaped strings.
    public var json: JSONValue {
        var o: [String: JSONValue] = ["method": .string(method), "url": .string(url), "status": .integer(status)]
        o["request"] = request.isEmpty ? .null : (JSONValue.parse(request) ?? .string(request))
        o["response"] = response.isEmpty ? .null : (JSONValue.parse(response) ?? .string(response))
        if let error { o["error"] = .string(error) }
        if let errorKind { o["error_kind"] = .string(errorKind) }
        return .object(o)
    }

    /// Reads an exchange written by `json` (nil when the object is not one).
    public init?(json v: JSONValue) {
        guard let method = v["method"]?.stringValue, let url = v["url"]?.stringValue else { return nil }
        func text(_ x: JSONValue?) -> String {
            guard let x, !x.isNull else { return "" }
            return x.stringValue ?? x.text
        }
        self.init(method: method, url: url, request: text(v["request"]), status: v["status"]?.intValue ?? 0,
                  response: text(v["response"]), error: v["error"]?.stringValue,
                  errorKind: v["error_kind"]?.stringValue)
    }

    /// The error this exchange ended with, rebuilt for a replay.
    var replayedError: ModelError? {
        guard let error else { return nil }
        let kind: ModelError.Kind
        switch errorKind {
        case "refused": kind = .refused
        case "timeout": kind = .timeout
        case "dropped": kind = .dropped
        case "interrupted": kind = .interrupted
        case "bad_answer": kind = .badAnswer
        default: kind = status > 0 ? .status(status) : .transport
        }
        let prefix = url + ": "
        return ModelError(kind, url: url, error.hasPrefix(prefix) ? String(error.dropFirst(prefix.count)) : error)
    }
}

extension ModelError.Kind {
    /// The name recordings keep.
    var recordedName: String {
        switch self {
        case .refused: return "refused"
        case .timeout: return "timeout"
        case .dropped: return "dropped"
        case .status: return "status"
        case .badAnswer: return "bad_answer"
        case .notRecorded: return "not_recorded"
        case .interrupted: return "interrupted"
        case .transport: return "transport"
        }
    }
}

/// Recorded exchanges served back in order: each key's answers are a queue, so a request
/// made twice (sampling without a seed) gets its two recorded answers in turn. Thread-safe.
public final class ExchangeTape: Sendable {
    private let queues: Mutex<[String: [Exchange]]>

    public init(_ exchanges: [Exchange] = []) {
        var q: [String: [Exchange]] = [:]
        for e in exchanges { q[e.key, default: []].append(e) }
        queues = Mutex(q)
    }

    /// Takes the next recorded answer to `key`, if any is left.
    public func take(_ key: String) -> Exchange? {
        queues.withLock { queues in
            guard var q = queues[key], !q.isEmpty else { return nil }
            let e = q.removeFirst()
            queues[key] = q
            return e
        }
    }

    /// Adds an exchange at the end of its key's queue.
    public func append(_ e: Exchange) {
        queues.withLock { $0[e.key, default: []].append(e) }
    }
}
