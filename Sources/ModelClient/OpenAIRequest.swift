/// The bodies of OpenAI's endpoints, from options under OpenAI's own names. Shared by the
/// Lua client and `moonlab generate`, so both send the same requests.
public enum OpenAIRequest {
    /// Options a completion or chat call takes (OpenAI's names), plus `extra` (sent as is).
    public static let optionNames = ["n", "max_tokens", "temperature", "top_p", "seed", "stop", "logprobs",
                                     "top_logprobs", "echo", "presence_penalty", "frequency_penalty",
                                     "logit_bias", "user", "suffix", "response_format", "extra"]

    /// `/completions`: `logprobs` is the number of alternatives per token (true: `top_logprobs`
    /// or 0, i.e. the sampled token's log-probability only).
    public static func completion(model: String, prompt: JSONValue, options: [String: JSONValue]) -> ModelCall {
        var o = options
        if case .bool(let b)? = o["logprobs"] {
            o["logprobs"] = b ? (o["top_logprobs"] ?? .integer(0)) : nil
        }
        o["top_logprobs"] = nil
        return call("/completions", model: model, key: "prompt", value: prompt, options: o)
    }

    /// `/chat/completions`: `logprobs` is a boolean with `top_logprobs`; an integer k is
    /// taken as `logprobs = true, top_logprobs = k`.
    public static func chat(model: String, messages: JSONValue, options: [String: JSONValue]) -> ModelCall {
        var o = options
        if let k = o["logprobs"]?.intValue, o["logprobs"].map({ if case .bool = $0 { return false }; return true }) ?? false {
            o["logprobs"] = .bool(true)
            if o["top_logprobs"] == nil { o["top_logprobs"] = .integer(k) }
        }
        o["echo"] = nil
        return call("/chat/completions", model: model, key: "messages", value: messages, options: o)
    }

    /// `/embeddings` for a batch of texts.
    public static func embeddings(model: String, input: [String]) -> ModelCall {
        ModelCall(path: "/embeddings", body: ["model": .string(model), "input": .array(input.map { .string($0) })])
    }

    /// `GET /models`.
    public static func models() -> ModelCall { ModelCall(method: "GET", path: "/models") }

    /// A chat `messages` list from a bare string: one user message.
    public static func messages(_ text: String) -> JSONValue {
        .array([.object(["role": .string("user"), "content": .string(text)])])
    }

    private static func call(_ path: String, model: String, key: String, value: JSONValue,
                             options: [String: JSONValue]) -> ModelCall {
        var body: [String: JSONValue] = ["model": .string(model), key: value]
        for (k, v) in options where k != "extra" { body[k] = v }
        if let extra = options["extra"]?.objectValue { for (k, v) in extra { body[k] = v } }
        let n = max(1, body["n"]?.intValue ?? 1)
        body["n"] = .integer(n)
        return ModelCall(path: path, body: body, wanted: n)
    }
}
