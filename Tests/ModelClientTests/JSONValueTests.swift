import XCTest
@testable import ModelClient

/// The pieces under the client that need no server: canonical JSON (what recordings are
/// matched by), the server's message in an error body, logprobs layouts, request bodies.
final class JSONValueTests: XCTestCase {
    func testCanonicalTextIsSortedAndSurvivesARoundTrip() throws {
        let text = #"{"b": [1, 2.5, "x", null, true], "a": {"z": 0.7, "y": -3}}"#
        let v = try XCTUnwrap(JSONValue.parse(text))
        XCTAssertEqual(v.text, #"{"a":{"y":-3,"z":0.7},"b":[1,2.5,"x",null,true]}"#)
        XCTAssertEqual(JSONValue.parse(v.text)?.text, v.text, "the text of a parsed text is the same text")
        XCTAssertEqual(JSONValue.parse("1")?.intValue, 1)
        XCTAssertNil(JSONValue.parse("{not json"))
    }

    func testTheServersMessageIsTakenFromOpenAIAndFastAPIBodies() {
        XCTAssertEqual(ModelError.serverMessage(#"{"error": {"message": "model not found", "type": "x"}}"#), "model not found")
        XCTAssertEqual(ModelError.serverMessage(#"{"detail": [{"loc": ["body", "n"], "msg": "must be >= 1"}]}"#), "body.n: must be >= 1")
        XCTAssertEqual(ModelError.serverMessage("plain failure\n"), "plain failure")
        XCTAssertEqual(ModelError.serverMessage(""), "(empty body)")
    }

    func testRetryableErrorsAreTheOnesOpenAIsSDKRetries() {
        for s in [408, 409, 429, 500, 502, 503] { XCTAssertTrue(ModelError(.status(s), url: "u", "").isRetryable, "\(s)") }
        for s in [400, 401, 404, 422] { XCTAssertFalse(ModelError(.status(s), url: "u", "").isRetryable, "\(s)") }
        XCTAssertTrue(ModelError(.dropped, url: "u", "").isRetryable)
        XCTAssertFalse(ModelError(.refused, url: "u", "").isRetryable)
        XCTAssertFalse(ModelError(.timeout, url: "u", "").isRetryable)
    }

    /// The completions layout as llama.cpp's server sends it (top alternatives in a map),
    /// and the chat layout: both become data.logprobs's shape with sorted alternatives.
    func testLogprobsOfBothLayoutsAreNormalised() throws {
        let completions = try XCTUnwrap(JSONValue.parse(#"""
            {"text_offset": [0, 6], "tokens": [" Paris", "."], "token_logprobs": [-0.26, null],
             "top_logprobs": [{" the": -2.8, " Paris": -0.26}, {".": -0.38, ",": -1.59}]}
            """#))
        let a = try XCTUnwrap(NormalisedLogprobs(completions))
        XCTAssertEqual(a.tokens, [" Paris", "."])
        XCTAssertEqual(a.logprobs[0], -0.26)
        XCTAssertTrue(a.logprobs[1].isNaN, "null is NaN, as data.logprobs has it")
        XCTAssertEqual(a.top[0].map(\.token), [" Paris", " the"], "highest first")
        XCTAssertEqual(a.sum, -0.26, accuracy: 1e-12)
        let chat = try XCTUnwrap(JSONValue.parse(#"""
            {"content": [{"token": "Hello", "logprob": -2.38, "bytes": null,
              "top_logprobs": [{"token": "Hello", "logprob": -2.38}, {"token": "I", "logprob": -2.35}]}], "refusal": null}
            """#))
        let b = try XCTUnwrap(NormalisedLogprobs(chat))
        XCTAssertEqual(b.tokens, ["Hello"])
        XCTAssertEqual(b.top[0].map(\.token), ["I", "Hello"])
        XCTAssertNil(NormalisedLogprobs(.null))
        XCTAssertEqual(b.json["tokens"], .array([.string("Hello")]))
    }

    func testRequestBodiesUseOpenAIsNamesAndExtraIsMergedAsItIs() {
        let c = OpenAIRequest.completion(model: "m", prompt: .string("p"),
                                         options: ["logprobs": .bool(true), "top_logprobs": .integer(3), "n": .integer(4),
                                                   "extra": .object(["top_k": .integer(40)])])
        XCTAssertEqual(c.path, "/completions")
        XCTAssertEqual(c.wanted, 4)
        XCTAssertEqual(c.body["logprobs"], .integer(3), "completions take the number of alternatives")
        XCTAssertNil(c.body["top_logprobs"])
        XCTAssertEqual(c.body["top_k"], .integer(40))
        XCTAssertNil(c.body["extra"])
        let chat = OpenAIRequest.chat(model: "m", messages: OpenAIRequest.messages("hi"), options: ["logprobs": .integer(2)])
        XCTAssertEqual(chat.body["logprobs"], .bool(true))
        XCTAssertEqual(chat.body["top_logprobs"], .integer(2))
        XCTAssertEqual(chat.body["n"], .integer(1))
    }

    func testAnExchangeReadsBackAsTheSameExchange() throws {
        let e = Exchange(method: "POST", url: "http://h/v1/completions", request: #"{"a":1}"#, status: 200, response: #"{"x":[1]}"#)
        XCTAssertEqual(Exchange(json: try XCTUnwrap(JSONValue.parse(e.json.text))), e)
        let failed = Exchange(method: "GET", url: "http://h/v1/models", request: "", error: "http://h/v1/models: connection refused (is the server running?)", errorKind: "refused")
        let back = try XCTUnwrap(Exchange(json: try XCTUnwrap(JSONValue.parse(failed.json.text))))
        XCTAssertEqual(back.replayedError?.kind, .refused)
        XCTAssertEqual(back.replayedError?.description, failed.error)
    }
}
