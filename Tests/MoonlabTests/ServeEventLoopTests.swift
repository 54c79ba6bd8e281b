import Foundation
import Synchronization
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `moonlab serve` answers /get_reward and /score on the event loop that read them (MoonlabServe's
/// LoopScoringHandler), and everything else through Hummingbird: what that must not change,
/// seen from a raw connection where URLSession would hide it (pipelined requests, a body sent
/// in two halves, Connection: close). In ServeCommandTests, whose server helpers it uses.
extension ServeCommandTests {
    /// Requests sent back to back on one connection are answered in order, whichever handler
    /// answers each: a scoring request behind a /health or /metrics answer waits for it.
    func testPipelinedRequestsAreAnsweredInOrderOnOneConnection() throws {
        let file = dir + "/len.lua"
        try #"reward.define("len", function(s) return #s.completion end)"#.write(toFile: file, atomically: true, encoding: .utf8)
        let s = try start(["--reward", file, "--workers", "1"])
        let c = try RawConnection(s.url)
        defer { c.close() }
        let reward = { (completion: String, path: String) in
            RawConnection.post(path, #"{"query": ["P: \#(completion)"], "prompts": ["P: "]}"#)
        }
        c.send(RawConnection.get("/health") + reward("abc", "/get_reward") + RawConnection.get("/metrics")
               + RawConnection.post("/score", #"{"records": [{"completion": "abcd"}]}"#)
               + reward("abcdef", "/get_reward?from=trainer") + RawConnection.get("/health"))
        let answers = try c.responses(6)
        XCTAssertEqual(answers.map(\.status), [200, 200, 200, 200, 200, 200])
        XCTAssertTrue(answers[0].body.contains(#""status":"ok""#), answers[0].body)
        XCTAssertEqual(try Self.json(Data(answers[1].body.utf8))["rewards"] as? [Double], [3])
        XCTAssertTrue(answers[2].body.contains("moonlab_requests_total"), answers[2].body)
        let results = try Self.json(Data(answers[3].body.utf8))["results"] as? [[String: Any]]
        XCTAssertEqual(results?.first?["reward"] as? Double, 4)
        XCTAssertEqual(try Self.json(Data(answers[4].body.utf8))["rewards"] as? [Double], [6])
        XCTAssertTrue(answers[5].body.contains(#""status":"ok""#), answers[5].body)
        // The scoring answers carry the headers Hummingbird's do.
        XCTAssertEqual(answers[1].headers["content-type"], "application/json")
        XCTAssertTrue(answers[1].headers["server"]?.hasPrefix("moonlab/") ?? false, "\(answers[1].headers)")
        XCTAssertTrue(answers[1].headers["date"]?.hasSuffix(" GMT") ?? false, "\(answers[1].headers)")
        // Connection: close is answered, then the connection closes.
        c.send(RawConnection.post("/get_reward", #"{"query": ["ab"]}"#, close: true))
        let last = try c.responses(1)
        XCTAssertEqual(try Self.json(Data(last[0].body.utf8))["rewards"] as? [Double], [2])
        XCTAssertEqual(last[0].headers["connection"], "close")
        XCTAssertTrue(c.closedByPeer(), "the server closes after answering Connection: close")
    }

    /// A reward that loops, in Lua or inside a string pattern, runs on the event loop: the row
    /// budget stops it, the row gets --on-error, and the loop's other connections are answered
    /// after it (a client on the same loop waits, then gets its answer).
    func testLoopingRewardOnTheEventLoopFailsItsRowAndTheLoopServesOn() throws {
        let file = dir + "/loop.lua"
        try """
            reward.define("v", function(s)
              local c = s.completion
              if c == "loop" then while true do end end
              if c == "pattern" then return string.find(("a"):rep(1e5), ".-b") and 5 or 6 end
              if c == "coroutine" then coroutine.wrap(function() while true do end end)() end
              if c == "pcall" then pcall(function() while true do end end) return 7 end
              if c == "gsub" then string.gsub("ab", "%w", function() while true do end end) return 8 end
              return 1
            end)
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let s = try start(["--reward", file, "--workers", "1", "--max-instructions", "1000000", "--on-error", "-2"])
        // Rows start without the count hook; the row watchdog arms a row that runs past its
        // grace (about 1 ms). Quick rows are not armed (a row descheduled for over 1 ms on a
        // busy machine may be: not counted here); the loops below must be.
        let (quick, _) = try Self.getReward(s, ["ok", "ok"])
        XCTAssertEqual(quick, 200)
        let armedBefore = Self.armed(s)
        let other = Mutex<(Int, [Double]?)>((0, nil))  // written by the second client, read after `group.wait()`
        let group = DispatchGroup()
        DispatchQueue.global().async(group: group) {
            usleep(20_000)  // behind the looping request on the only loop
            let (status, out) = (try? ServeCommandTests.getReward(s, ["ok", "ok"])) ?? (0, [:])
            other.withLock { $0 = (status, out["rewards"] as? [Double]) }
        }
        let (status, out) = try Self.getReward(s, ["loop", "pattern", "ok", "coroutine", "pcall", "gsub", "ok"])
        group.wait()
        XCTAssertEqual(status, 200)
        XCTAssertEqual(out["rewards"] as? [Double], [-2, -2, 1, -2, -2, -2, 1])
        XCTAssertEqual((out["extra_logs"] as? [String: [Double]])?["moonlab/errors"], [1, 1, 0, 1, 1, 1, 0])
        // The Lua loops ran past the grace: armed (a binary whose watchdog never started
        // would stop them with the count hook from their start, and count none).
        XCTAssertGreaterThanOrEqual(Self.armed(s) - armedBefore, 3, "rows armed by the watchdog")
        XCTAssertEqual(other.withLock { $0.0 }, 200)
        XCTAssertEqual(other.withLock { $0.1 }, [1, 1])
        XCTAssertEqual(Self.call(s.url + "/health", "GET").0, 200)
        let err = (try? String(contentsOfFile: s.stderr, encoding: .utf8)) ?? ""
        XCTAssertTrue(err.contains("instruction budget exceeded"), err)
    }

    /// `moonlab_rows_armed_total` from /metrics (-1000 when absent).
    static func armed(_ s: Server) -> Int {
        let text = String(decoding: call(s.url + "/metrics", "GET").1, as: UTF8.self)
        for line in text.split(separator: "\n") where line.hasPrefix("moonlab_rows_armed_total ") {
            return Int(Double(line.split(separator: " ").last ?? "") ?? -1000)
        }
        return -1000
    }

    /// A reload swaps the state of every event loop: connections opened before it, one on
    /// each loop (NIO hands new connections to the loops in turn), are answered by the new
    /// rewards after it, and each loop's state ran the file once.
    func testReloadSwapsTheStateOfEveryLoop() throws {
        let file = dir + "/v.lua"
        let rewards = { (v: Int) in
            "local calls = 0\nreward.define(\"v\", function(s) calls = calls + 1 return \(v) * 1000 + calls end)"
        }
        try rewards(1).write(toFile: file, atomically: true, encoding: .utf8)
        let s = try start(["--reward", file, "--workers", "2"])
        let connections = try (0..<4).map { _ in try RawConnection(s.url) }
        defer { connections.forEach { $0.close() } }
        let ask = { (c: RawConnection) throws -> Double in
            c.send(RawConnection.post("/get_reward", #"{"query": ["a"]}"#))
            let answer = try c.responses(1)[0]
            return try XCTUnwrap((try Self.json(Data(answer.body.utf8))["rewards"] as? [Double])?.first)
        }
        // Four connections over two loops: each loop's state counts its own calls.
        let before = try connections.map(ask)
        XCTAssertEqual(before.sorted(), [1001, 1001, 1002, 1002], "two states, one per loop: \(before)")
        try rewards(2).write(toFile: file, atomically: true, encoding: .utf8)
        kill(s.process.processIdentifier, SIGHUP)
        var version = 0
        for _ in 0..<100 where version != 2 {
            usleep(50_000)
            version = (try? Self.json(Self.call(s.url + "/health", "GET").1)["version"] as? Int) ?? 0
        }
        XCTAssertEqual(version, 2)
        let after = try connections.map(ask)
        XCTAssertEqual(after.sorted(), [2001, 2001, 2002, 2002], "new states on both loops: \(after)")
    }

    /// SIGTERM while a scoring request's body is half sent: the request is read to its end and
    /// answered (saying Connection: close), then the connection closes and the server exits 0.
    func testSIGTERMWaitsForAScoringRequestBeingRead() throws {
        let file = dir + "/len.lua"
        try #"reward.define("len", function(s) return #s.completion end)"#.write(toFile: file, atomically: true, encoding: .utf8)
        let s = try start(["--reward", file, "--workers", "2"])
        let c = try RawConnection(s.url)
        defer { c.close() }
        let body = #"{"query": ["P: abcde"], "prompts": ["P: "]}"#
        let request = RawConnection.post("/get_reward", body)
        let cut = request.index(request.endIndex, offsetBy: -10)
        c.send(String(request[..<cut]))
        usleep(300_000)
        kill(s.process.processIdentifier, SIGTERM)
        usleep(500_000)
        XCTAssertTrue(s.process.isRunning, "the server waits for the request being read")
        c.send(String(request[cut...]))
        let answer = try c.responses(1)
        XCTAssertEqual(answer.first?.status, 200)
        XCTAssertEqual(try Self.json(Data((answer.first?.body ?? "").utf8))["rewards"] as? [Double], [5])
        XCTAssertEqual(answer.first?.headers["connection"], "close")
        XCTAssertTrue(c.closedByPeer())
        s.process.waitUntilExit()
        XCTAssertEqual(s.process.terminationStatus, 0)
    }
}

extension ServeCommandTests {
    /// A client gone mid-body (its connection open, the rest never sent): after --timeout-ms
    /// the request is answered 408 and the connection closed; a SIGTERM meanwhile waits for
    /// that, not forever, and the server exits 0.
    func testABodyThatNeverEndsIsA408AndDoesNotHoldSIGTERM() throws {
        let file = dir + "/len.lua"
        try #"reward.define("len", function(s) return #s.completion end)"#.write(toFile: file, atomically: true, encoding: .utf8)
        let s = try start(["--reward", file, "--workers", "1", "--timeout-ms", "1500"])
        let request = RawConnection.post("/get_reward", #"{"query": ["P: abcde"], "prompts": ["P: "]}"#)
        let cut = request.index(request.endIndex, offsetBy: -10)
        let idle = try RawConnection(s.url)
        defer { idle.close() }
        idle.send(String(request[..<cut]))
        let timedOut = try idle.responses(1)
        XCTAssertEqual(timedOut.first?.status, 408)
        XCTAssertTrue(timedOut.first?.body.contains("--timeout-ms (1500 ms)") ?? false, timedOut.first?.body ?? "")
        XCTAssertEqual(timedOut.first?.headers["connection"], "close")
        XCTAssertTrue(idle.closedByPeer())
        let c = try RawConnection(s.url)  // the server answers on
        defer { c.close() }
        c.send(request)
        XCTAssertEqual(try c.responses(1).first?.status, 200)
        let gone = try RawConnection(s.url)
        defer { gone.close() }
        gone.send(String(request[..<cut]))
        usleep(200_000)
        kill(s.process.processIdentifier, SIGTERM)
        XCTAssertEqual(try gone.responses(1).first?.status, 408)
        s.process.waitUntilExit()
        XCTAssertEqual(s.process.terminationStatus, 0)
    }

    /// A second SIGTERM (or Ctrl-C) while a request runs away exits at once, 128 + 15, instead
    /// of waiting for it (a row with a budget of seconds: without this, the answer, then 0).
    func testASecondSIGTERMExitsAtOnce() throws {
        let file = dir + "/loop.lua"
        try #"reward.define("v", function(s) while true do end end)"#.write(toFile: file, atomically: true, encoding: .utf8)
        let s = try start(["--reward", file, "--workers", "1", "--max-instructions", "2000000000"])
        let c = try RawConnection(s.url)
        defer { c.close() }
        c.send(RawConnection.post("/get_reward", #"{"query": ["a"]}"#))
        usleep(300_000)
        kill(s.process.processIdentifier, SIGTERM)
        usleep(300_000)
        XCTAssertTrue(s.process.isRunning, "the first SIGTERM waits for the request")
        kill(s.process.processIdentifier, SIGTERM)
        s.process.waitUntilExit()
        XCTAssertEqual(s.process.terminationStatus, 128 + SIGTERM)
        XCTAssertTrue(((try? String(contentsOfFile: s.stderr, encoding: .utf8)) ?? "").contains("a second SIGTERM or SIGINT"))
    }

    /// SIGTERM right after more requests than workers were sent, each on its own connection:
    /// while the one loop scores the first, the others wait unaccepted in the listener's
    /// backlog or unread in their sockets. Every one is answered, then the server exits 0
    /// (the listener closed at once and reset them, or Hummingbird closed them as idle).
    func testSIGTERMAnswersEveryRequestSentBeforeIt() throws {
        let file = dir + "/slow.lua"
        try #"reward.define("v", function(s) local x = 0 for i = 1, 2e6 do x = x + i end return 7 end)"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        let s = try start(["--reward", file, "--workers", "1"])
        let request = RawConnection.post("/get_reward", #"{"query": ["a", "b", "c"]}"#)
        var connections: [RawConnection] = []
        defer { connections.forEach { $0.close() } }
        for _ in 0..<6 {
            let c = try RawConnection(s.url)
            c.send(request)
            connections.append(c)
        }
        kill(s.process.processIdentifier, SIGTERM)
        for (i, c) in connections.enumerated() {
            let answer = try c.responses(1).first
            XCTAssertEqual(answer?.status, 200, "request \(i)")
            XCTAssertEqual(try Self.json(Data((answer?.body ?? "").utf8))["rewards"] as? [Double], [7, 7, 7], "request \(i)")
        }
        s.process.waitUntilExit()
        XCTAssertEqual(s.process.terminationStatus, 0)
    }
}

/// One HTTP/1.1 connection over a plain socket: requests written as text, answers read back
/// by their Content-Length.
final class RawConnection {
    struct Answer {
        let status: Int
        /// Lowercased names.
        let headers: [String: String]
        let body: String
    }
    struct Failed: Error, CustomStringConvertible { let description: String }

    private let fd: Int32
    private var buffer: [UInt8] = []

    /// `url`: "http://127.0.0.1:PORT".
    init(_ url: String) throws {
        guard let u = URL(string: url), let port = u.port else { throw Failed(description: "bad url \(url)") }
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr(u.host ?? "127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard connected == 0 else { throw Failed(description: "connect to \(url) failed") }
        var timeout = timeval(tv_sec: 30, tv_usec: 0)  // a test that waits longer has failed
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
    }

    func close() { Glibc.close(fd) }

    static func get(_ path: String) -> String {
        "GET \(path) HTTP/1.1\r\nHost: localhost\r\n\r\n"
    }

    static func post(_ path: String, _ body: String, close: Bool = false) -> String {
        "POST \(path) HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n"
            + (close ? "Connection: close\r\n" : "") + "Content-Length: \(body.utf8.count)\r\n\r\n" + body
    }

    func send(_ text: String) {
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n <= 0 { return }
            done += n
        }
    }

    /// Reads `count` answers.
    func responses(_ count: Int) throws -> [Answer] {
        var out: [Answer] = []
        while out.count < count {
            if let answer = try parse() { out.append(answer); continue }
            guard fill() else { throw Failed(description: "connection ended after \(out.count) of \(count) answers") }
        }
        return out
    }

    /// Whether the server closed the connection (reads nothing more, then end of stream).
    func closedByPeer() -> Bool {
        while true {
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = recv(fd, &chunk, chunk.count, 0)
            if n == 0 { return true }
            if n < 0 { return false }  // timed out: still open
        }
    }

    private func fill() -> Bool {
        var chunk = [UInt8](repeating: 0, count: 65536)
        let n = recv(fd, &chunk, chunk.count, 0)
        guard n > 0 else { return false }
        buffer += chunk[..<n]
        return true
    }

    /// One whole answer from the front of the buffer, if it has one.
    private func parse() throws -> Answer? {
        let end: [UInt8] = Array("\r\n\r\n".utf8)
        guard buffer.count >= 4, let h = (0...(buffer.count - 4)).first(where: { Array(buffer[$0..<($0 + 4)]) == end }) else {
            return nil
        }
        let lines = String(decoding: buffer[..<h], as: UTF8.self).components(separatedBy: "\r\n")
        guard let statusLine = lines.first, statusLine.split(separator: " ").count >= 2,
              let status = Int(statusLine.split(separator: " ")[1]) else { throw Failed(description: "bad status line") }
        var headers: [String: String] = [:]
        for line in lines.dropFirst() {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        let length = Int(headers["content-length"] ?? "0") ?? 0
        guard buffer.count >= h + 4 + length else { return nil }
        let body = String(decoding: buffer[(h + 4)..<(h + 4 + length)], as: UTF8.self)
        buffer.removeFirst(h + 4 + length)
        return Answer(status: status, headers: headers, body: body)
    }
}
