/// Per-token log-probabilities of one choice in `data.logprobs`'s shape: tokens, their
/// log-probabilities (NaN where the server sent null, e.g. the first prompt token with
/// `echo`), and per position the alternatives sorted by log-probability, highest first
/// (ties by token text). Read from OpenAI's completions layout (`tokens`,
/// `token_logprobs`, `top_logprobs` maps) and its chat layout (`content[i]`).
public struct NormalisedLogprobs: Sendable, Equatable {
    public struct Alternative: Sendable, Equatable {
        public var token: String
        public var logprob: Double
    }

    public var tokens: [String] = []
    public var logprobs: [Double] = []
    public var top: [[Alternative]] = []

    /// Reads a choice's `logprobs` value; nil when it is absent or null.
    public init?(_ v: JSONValue?) {
        guard let v, !v.isNull else { return nil }
        if let content = v["content"] {
            guard let items = content.arrayValue else { return nil }
            for item in items {
                tokens.append(item["token"]?.stringValue ?? "")
                logprobs.append(item["logprob"]?.doubleValue ?? .nan)
                top.append(NormalisedLogprobs.sorted((item["top_logprobs"]?.arrayValue ?? []).map {
                    Alternative(token: $0["token"]?.stringValue ?? "", logprob: $0["logprob"]?.doubleValue ?? .nan)
                }))
            }
            return
        }
        guard let toks = v["tokens"]?.arrayValue else { return nil }
        let lps = v["token_logprobs"]?.arrayValue ?? []
        let tops = v["top_logprobs"]?.arrayValue ?? []
        for (i, t) in toks.enumerated() {
            tokens.append(t.stringValue ?? t.text)
            logprobs.append(i < lps.count ? (lps[i].doubleValue ?? .nan) : .nan)
            let entry = i < tops.count ? tops[i].objectValue ?? [:] : [:]
            top.append(NormalisedLogprobs.sorted(entry.map { Alternative(token: $0.key, logprob: $0.value.doubleValue ?? .nan) }))
        }
    }

    static func sorted(_ a: [Alternative]) -> [Alternative] {
        a.sorted { x, y in x.logprob != y.logprob ? x.logprob > y.logprob : x.token < y.token }
    }

    /// The sum of the tokens' log-probabilities (NaN entries skipped): the sequence's
    /// log-probability, what `detect.semantic_entropy` weighs clusters by.
    public var sum: Double { logprobs.reduce(0) { $1.isNaN ? $0 : $0 + $1 } }

    /// As JSON, in the same shape (`moonlab generate` writes it so).
    public var json: JSONValue {
        .object([
            "tokens": .array(tokens.map { .string($0) }),
            "logprobs": .array(logprobs.map { $0.isNaN ? .null : .number($0) }),
            "top_logprobs": .array(top.map { alts in
                .array(alts.map { .object(["token": .string($0.token), "logprob": .number($0.logprob)]) })
            }),
        ])
    }
}
