import Dispatch
import HTTPTypes
import NIOCore
import NIOHTTPTypes

/// Answers `POST /get_reward` and `POST /score` on the event loop that read the request, with
/// that loop's own Lua state (`LoopWorkers`): the request is read, parsed, scored and written
/// on one thread, as a uvicorn worker does. Through Hummingbird's async handlers each request
/// went NIO event loop -> Swift task -> pool worker -> task -> event loop, and each of those
/// wake-ups waited for a core behind other processes: the server used ~1.1 of 2 cores and
/// was bound by its hand-offs, not its CPU (BENCHMARKS.md, "Serving"). Everything else
/// (`/health`, `/metrics`, unknown paths) passes on to Hummingbird's handler.
///
/// It sits in each connection's pipeline after the HTTP/1 codec and ahead of Hummingbird's
/// handlers (`HTTP1Channel.Configuration.additionalChannelHandlers`), so Hummingbird never
/// sees the requests it answers nor their answers.
///
/// - Order: HTTP/1.1 answers a connection's requests in order. A scoring request that arrives
///   while Hummingbird still owes an answer on the connection waits, with whatever follows
///   it, until that answer's end has been written.
/// - Shutdown (SIGTERM): Hummingbird's handler closes a connection at the quiesce event when
///   it owes no answer; while this handler is reading or holding a request of its own, the
///   event waits until that request is answered. Answers written after it say
///   `Connection: close` and close the connection. A scoring request whose body has not all
///   arrived within `--timeout-ms` is answered 408 and its connection closed, so a client
///   gone mid-send holds neither the connection nor a SIGTERM.
/// - Scoring blocks the loop for the request's time: a slow reward delays the other
///   connections of its loop (as a uvicorn worker's do), bounded per row by the instruction
///   budget and per request by `--timeout-ms`.
final class LoopScoringHandler: ChannelDuplexHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    typealias OutboundIn = HTTPResponsePart
    typealias OutboundOut = HTTPResponsePart

    /// A scoring request being read.
    private struct Own {
        let endpoint: String
        let arrived: ContinuousClock.Instant
        let deadline: DispatchTime
        /// The X-Moonlab-Step header as sent (checked when the request is answered).
        let headerStep: String?
        let close: Bool
        var body = ByteBuffer()
        var bodyBytes = 0
    }

    private let server: RewardServer
    private let serverName: String
    private let maxBodyBytes: Int
    private let timeoutMilliseconds: Int
    /// This connection's event loop's slot (its Lua state in every version).
    private var loop = 0
    /// The scoring request being read, if any.
    private var own: Own?
    /// A request for Hummingbird is being read: its parts pass on.
    private var passing = false
    /// Requests passed on whose answer has not been written yet.
    private var owed = 0
    /// Parts held back (a scoring request behind an answer owed, and all that follows it).
    private var held = CircularBuffer<HTTPRequestPart>()
    /// A quiesce event waits for this handler's request; after it, answers close.
    private var quiesceHeld = false
    private var quiescing = false
    private var date = HTTPDate()
    /// Answers 408 to a scoring request whose body has not all arrived by --timeout-ms.
    private var readDeadline: Scheduled<Void>?
    /// After a 408 the rest of that request is dropped (the connection is closing).
    private var discarding = false

    init(server: RewardServer, serverName: String, maxBodyBytes: Int, timeoutMilliseconds: Int) {
        self.server = server
        self.serverName = serverName
        self.maxBodyBytes = maxBodyBytes
        self.timeoutMilliseconds = timeoutMilliseconds
    }

    func handlerAdded(context: ChannelHandlerContext) {
        loop = server.loops.index(of: context.eventLoop)
        server.connectionsOpened.add(1, ordering: .releasing)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        let part = unwrapInboundIn(data)
        if !held.isEmpty || !take(part, context: context) { held.append(part) }
    }

    /// Hummingbird's answers pass here on their way out: each end settles one owed answer,
    /// which may free the requests held behind it.
    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        context.write(data, promise: promise)
        guard case .end = unwrapOutboundIn(data), owed > 0 else { return }
        owed -= 1
        if owed == 0 && !held.isEmpty {
            // Not from inside a write: the held requests are read (and may be answered) next.
            context.eventLoop.assumeIsolated().execute { self.release(context: context) }
        }
    }

    func userInboundEventTriggered(context: ChannelHandlerContext, event: Any) {
        if event is ChannelShouldQuiesceEvent {
            // (What was sent before the SIGTERM has been read by now: RewardServer.settle. The
            // event is not deferred here: a connection closed later than Hummingbird expects
            // may be one NIO dropped mid-setup, and its close traps: swift-nio issue 2813.)
            quiescing = true
            if own != nil || !held.isEmpty {
                quiesceHeld = true
                return
            }
        }
        context.fireUserInboundEventTriggered(event)
    }

    func channelInactive(context: ChannelHandlerContext) {
        held.removeAll()
        own = nil
        readDeadline?.cancel()
        readDeadline = nil
        context.fireChannelInactive()
    }

    // MARK: reading

    /// Takes one part; false when it must wait (a scoring request while an answer is owed).
    private func take(_ part: HTTPRequestPart, context: ChannelHandlerContext) -> Bool {
        if discarding { return true }
        switch part {
        case .head(let head):
            guard let endpoint = LoopScoringHandler.endpoint(of: head) else {
                passing = true
                owed += 1
                context.fireChannelRead(wrapInboundOut(part))
                return true
            }
            if owed > 0 { return false }
            let step = head.headerFields[LoopScoringHandler.stepHeader]
            let close = head.headerFields[.connection]?.lowercased().contains("close") ?? false
            own = Own(endpoint: endpoint, arrived: .now, deadline: .now() + .milliseconds(timeoutMilliseconds),
                      headerStep: step, close: close)
            // A body that never ends (a client gone mid-send) would hold the connection, and
            // a SIGTERM waiting for it, forever.
            readDeadline = context.eventLoop.assumeIsolated().scheduleTask(in: .milliseconds(Int64(timeoutMilliseconds))) {
                self.readTimedOut(context: context)
            }
        case .body(var bytes):
            if passing || own == nil {
                context.fireChannelRead(wrapInboundOut(part))
            } else {
                own!.bodyBytes += bytes.readableBytes
                if own!.bodyBytes > maxBodyBytes {
                    own!.body = ByteBuffer()  // the rest is read and dropped; the answer is 413
                } else if own!.body.readableBytes == 0 {
                    own!.body = bytes  // most bodies come in one part: kept, not copied
                } else {
                    own!.body.writeBuffer(&bytes)
                }
            }
        case .end:
            if let request = own {
                own = nil
                readDeadline?.cancel()
                readDeadline = nil
                answer(request, context: context)
            } else {
                passing = false
                context.fireChannelRead(wrapInboundOut(part))
            }
        }
        return true
    }

    /// Reads the parts held back, in order, until one must wait again. Outside a read, so
    /// the read's end is signalled too: NIOAsyncChannel hands parts to Hummingbird's task
    /// only then.
    private func release(context: ChannelHandlerContext) {
        defer { context.fireChannelReadComplete() }
        while let part = held.first {
            guard take(part, context: context) else { return }
            held.removeFirst()
        }
        passQuiesceIfDone(context: context)
    }

    // MARK: answering

    private func answer(_ request: Own, context: ChannelHandlerContext) {
        let (status, bytes) = server.answer(endpoint: request.endpoint,
                                            body: request.bodyBytes > maxBodyBytes ? nil : request.body,
                                            headerStep: request.headerStep, deadline: request.deadline,
                                            arrived: request.arrived, loop: loop)
        let close = request.close || quiescing
        var fields: HTTPFields = [.contentType: "application/json", .contentLength: String(bytes.count)]
        fields[.server] = serverName
        fields[.date] = date.now()
        if close { fields[.connection] = "close" }
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .init(code: status), headerFields: fields))), promise: nil)
        var out = context.channel.allocator.buffer(capacity: bytes.count)
        out.writeBytes(bytes)
        context.write(wrapOutboundOut(.body(out)), promise: nil)
        if close {
            let written = context.eventLoop.makePromise(of: Void.self)
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
            written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        } else {
            context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: nil)
        }
        passQuiesceIfDone(context: context)
    }

    /// --timeout-ms passed while a scoring request was still being read: 408, and the
    /// connection closes (what was held behind the request is dropped with it).
    private func readTimedOut(context: ChannelHandlerContext) {
        readDeadline = nil
        guard let request = own else { return }
        own = nil
        held.removeAll()
        discarding = true
        let bytes = RewardResponses.error("the request's body did not arrive in full within --timeout-ms (\(timeoutMilliseconds) ms)")
        server.metrics.request(endpoint: request.endpoint, status: 408, rows: 0, errors: 0, duration: request.arrived.duration(to: .now))
        var fields: HTTPFields = [.contentType: "application/json", .contentLength: String(bytes.count)]
        fields[.server] = serverName
        fields[.date] = date.now()
        fields[.connection] = "close"
        context.write(wrapOutboundOut(.head(HTTPResponse(status: .requestTimeout, headerFields: fields))), promise: nil)
        var out = context.channel.allocator.buffer(capacity: bytes.count)
        out.writeBytes(bytes)
        context.write(wrapOutboundOut(.body(out)), promise: nil)
        let written = context.eventLoop.makePromise(of: Void.self)
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: written)
        written.futureResult.assumeIsolated().whenComplete { _ in context.close(promise: nil) }
        passQuiesceIfDone(context: context)
    }

    /// Hands a held quiesce event on once no request of this handler's is left.
    private func passQuiesceIfDone(context: ChannelHandlerContext) {
        guard quiesceHeld, own == nil, held.isEmpty else { return }
        quiesceHeld = false
        context.fireUserInboundEventTriggered(ChannelShouldQuiesceEvent())
    }

    // MARK: requests

    static let stepHeader = HTTPField.Name("X-Moonlab-Step")!

    /// "get_reward" or "score" for a POST to those paths (a query string or a trailing slash
    /// ignored, as Hummingbird's router does), else nil.
    static func endpoint(of head: HTTPRequest) -> String? {
        guard head.method == .post, var path = head.path?[...] else { return nil }
        if let q = path.firstIndex(where: { $0 == "?" || $0 == "#" }) { path = path[..<q] }
        while path.count > 1 && path.hasSuffix("/") { path = path.dropLast() }
        switch path {
        case "/get_reward": return "get_reward"
        case "/score": return "score"
        default: return nil
        }
    }
}
