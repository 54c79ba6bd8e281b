import Foundation
import Synchronization
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif
import XCTest
#if canImport(Glibc)
import Glibc
#endif

/// `moonlab serve` end to end: the built binary on loopback, as a trainer calls it.
final class ServeCommandTests: XCTestCase {
    var dir = ""
    var servers: [Process] = []

    override func setUpWithError() throws {
        dir = NSTemporaryDirectory() + "moonlab-serve-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
    }

    override func tearDown() {
        for p in servers where p.isRunning { kill(p.processIdentifier, SIGKILL); p.waitUntilExit() }
        try? FileManager.default.removeItem(atPath: dir)
    }

    static let rewards = """
        reward.define("len", function(s) return #s.completion end)
        reward.define("trouble", function(s, state)
          local c = s.completion
          if c == "raise" then error("raised on purpose") end
          if c == "nan" then return 0/0 end
          if c == "loop" then while true do end end
          if c == "skip" then return nil end
          return (state.step or -1)
        end)
        detect.define("long", function(s) return #s.completion > 5, #s.completion end)
        """

    struct ServerFailed: Error { let text: String }

    struct Server {
        let process: Process
        let url: String
        let stderr: String
    }

    /// Starts `moonlab serve ARGS --port 0` and waits for its "listening on" line.
    func start(_ args: [String]) throws -> Server {
        let errPath = dir + "/serve-\(servers.count).log"
        _ = FileManager.default.createFile(atPath: errPath, contents: nil)
        let p = Process()
        p.executableURL = URL(fileURLWithPath: PseudoTerminal.moonlabPath)
        p.arguments = ["serve"] + args + ["--port", "0"]
        p.standardError = try FileHandle(forWritingTo: URL(fileURLWithPath: errPath))
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        servers.append(p)
        for _ in 0..<600 {
            let text = (try? String(contentsOfFile: errPath, encoding: .utf8)) ?? ""
            if let r = text.range(of: "listening on http://") {
                let rest = text[r.upperBound...].prefix { $0 != " " && $0 != "\n" }
                return Server(process: p, url: "http://" + rest, stderr: errPath)
            }
            if !p.isRunning { throw ServerFailed(text: "server exited: \(text)") }
            usleep(100_000)
        }
        throw ServerFailed(text: "server did not start")
    }

    /// A request; returns status and body.
    static func call(_ url: String, _ method: String = "POST", body: Data? = nil, headers: [String: String] = [:]) -> (Int, Data) {
        var request = URLRequest(url: URL(string: url)!)
        request.httpMethod = method
        request.httpBody = body
        request.timeoutInterval = 60
        for (k, v) in headers { request.setValue(v, forHTTPHeaderField: k) }
        request.setValue("application/json", forHTTPHeaderField: "Content-Type")
        let done = DispatchSemaphore(value: 0)
        let result = Mutex((0, Data()))  // written by URLSession's thread, read after `done`
        URLSession.shared.dataTask(with: request) { data, response, _ in
            result.withLock { $0 = ((response as? HTTPURLResponse)?.statusCode ?? 0, data ?? Data()) }
            done.signal()
        }.resume()
        done.wait()
        return result.withLock { $0 }
    }

    static func json(_ data: Data) throws -> [String: Any] {
        try XCTUnwrap(try JSONSerialization.jsonObject(with: data) as? [String: Any], String(decoding: data, as: UTF8.self))
    }

    static func getReward(_ s: Server, _ completions: [String], step: Int? = nil, headers: [String: String] = [:]) throws -> (Int, [String: Any]) {
        var body: [String: Any] = ["query": completions.map { "P: " + $0 }, "prompts": completions.map { _ in "P: " },
                                   "labels": completions.map { _ in NSNull() }]
        if let step { body["step"] = step }
        let (status, data) = Self.call(s.url + "/get_reward", body: try JSONSerialization.data(withJSONObject: body), headers: headers)
        return (status, status == 200 ? try Self.json(data) : [:])
    }

    /// `--reload` watches the `--reward` files; with only reward names there is nothing to
    /// watch, and the server now says so instead of accepting the option silently.
    func testReloadWithNoRewardsFileSaysSo() throws {
        let named = try start(["--reward", "length", "--reload"])
        let text = try String(contentsOfFile: named.stderr, encoding: .utf8)
        XCTAssertTrue(text.contains("--reload: no --reward FILE.lua to watch"), text)
        let file = dir + "/r.lua"
        try Self.rewards.write(toFile: file, atomically: true, encoding: .utf8)
        let watched = try start(["--reward", file, "--reload"])
        XCTAssertFalse(try String(contentsOfFile: watched.stderr, encoding: .utf8).contains("--reload:"))
    }

