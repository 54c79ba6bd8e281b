import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// The process's one HTTP client, on one event loop: every request in flight (whatever
/// `concurrency` asks) is multiplexed there. Created on first use, so a prompt or a script
/// that never calls a model pays nothing at start-up; never shut down (it lives as long as
/// the process, and `HTTPClient` must not be dropped unshut).
enum HTTPTransport {
    /// Seconds as NIO's time amount: clamped to [1 ms, one day] (NaN: 1 ms), so no
    /// conversion to Int64 nanoseconds can trap whatever a caller or a server said.
    static func nanoseconds(_ seconds: Double) -> TimeAmount {
        let s = seconds.isNaN ? 0.001 : min(max(seconds, 0.001), 86_400)
        return .nanoseconds(Int64(s * 1e9))
    }

    static let eventLoop: EventLoop = group.next()

    private static let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)

    private static let client: HTTPClient = {
        var config = HTTPClient.Configuration()
        // moonlab bounds the requests in flight itself; the pool must not queue below it.
        config.connectionPool = .init(idleTimeout: .seconds(60), concurrentHTTP1ConnectionsPerHostSoftLimit: 256)
        // A refused connection fails the request at once (the pool would otherwise keep
        // trying until the connect timeout); moonlab's own retries decide what is retried.
        config.connectionPool.retryConnectionEstablishment = false
        config.timeout = .init(connect: .seconds(10))
        config.decompression = .disabled
        return HTTPClient(eventLoopGroupProvider: .shared(group), configuration: config)
    }()

    /// What one attempt gave: the status and body, or the error it failed with.
    struct Answer: Sendable {
        var status: Int
        var body: String
        /// Seconds the server asked to wait (`Retry-After`), if it said.
        var retryAfter: Double?
    }

    /// A request in flight, cancellable.
    final class Handle: Sendable {
        private let task: HTTPClient.Task<HTTPClient.Response>?
        init(_ task: HTTPClient.Task<HTTPClient.Response>?) { self.task = task }
        func cancel() { task?.cancel() }
    }

    /// Sends one request; `done` runs on the event loop with the answer or a `ModelError`.
    static func send(method: String, url: String, body: String, headers: [(String, String)],
                     timeout: Double, done: @escaping @Sendable (Result<Answer, ModelError>) -> Void) -> Handle {
        let request: HTTPClient.Request
        do {
            var h = HTTPHeaders()
            for (k, v) in headers { h.add(name: k, value: v) }
            request = try HTTPClient.Request(url: url, method: HTTPMethod(rawValue: method), headers: h,
                                             body: body.isEmpty ? nil : .string(body))
        } catch {
            eventLoop.execute { done(.failure(ModelError(.transport, url: url, "not a valid URL (\(error))"))) }
            return Handle(nil)
        }
        let deadline = NIODeadline.now() + HTTPTransport.nanoseconds(timeout)
        let task = client.execute(request: request, delegate: ResponseAccumulator(request: request),
                                  eventLoop: .delegate(on: eventLoop), deadline: deadline)
        task.futureResult.whenComplete { result in
            switch result {
            case .success(let r):
                var b = r.body ?? ByteBuffer()
                let text = b.readString(length: b.readableBytes) ?? ""
                // a server's Retry-After: seconds, finite and not negative ("nan" must not trap later)
                let wait = r.headers.first(name: "retry-after").flatMap(Double.init).flatMap { $0.isFinite && $0 >= 0 ? $0 : nil }
                done(.success(Answer(status: Int(r.status.code), body: text, retryAfter: wait)))
            case .failure(let e):
                done(.failure(classify(e, url: url, timeout: timeout)))
            }
        }
        return Handle(task)
    }

    /// Names a network failure as a researcher reads it.
    static func classify(_ error: Error, url: String, timeout: Double) -> ModelError {
        let text = String(describing: error)
        if let e = error as? HTTPClientError {
            switch e {
            case .deadlineExceeded, .readTimeout, .writeTimeout:
                return ModelError(.timeout, url: url, "timed out after \(formatSeconds(timeout)) (no complete answer)")
            case .connectTimeout:
                return ModelError(.timeout, url: url, "timed out connecting (is the server running?)")
            case .remoteConnectionClosed:
                return ModelError(.dropped, url: url, "the server closed the connection before answering")
            case .cancelled:
                return ModelError(.interrupted, url: url, "interrupted")
            default: break
            }
        }
        if text.contains("refused") || text.contains("errno: 111") || text.contains("ECONNREFUSED") {
            return ModelError(.refused, url: url, "connection refused (is the server running?)")
        }
        if text.contains("reset by peer") || text.contains("errno: 104") || text.contains("EOF")
            || text.contains("ioOnClosedChannel") || text.contains("remoteConnectionClosed") {
            return ModelError(.dropped, url: url, "the connection dropped before the answer was complete")
        }
        return ModelError(.transport, url: url, text)
    }

    static func formatSeconds(_ s: Double) -> String {
        s == s.rounded() ? "\(Int(s)) s" : String(format: "%.2f s", s)
    }
}
