import AlignMath
import LuaKit
import ModelClient

extension Workbench {
    /// The methods of a `model.openai` client (`llm:complete(...)` and the rest).
    static func registerModelClientType(_ L: LuaState) {
        L.register(type: ModelHandle.self, name: "model.client") { t in
            t.method("complete") { h, args in
                let prompt = try args.state.jsonValue(at: 2)
                guard prompt.stringValue != nil || prompt.arrayValue != nil else { throw args.typeError(2, expected: "string (the prompt)") }
                let call = OpenAIRequest.completion(model: h.client.settings.model, prompt: prompt, options: try requestOptions(args, 3))
                return try single(h, call, args, chat: false)
            }
            t.method("chat") { h, args in
                let call = OpenAIRequest.chat(model: h.client.settings.model, messages: try messages(args, 2),
                                              options: try requestOptions(args, 3))
                return try single(h, call, args, chat: true)
            }
            t.method("complete_many") { h, args in
                let prompts = try args.strings(2, what: "array of prompts (strings)")
                let o = try requestOptions(args, 3)
                let calls = prompts.map { OpenAIRequest.completion(model: h.client.settings.model, prompt: .string($0), options: o) }
                return try many(h, calls, args, chat: false)
            }
            t.method("chat_many") { h, args in
                try args.table(2)
                let o = try requestOptions(args, 3)
                let n = args.state.rawLength(at: 2)
                var calls: [ModelCall] = []
                for k in 0..<n {
                    _ = args.state.rawGet(k + 1, of: 2)
                    defer { args.state.pop() }
                    let m = try messages(args, args.state.top, item: k + 1)
                    calls.append(OpenAIRequest.chat(model: h.client.settings.model, messages: m, options: o))
                }
                return try many(h, calls, args, chat: true)
            }
            t.method("embed") { h, args in try embed(h, args) }
            t.method("models") { h, args in
                let o = try run(h, [OpenAIRequest.models()], args, progress: false)[0]
                if let e = o.error { throw args.failure("\(e)") }
                let ids = (o.response?["data"]?.arrayValue ?? []).compactMap { $0["id"]?.stringValue }
                args.state.push(strings: ids)
                return 1
            }
            t.index { h, args in
                let s = h.client.settings
                switch try args.string(2) {
                case "base_url": args.state.push(s.baseURL)
                case "model": args.state.push(s.model)
                case "timeout":
                    if s.timeout == s.timeout.rounded(), abs(s.timeout) < 1e15 { args.state.push(Int(s.timeout)) } else { args.state.push(s.timeout) }
                case "concurrency": args.state.push(s.concurrency)
                case "retries": args.state.push(s.retries)
                case "cassette": if let c = h.cassette { args.state.push(c.path) } else { args.state.pushNil() }
                default: args.state.pushNil()
                }
                return 1
            }
            t.meta("__tostring") { args in
                guard let h = args.state.object(at: 1, ModelHandle.self) else { args.state.push("model.client"); return 1 }
                args.state.push("model.client(\(h.client.settings.baseURL), \(h.client.settings.model))")
                return 1
            }
        }
    }

    /// The request options at `index` under OpenAI's names, as JSON.
    private static func requestOptions(_ args: LuaArguments, _ index: Int32) throws -> [String: JSONValue] {
        let o = try args.options(index, allowed: OpenAIRequest.optionNames)
        var out: [String: JSONValue] = [:]
        for key in o.keys {
            o.push(key)
            defer { args.state.pop() }
            let v: JSONValue
            do { v = try args.state.jsonValue(at: -1) } catch { throw args.error(index, "option '\(key)': \(error)") }
            switch key {
            case "n", "max_tokens", "seed", "top_logprobs":
                // n is topped up request by request and sizes the answer: at most a million
                guard let i = v.intValue, i >= (key == "seed" ? Int.min : key == "top_logprobs" ? 0 : 1),
                      key != "n" || i <= 1_000_000 else {
                    throw args.error(index, "option '\(key)' must be \(key == "seed" ? "an integer" : key == "n" ? "an integer in [1, 1000000]" : "a positive integer"), got \(v.text)")
                }
                out[key] = .integer(i)
            case "temperature", "top_p", "presence_penalty", "frequency_penalty":
                guard v.doubleValue != nil else { throw args.error(index, "option '\(key)' must be a number, got \(v.text)") }
                out[key] = v
            case "extra", "logit_bias":
                guard v.objectValue != nil || v == .array([]) else {
                    throw args.error(index, "option '\(key)' must be a table with string keys, got \(v.text)")
                }
                out[key] = v.objectValue.map { .object($0) } ?? .object([:])
            default:
                out[key] = v
            }
        }
        return out
    }