    func testOpenRLHFProtocolErrorsAndState() throws {
        let file = dir + "/r.lua"
        try ServeCommandTests.rewards.write(toFile: file, atomically: true, encoding: .utf8)
        let log = dir + "/audit.jsonl"
        let s = try start(["--reward", file, "--detect", "long", "--workers", "2", "--on-error", "-1",
                           "--max-instructions", "100000", "--log", log, "--weights", "len=0.5"])
        let (status, out) = try Self.getReward(s, ["abc", "raise", "nan", "loop", "skip", "abcdefgh"], step: 7)
        XCTAssertEqual(status, 200)
        // rewards = 0.5 * len + trouble; failing rows get --on-error and 1 in moonlab/errors.
        XCTAssertEqual(out["rewards"] as? [Double], [1.5 + 7, -1, -1, -1, 2, 4 + 7])
        XCTAssertEqual(out["scores"] as? [Double], out["rewards"] as? [Double])
        let logs = try XCTUnwrap(out["extra_logs"] as? [String: [Double]])
        XCTAssertEqual(logs["moonlab/errors"], [0, 1, 1, 1, 0, 0])
        XCTAssertEqual(logs["len"], [3, 5, 3, 4, 4, 8])
        XCTAssertEqual(logs["trouble"], [7, -1, -1, -1, -1, 7])
        XCTAssertEqual(logs["long"], [3, 5, 3, 4, 4, 8])
        // The step from a header when the body has none.
        let (_, h) = try Self.getReward(s, ["abc"], headers: ["X-Moonlab-Step": "42"])
        XCTAssertEqual(h["rewards"] as? [Double], [1.5 + 42])
        // OpenRLHF sends an empty slice to a replica when there are fewer queries than URLs.
        let (emptyStatus, empty) = try Self.getReward(s, [])
        XCTAssertEqual(emptyStatus, 200)
        XCTAssertEqual(empty["rewards"] as? [Double], [])
        // /score: what moonlab score adds, plus the combined reward.
        let (sst, sdata) = Self.call(s.url + "/score", body: Data(#"{"records": [{"completion": "abc"}, {"completion": "raise"}, 3], "step": 1}"#.utf8))
        XCTAssertEqual(sst, 200)
        let results = try XCTUnwrap(try Self.json(sdata)["results"] as? [[String: Any]])
        XCTAssertEqual(results[0]["reward"] as? Double, 2.5)
        XCTAssertEqual((results[1]["errors"] as? [String: String])?["trouble"]?.hasSuffix("raised on purpose"), true)
        XCTAssertEqual(results[2]["error"] as? String, "record 2 is not a JSON object")
        // The audit log has every row with its request id, readable by data.jsonl.
        let lines = try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n")
        XCTAssertEqual(lines.count, 6 + 1 + 3)
        let first = try Self.json(Data(lines[0].utf8))
        XCTAssertEqual(first["completion"] as? String, "abc")
        XCTAssertEqual(first["step"] as? Int, 7)
        XCTAssertEqual(first["endpoint"] as? String, "get_reward")
        XCTAssertNotNil(first["request_id"] as? String)
        XCTAssertEqual((first["rewards"] as? [String: Double])?["trouble"], 7)
        XCTAssertTrue(lines[3].contains("instruction budget"), String(lines[3]))
        let read = try runMoonlab(["-e", "local n = 0 for r in data.jsonl('\(log)'):each() do n = n + 1 end return n"])
        XCTAssertEqual(read.stdout, "10\n", read.stderr)
        // A query that is not UTF-8 is scored (as bytes), and logged as valid UTF-8 (U+FFFD).
        let (bad, _) = Self.call(s.url + "/get_reward", body: Data([UInt8](#"{"query": ["P: a"#.utf8) + [0xFF, 0xFE] + Array(#"b"]}"#.utf8)))
        XCTAssertEqual(bad, 200)
        let badLine = try XCTUnwrap(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").last)
        XCTAssertEqual(try Self.json(Data(badLine.utf8))["query"] as? String, "P: a\u{FFFD}\u{FFFD}b")
        // SIGHUP reopens the log: after logrotate moved it, the lines go to a new file.
        try FileManager.default.moveItem(atPath: log, toPath: log + ".1")
        kill(s.process.processIdentifier, SIGHUP)
        for _ in 0..<300 where !((try? String(contentsOfFile: s.stderr, encoding: .utf8)) ?? "").contains("reloaded (SIGHUP)") {
            usleep(20_000)
        }
        _ = try Self.getReward(s, ["rotated"])
        XCTAssertEqual(try String(contentsOfFile: log, encoding: .utf8).split(separator: "\n").count, 1)
        XCTAssertEqual(try String(contentsOfFile: log + ".1", encoding: .utf8).split(separator: "\n").count, 11)
        try FileManager.default.removeItem(atPath: log)
        try FileManager.default.moveItem(atPath: log + ".1", toPath: log)
        let lenOnly = dir + "/len.lua"  // (the logged "loop" row would loop without a budget)
        try #"reward.define("len", function(s) return #s.completion end)"#.write(toFile: lenOnly, atomically: true, encoding: .utf8)
        let rescored = try runMoonlab(["score", "--data", log, "--reward", lenOnly])
        XCTAssertEqual(rescored.status, 0, rescored.stderr)
        XCTAssertTrue(rescored.stdout.split(separator: "\n").first?.hasSuffix(#""rewards":{"len":3.0},"flags":{}}"#) ?? false,
                      rescored.stdout)
        // Metrics in Prometheus text.
        let (mst, metrics) = Self.call(s.url + "/metrics", "GET")
        XCTAssertEqual(mst, 200)
        let text = String(decoding: metrics, as: UTF8.self)
        XCTAssertTrue(text.contains(#"moonlab_requests_total{endpoint="get_reward",status="200"} 5"#), text)
        XCTAssertTrue(text.contains(#"moonlab_row_errors_total{endpoint="get_reward"} 3"#), text)
        XCTAssertTrue(text.contains("moonlab_request_duration_seconds_bucket"), text)
        let (hst, health) = Self.call(s.url + "/health", "GET")
        XCTAssertEqual(hst, 200)
        XCTAssertEqual(try Self.json(health)["rewards"] as? [String], ["len", "trouble"])
    }

    func testBadRequestsAndLimits() throws {
        let s = try start(["--reward", "length", "--max-body-mb", "1", "--timeout-ms", "100000"])
        let cases: [(String, String)] = [
            ("{not json", "not valid JSON"),
            (#"{"query": ["a", "b"], "prompts": ["a"]}"#, "same length"),
            (#"{"prompts": ["a"]}"#, "no \"query\" list"),
            (#"{"query": "a"}"#, "must be a list"),
            (#"{"query": [1]}"#, "must be a string"),
            ("[1, 2]", "JSON object"),
            (#"{"query": ["a"], "step": "x"}"#, "step"),
        ]
        for (body, message) in cases {
            let (status, data) = Self.call(s.url + "/get_reward", body: Data(body.utf8))
            XCTAssertEqual(status, 400, body)
            XCTAssertTrue(((try? Self.json(data))?["error"] as? String)?.contains(message) ?? false, "\(body): \(String(decoding: data, as: UTF8.self))")
        }
        // A step header that is not an integer is the sender's mistake, not "no step".
        let (hst, hdata) = Self.call(s.url + "/get_reward", body: Data(#"{"query": ["a"]}"#.utf8), headers: ["X-Moonlab-Step": "abc"])
        XCTAssertEqual(hst, 400)
        XCTAssertTrue(String(decoding: hdata, as: UTF8.self).contains("X-Moonlab-Step header must be an integer"), String(decoding: hdata, as: UTF8.self))
        XCTAssertEqual(Self.call(s.url + "/get_reward", body: Data(#"{"query": {"a": "b"}}"#.utf8)).0, 400)
        XCTAssertEqual(Self.call(s.url + "/score", body: Data(#"{"records": {"a": {"completion": "b"}}}"#.utf8)).0, 400)
        let big = Data(("{\"query\": [\"" + String(repeating: "x", count: 2 << 20) + "\"]}").utf8)
        XCTAssertEqual(Self.call(s.url + "/get_reward", body: big).0, 413)
        XCTAssertEqual(Self.call(s.url + "/score", body: Data(#"{"recs": []}"#.utf8)).0, 400)
        XCTAssertEqual(Self.call(s.url + "/get_reward", body: Data(#"{"query": ["ok"]}"#.utf8)).0, 200)  // still serving
        // A mistyped URL (a trainer's --remote_rm_url) shows in /metrics, as do the router's answers.
        let (missing, missingBody) = Self.call(s.url + "/get_rewards", body: Data(#"{"query": ["ok"]}"#.utf8))
        XCTAssertEqual(missing, 404)
        XCTAssertEqual(try Self.json(missingBody)["error"] as? String,
                       "no endpoint POST /get_rewards: moonlab serve answers POST /get_reward, POST /score, GET /health, GET /metrics")
        let (wrongMethod, wrongBody) = Self.call(s.url + "/get_reward", "GET")
        XCTAssertEqual(wrongMethod, 405)
        XCTAssertEqual(try Self.json(wrongBody)["error"] as? String, "/get_reward takes POST, not GET")
        XCTAssertEqual(Self.call(s.url + "/health", "GET").0, 200)
        let metrics = String(decoding: Self.call(s.url + "/metrics", "GET").1, as: UTF8.self)
        XCTAssertTrue(metrics.contains(#"moonlab_requests_total{endpoint="other",status="404"} 1"#), metrics)
        XCTAssertTrue(metrics.contains(#"moonlab_requests_total{endpoint="health",status="200"} 1"#), metrics)
        XCTAssertTrue(metrics.contains(#"moonlab_requests_total{endpoint="get_reward",status="405"} 1"#), metrics)
        XCTAssertTrue(metrics.contains(#"moonlab_requests_total{endpoint="get_reward",status="413"} 1"#), metrics)
    }

    func testReloadUnderLoadDropsNoRequestAndSIGTERMDrains() throws {
        let file = dir + "/r.lua"
        try #"reward.define("v", function(s) return 1 end)"#.write(toFile: file, atomically: true, encoding: .utf8)
        let s = try start(["--reward", file, "--reload", "--workers", "2"])
        // What the four client threads saw, and whether they keep going.
        struct Seen { var running = true, statuses: [Int: Int] = [:], values = Set<Double>() }
        let seen = Mutex(Seen())
        let group = DispatchGroup()
        for _ in 0..<4 {
            DispatchQueue.global().async(group: group) {
                while seen.withLock({ $0.running }) {
                    let (status, out) = (try? ServeCommandTests.getReward(s, ["a", "b"])) ?? (0, [:])
                    let rewards = (out["rewards"] as? [Double]) ?? []
                    seen.withLock {
                        $0.statuses[status, default: 0] += 1
                        $0.values.formUnion(rewards)
                    }
                }
            }
        }
        usleep(300_000)
        try #"reward.define("v", function(s) return 2 end)"#.write(toFile: file, atomically: true, encoding: .utf8)
        usleep(2_500_000)  // --reload looks once a second
        try #"reward.define("v", function(s) return 3 end) syntax error here"#.write(toFile: file, atomically: true, encoding: .utf8)
        usleep(2_500_000)
        kill(s.process.processIdentifier, SIGHUP)  // the broken file again: old rewards stay
        usleep(500_000)
        seen.withLock { $0.running = false }
        group.wait()
        let (statuses, values) = seen.withLock { ($0.statuses, $0.values) }
        XCTAssertEqual(Set(statuses.keys), [200], "\(statuses)")
        XCTAssertGreaterThan(statuses[200] ?? 0, 20)
        XCTAssertEqual(values, [1, 2], "requests were served by the old, then the new rewards")
        let (_, out) = try Self.getReward(s, ["a"])
        XCTAssertEqual(out["rewards"] as? [Double], [2], "a file that fails to load leaves the old rewards serving")
        let err = (try? String(contentsOfFile: s.stderr, encoding: .utf8)) ?? ""
        XCTAssertTrue(err.contains("reloaded (a rewards file changed): version 2"), err)
        XCTAssertTrue(err.contains("failed, still serving version 2"), err)
        // SIGTERM while requests are in flight: they are answered, then the server exits 0.
        try #"reward.define("v", function(s) local x = 0 for i = 1, 3e6 do x = x + i end return 4 end)"#
            .write(toFile: file, atomically: true, encoding: .utf8)
        kill(s.process.processIdentifier, SIGHUP)
        usleep(1_000_000)
        let slow = Mutex<(status: Int, rewards: [Double]?)>((0, nil))  // read after inFlight.wait()
        let inFlight = DispatchGroup()
        DispatchQueue.global().async(group: inFlight) {
            let (status, out) = (try? ServeCommandTests.getReward(s, ["a", "b", "c"])) ?? (0, [:])
            let rewards = out["rewards"] as? [Double]
            slow.withLock { $0 = (status, rewards) }
        }
        usleep(150_000)
        kill(s.process.processIdentifier, SIGTERM)
        inFlight.wait()
        s.process.waitUntilExit()
        let (slowStatus, slowRewards) = slow.withLock { ($0.status, $0.rewards) }
        XCTAssertEqual(slowStatus, 200)
        XCTAssertEqual(slowRewards, [4, 4, 4])
        XCTAssertEqual(s.process.terminationStatus, 0)
    }

    /// `--timeout-ms`: rows not started in time get --on-error (the answer still comes, 200);
    /// a reward returning something that is not a number fails its row, not the request.
    func testRequestTimeoutAndNonNumbersFailTheirRowsOnly() throws {
        let file = dir + "/slow.lua"
        try """
            reward.define("v", function(s)
              local c = s.completion
              if c == "str" then return "x" end
              if c == "bool" then return true end
              if c == "table" then return {} end
              if c == "slow" then local x = 0 for i = 1, 5e6 do x = x + i end end
              return 1
            end)
            """.write(toFile: file, atomically: true, encoding: .utf8)
        let s = try start(["--reward", file, "--workers", "1", "--timeout-ms", "200", "--on-error", "-3"])
        let (status, out) = try Self.getReward(s, ["str", "bool", "table", "fine"])
        XCTAssertEqual(status, 200)
        XCTAssertEqual(out["rewards"] as? [Double], [-3, -3, -3, 1])
        XCTAssertEqual((out["extra_logs"] as? [String: [Double]])?["moonlab/errors"], [1, 1, 1, 0])
        // 30 rows of 5M instructions each take well over 200 ms: the last ones never start.
        let started = Date()
        let (slowStatus, slow) = try Self.getReward(s, Array(repeating: "slow", count: 30))
        XCTAssertEqual(slowStatus, 200)
        let rewards = try XCTUnwrap(slow["rewards"] as? [Double])
        let errors = try XCTUnwrap((slow["extra_logs"] as? [String: [Double]])?["moonlab/errors"])
        XCTAssertEqual(rewards.count, 30)
        XCTAssertEqual(rewards.last, -3, "\(rewards)")
        XCTAssertEqual(errors.last, 1)
        XCTAssertEqual(zip(rewards, errors).filter { $0.0 == -3 }.count, errors.filter { $0 == 1 }.count)
        XCTAssertLessThan(Date().timeIntervalSince(started), 20, "rows after the deadline do not run")
        let err = (try? String(contentsOfFile: s.stderr, encoding: .utf8)) ?? ""
        XCTAssertTrue(err.contains("timeout: the request took longer than its time limit"), err)
        XCTAssertEqual(try Self.getReward(s, ["fine"]).1["rewards"] as? [Double], [1], "still serving")
    }

    func testBadCommandLines() throws {
        let cases: [([String], String)] = [
            ([], "--reward NAME|FILE.lua is required"),
            (["--reward", "nope"], "--reward nope: unknown reward"),
            (["--reward", "length", "--weights", "format=1"], "--weights format: not a served reward"),
            (["--reward", "length", "--on-error", "nan"], "--on-error nan"),
            (["--reward", "length", "--score", "x"], "--score x: not a served reward"),
        ]
        for (args, message) in cases {
            let r = try runMoonlab(["serve"] + args)
            XCTAssertEqual(r.status, 1, "\(args)")
            XCTAssertTrue(r.stderr.contains(message), "\(args): \(r.stderr)")
        }
        // A port in use says so, and what to do (it printed NIO's "bind(descriptor:ptr:bytes:)").
        let s = try start(["--reward", "length", "--workers", "1"])
        let port = try XCTUnwrap(s.url.split(separator: ":").last.map(String.init))
        let r = try runMoonlab(["serve", "--reward", "length", "--workers", "1", "--port", port])
        XCTAssertEqual(r.status, 1)
        XCTAssertTrue(r.stderr.contains("serve: cannot listen on 127.0.0.1:\(port): the address is already in use"), r.stderr)
        XCTAssertFalse(r.stderr.contains("descriptor"), r.stderr)
    }
}
