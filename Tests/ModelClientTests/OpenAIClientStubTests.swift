import XCTest
import TestSupport
@testable import ModelClient

/// What a real server will not do on demand, against the stub (`openai_stub.py`): 429s,
/// dropped connections, slow answers, 500s, one choice whatever `n` is.
final class OpenAIClientStubTests: XCTestCase {
    var stub: StubServer?

    override func setUpWithError() throws { stub = try StubServer() }
    override func tearDown() { stub?.stop() }

    func client(concurrency: Int = 4, retries: Int = 2, timeout: Double = 10) throws -> OpenAIClient {
        var s = OpenAIClient.Settings(baseURL: try XCTUnwrap(stub).baseURL, model: "stub-model")
        s.concurrency = concurrency
        s.retries = retries
        s.timeout = timeout
        s.backoff = 0.01
        return OpenAIClient(settings: s)
    }

    func completion(_ prompt: String, _ options: [String: JSONValue] = [:]) -> ModelCall {
        OpenAIRequest.completion(model: "stub-model", prompt: .string(prompt), options: options)
    }

    func testTwo429sAreRetriedAndTheThirdAttemptAnswers() throws {
        let o = try client().runOne(completion("429:2:a"))
        XCTAssertEqual(o.retries, 2)
        XCTAssertEqual(o.response?["choices"]?.arrayValue?.first?["text"]?.stringValue, "echo:429:2:a|seed=nil|n=1".replacingOccurrences(of: "nil", with: "None"))
    }

    func testRetriesRunOutWithTheStatusAndTheServersMessage() throws {
        let c = try client(retries: 1)
        let url = try XCTUnwrap(stub).baseURL
        XCTAssertThrowsError(try c.runOne(completion("429:5:b"))) { e in
            let m = "\(e)"
            XCTAssertTrue(m.hasPrefix(url + "/completions: HTTP 429: rate limited by the stub"), m)
            XCTAssertTrue(m.contains("after 2 attempts"), m)
        }
        XCTAssertThrowsError(try c.runOne(completion("500"))) { e in
            XCTAssertTrue("\(e)".contains("HTTP 500: boom from the stub"), "\(e)")
        }
    }

    func testADroppedConnectionIsRetried() throws {
        let o = try client().runOne(completion("drop:1:c"))
        XCTAssertEqual(o.retries, 1)
        XCTAssertNotNil(o.response)
    }

    func testASlowAnswerTimesOutNamingTheURLAndTheTimeout() throws {
        let c = try client(timeout: 0.3)
        let t0 = Date()
        XCTAssertThrowsError(try c.runOne(completion("slow:3"))) { e in
            XCTAssertEqual((e as? ModelError)?.kind, .timeout)
            XCTAssertTrue("\(e)".contains("/completions: timed out after 0.30 s"), "\(e)")
        }
        // A timeout is not retried: the stub got one request (counting is exact; the clock
        // bound below only says the 3 s answer was not awaited, with room for a loaded box).
        XCTAssertEqual(try XCTUnwrap(stub).stats().requests, 1, "a timeout is not retried")
        XCTAssertLessThan(Date().timeIntervalSince(t0), 2.9, "the slow answer was not awaited")
    }

    func testARefusedConnectionFailsAtOnceNamingTheURL() throws {
        let url = try XCTUnwrap(stub).baseURL
        stub?.stop()
        let t0 = Date()
        XCTAssertThrowsError(try client().runOne(completion("x"))) { e in
            XCTAssertEqual((e as? ModelError)?.kind, .refused)
            XCTAssertEqual("\(e)", url + "/completions: connection refused (is the server running?)")
        }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 2)
    }

    /// The stub returns one choice whatever n is (as llama.cpp's server does): the client
    /// asks again for the rest, each further request with the next seed.
    func testNIsToppedUpWithTheNextSeedEach() throws {
        let o = try client().runOne(completion("q", ["n": .integer(3), "seed": .integer(7)]))
        let texts = o.response?["choices"]?.arrayValue?.compactMap { $0["text"]?.stringValue }
        XCTAssertEqual(texts, ["echo:q|seed=7|n=3", "echo:q|seed=8|n=2", "echo:q|seed=9|n=1"])
        XCTAssertEqual(o.requests, 3)
        XCTAssertEqual(o.seeds, [7, 8, 9])
        XCTAssertEqual(o.choicesPerRequest, [1, 1, 1])
        XCTAssertEqual(o.response?["choices"]?.arrayValue?.map { $0["index"]?.intValue }, [0, 1, 2])
        XCTAssertEqual(o.response?["usage"]?["completion_tokens"]?.intValue, 6, "usage summed over the requests")
    }

    func testManyCallsKeepTheirOrderWithAtMostConcurrencyInFlightAndAFailureStaysItsOwn() throws {
        let prompts = (0..<12).map { $0 == 5 ? "500" : "slow:0.1:\($0)" }
        let outcomes = try client(concurrency: 3).run(prompts.map { completion($0) })
        XCTAssertEqual(outcomes.count, 12)
        for (i, o) in outcomes.enumerated() where i != 5 {
            XCTAssertEqual(o.response?["choices"]?.arrayValue?.first?["text"]?.stringValue, "echo:slow:0.1:\(i)|seed=None|n=1")
        }
        XCTAssertTrue(outcomes[5].error?.description.contains("boom") ?? false)
        let s = try XCTUnwrap(stub).stats()
        XCTAssertEqual(s.maxInFlight, 3)
    }

    func testStoppingCancelsTheRequestsInFlight() throws {
        let c = try client(concurrency: 4)
        let t0 = Date()
        XCTAssertThrowsError(try c.run((0..<4).map { completion("slow:5:\($0)") },
                                       shouldStop: { Date().timeIntervalSince(t0) > 0.3 })) { e in
            XCTAssertEqual((e as? ModelError)?.kind, .interrupted)
        }
        XCTAssertLessThan(Date().timeIntervalSince(t0), 1.5)
    }

    /// Every exchange is observed; a client answering from those recordings with no server
    /// gives the same outcome, and reports a call it has no recording for.
    func testRecordedExchangesAnswerWithoutTheServer() throws {
        let live = try client()
        let tape = ExchangeTape()
        live.observe = { e, _ in tape.append(e) }
        let first = try live.runOne(completion("r", ["n": .integer(2), "seed": .integer(1)]))
        stub?.stop()
        let offline = try client()
        offline.offline = true
        offline.lookup = { tape.take($0) }
        let again = try offline.runOne(completion("r", ["n": .integer(2), "seed": .integer(1)]))
        XCTAssertEqual(again.response, first.response)
        XCTAssertEqual(again.replayed, 2)
        XCTAssertThrowsError(try offline.runOne(completion("never asked"))) { e in
            XCTAssertEqual((e as? ModelError)?.kind, .notRecorded)
            XCTAssertTrue("\(e)".contains("the recording has no answer for POST /completions"), "\(e)")
        }
    }
}