    /// Chat messages from a string (one user message) or a list of {role =, content =}.
    private static func messages(_ args: LuaArguments, _ index: Int32, item: Int? = nil) throws -> JSONValue {
        let what = item.map { "item \($0): " } ?? ""
        let v: JSONValue
        do { v = try args.state.jsonValue(at: index) } catch { throw args.failure("\(what)messages: \(error)") }
        if let s = v.stringValue { return OpenAIRequest.messages(s) }
        guard let list = v.arrayValue, !list.isEmpty else {
            throw args.failure("\(what)messages must be a string or a list of {role =, content =}, got \(args.state.typeName(at: index))")
        }
        for (k, msg) in list.enumerated() {
            guard msg["role"]?.stringValue != nil, let c = msg["content"], c.stringValue != nil || c.arrayValue != nil || c.isNull else {
                throw args.failure("\(what)message \(k + 1) needs a string role and content, got \(msg.text)")
            }
        }
        return v
    }

    /// Runs calls on the handle's client, polling Ctrl-C (the prompt's interrupt flag).
    static func run(_ h: ModelHandle, _ calls: [ModelCall], _ args: LuaArguments, progress: Bool) throws -> [ModelOutcome] {
        let bar = progress && calls.count > 1 ? ProgressBar(total: calls.count, label: "model") : nil
        defer { bar?.finish() }
        do {
            return try h.client.run(calls, progress: { done, _ in bar?.update(done) },
                                    shouldStop: { LuaInterrupt.isPending })
        } catch let e as ModelError where e.kind == .interrupted {
            throw args.failure("interrupted (requests in flight were cancelled)")
        }
    }

    private static func single(_ h: ModelHandle, _ call: ModelCall, _ args: LuaArguments, chat: Bool) throws -> Int32 {
        let o = try run(h, [call], args, progress: false)[0]
        if let e = o.error { throw args.failure("\(e)") }
        pushResult(args.state, o, call: call)
        return 1
    }

    private static func many(_ h: ModelHandle, _ calls: [ModelCall], _ args: LuaArguments, chat: Bool) throws -> Int32 {
        let outcomes = try run(h, calls, args, progress: true)
        let L = args.state
        L.newTable(arrayCount: outcomes.count)
        for (k, o) in outcomes.enumerated() {
            if let e = o.error {
                L.newTable()
                L.push(e.description); L.setField("error")
            } else {
                pushResult(L, o, call: calls[k])
            }
            L.rawSet(k + 1, of: -2)
        }
        return 1
    }

    /// `llm:embed(texts)`: batches of 64 texts, sent concurrently, rows in input order.
    private static func embed(_ h: ModelHandle, _ args: LuaArguments) throws -> Int32 {
        let texts: [String]
        if args.type(2) == .string { texts = [try args.string(2)] } else { texts = try args.strings(2, what: "string or array of strings") }
        guard !texts.isEmpty else { throw args.failure("no texts to embed") }
        let batch = 64
        let calls = stride(from: 0, to: texts.count, by: batch).map {
            OpenAIRequest.embeddings(model: h.client.settings.model, input: Array(texts[$0..<min($0 + batch, texts.count)]))
        }
        let outcomes = try run(h, calls, args, progress: calls.count > 1)
        var rows: [[Double]] = []
        for (b, o) in outcomes.enumerated() {
            if let e = o.error { throw args.failure("\(e)") }
            let data = (o.response?["data"]?.arrayValue ?? []).sorted { ($0["index"]?.intValue ?? 0) < ($1["index"]?.intValue ?? 0) }
            let expected = min(batch, texts.count - b * batch)
            guard data.count == expected else {
                throw args.failure("\(h.client.url("/embeddings")): the answer holds \(data.count) embeddings for \(expected) texts")
            }
            for d in data {
                guard let v = d["embedding"]?.arrayValue?.compactMap(\.doubleValue), !v.isEmpty else {
                    throw args.failure("\(h.client.url("/embeddings")): an embedding is not a list of numbers (ask for encoding_format float)")
                }
                rows.append(v)
            }
        }
        let dim = rows[0].count
        guard rows.allSatisfy({ $0.count == dim }) else { throw args.failure("embeddings differ in dimension") }
        try args.state.push(tensorOf: rows.flatMap { $0 }, shape: [rows.count, dim])
        return 1
    }

