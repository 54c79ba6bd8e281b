/// One call a script makes (`llm:complete(...)`, one item of `complete_many`): the endpoint,
/// the body, and how many choices it wants, which may take several requests.
public struct ModelCall: Sendable {
    public var method: String
    /// Relative to the client's base URL: "/completions", "/chat/completions", "/embeddings", "/models".
    public var path: String
    /// The JSON body (empty for a GET).
    public var body: [String: JSONValue]
    /// Choices wanted (`n`); while a server returns fewer the call asks again, each further
    /// request with the next seed. 0 for endpoints without choices.
    public var wanted: Int

    public init(method: String = "POST", path: String, body: [String: JSONValue] = [:], wanted: Int = 0) {
        self.method = method; self.path = path; self.body = body; self.wanted = wanted
    }
}

/// How a call ended: the answer (choices of every request merged), or the error, and how
/// the choices were obtained.
public struct ModelOutcome: Sendable {
    /// The merged answer: the first response with `choices` holding every request's choices
    /// (renumbered) and `usage` summed.
    public var response: JSONValue?
    public var error: ModelError?
    /// Requests that gave choices (or the one answer of a call without choices).
    public var requests = 0
    /// The seed each request carried (nil where it carried none).
    public var seeds: [Int?] = []
    /// Choices each request returned.
    public var choicesPerRequest: [Int] = []
    /// Requests answered from a recording rather than the server.
    public var replayed = 0
    /// Attempts that failed and were retried.
    public var retries = 0

    public init() {}
}