    /// Pushes a result: {text =, texts =, choices = {{text =, completion =, prompt =, finish_reason =,
    /// index =, logprobs =, sequence_logprob =, message =}, ...}, sequence_logprobs =, usage =,
    /// model =, id =, obtained =}. Each choice is also a sample table (`prompt`, `completion`)
    /// as rewards read them, so `reward.score(r, r.choices)` works as it is.
    static func pushResult(_ L: LuaState, _ o: ModelOutcome, call: ModelCall) {
        let chat = call.path == "/chat/completions"
        let prompt = chat ? (call.body["messages"]?.arrayValue?.last { $0["role"]?.stringValue == "user" }?["content"]?.stringValue ?? "")
                          : (call.body["prompt"]?.stringValue ?? "")
        var sequenceLogprobs: [Double] = []
        let r = o.response ?? .object([:])
        let choices = r["choices"]?.arrayValue ?? []
        L.newTable()
        var texts: [String] = []
        L.newTable(arrayCount: choices.count)
        for (k, c) in choices.enumerated() {
            let text = (chat ? c["message"]?["content"]?.stringValue : c["text"]?.stringValue) ?? ""
            texts.append(text)
            L.newTable()
            L.push(text); L.setField("text")
            L.push(text); L.setField("completion")
            L.push(prompt); L.setField("prompt")
            L.push(c["index"]?.intValue ?? k); L.setField("index")
            L.push(json: c["finish_reason"] ?? .null); L.setField("finish_reason")
            if chat, let msg = c["message"] { L.push(json: msg); L.setField("message") }
            if let lp = NormalisedLogprobs(c["logprobs"]) {
                pushLogprobs(L, lp)
                L.setField("logprobs")
                L.push(lp.sum); L.setField("sequence_logprob")
                sequenceLogprobs.append(lp.sum)
            }
            L.rawSet(k + 1, of: -2)
        }
        L.setField("choices")
        L.push(texts.first ?? ""); L.setField("text")
        L.push(strings: texts); L.setField("texts")
        if sequenceLogprobs.count == choices.count, !choices.isEmpty {
            L.push(array: sequenceLogprobs); L.setField("sequence_logprobs")
        }
        if let u = r["usage"] { L.push(json: u); L.setField("usage") }
        if let m = r["model"] { L.push(json: m); L.setField("model") }
        if let id = r["id"] { L.push(json: id); L.setField("id") }
        L.newTable()
        L.push(o.requests); L.setField("requests")
        L.push(o.requests > 1); L.setField("topped_up")
        L.newTable(arrayCount: o.seeds.count)
        for (k, s) in o.seeds.enumerated() {
            if let s { L.push(s) } else { L.push(ref: DataSentinels.of(L).null) }
            L.rawSet(k + 1, of: -2)
        }
        L.setField("seeds")
        L.newTable(arrayCount: o.choicesPerRequest.count)
        for (k, c) in o.choicesPerRequest.enumerated() { L.push(c); L.rawSet(k + 1, of: -2) }
        L.setField("choices_per_request")
        L.push(o.replayed); L.setField("replayed")
        L.push(o.retries); L.setField("retries")
        L.setField("obtained")
    }

    /// Pushes logprobs in `data.logprobs`'s shape: {tokens, logprobs (tensor), top_logprobs}.
    static func pushLogprobs(_ L: LuaState, _ lp: NormalisedLogprobs) {
        L.newTable()
        L.push(strings: lp.tokens); L.setField("tokens")
        if let t = try? Tensor(lp.logprobs, shape: [lp.logprobs.count]) { L.push(tensor: t) } else { L.newTable() }
        L.setField("logprobs")
        L.newTable(arrayCount: lp.top.count)
        for (k, alts) in lp.top.enumerated() {
            L.newTable(arrayCount: alts.count)
            for (j, a) in alts.enumerated() {
                L.newTable()
                L.push(a.token); L.setField("token")
                L.push(a.logprob); L.setField("logprob")
                L.rawSet(j + 1, of: -2)
            }
            L.rawSet(k + 1, of: -2)
        }
        L.setField("top_logprobs")
    }
}
