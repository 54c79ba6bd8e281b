import LuaKit
import ModelClient

/// A `model.openai{...}` client as Lua holds it: the HTTP client and where its calls are
/// recorded (the session's tap, a cassette).
final class ModelHandle {
    let client: OpenAIClient
    let cassette: Cassette?

    init(client: OpenAIClient, cassette: Cassette?) {
        self.client = client
        self.cassette = cassette
    }
}

extension Workbench {
    /// The `model` module: `model.openai{...}` and the client's methods.
    static func installModel(_ wb: Workbench) throws {
        let L = wb.lua
        registerModelClientType(L)
        let m = ModuleBuilder(L, name: "model", doc: """
            model: language models behind an OpenAI-compatible server
            vLLM, llama.cpp, SGLang, Ollama, TGI and OpenAI speak OpenAI's HTTP API; model.openai{...}
            is its client, with OpenAI's own option names. Every call at the prompt is recorded in
            the session and answered from the recording by `moonlab replay`.
            Example: llm = model.openai{base_url = "http://127.0.0.1:8080/v1", model = "smollm2"}
            """)
        m.function("openai", doc: """
            model.openai{base_url =, model = nil, api_key = nil, timeout = 60, concurrency = 8,
                         retries = 2, backoff = 0.5, cassette = nil} -> client
            A client of an OpenAI-compatible server. base_url includes the /v1 prefix. api_key
            defaults to $OPENAI_API_KEY (sent as a Bearer token when set). timeout: seconds one
            request may take. concurrency: requests in flight in *_many (one event loop). retries:
            further attempts after 408/409/429/5xx or a dropped connection, pausing backoff
            seconds, doubling (a server's Retry-After wins); a refused connection and a timeout
            fail at once. cassette: a JSON Lines file; calls found in it are answered from it, the
            others are made and appended (so a script runs again without the server).
            Methods: complete, chat, complete_many, chat_many, embed, models. Fields: base_url,
            model, timeout, concurrency, retries, cassette.
            Example: llm = model.openai{base_url = "http://127.0.0.1:8080/v1", model = "smollm2"}
            """) { args in
            try args.table(1)
            let o = try args.options(1, allowed: ["base_url", "model", "api_key", "timeout", "concurrency",
                                                  "retries", "backoff", "cassette"])
            guard let base = try o.string("base_url") else { throw args.error(1, "base_url is required (e.g. \"http://127.0.0.1:8080/v1\")") }
            guard base.hasPrefix("http://") || base.hasPrefix("https://") else {
                throw args.error(1, "base_url must start with http:// or https://, got \"\(base)\"")
            }
            var s = OpenAIClient.Settings(baseURL: base, model: try o.string("model") ?? "",
                                          apiKey: try o.string("api_key") ?? Platform.environment("OPENAI_API_KEY"))
            // Seconds become NIO's Int64 nanoseconds: finite and at most a day (an infinite
            // timeout trapped in the conversion).
            if let t = try o.number("timeout", in: 0.001...86_400) { s.timeout = t }
            if let c = try o.count("concurrency", in: 1...4096) { s.concurrency = c }
            if let r = try o.count("retries", in: 0...100) { s.retries = r }
            if let b = try o.number("backoff", in: 0...3600) { s.backoff = b }
            var cassette: Cassette?
            if let path = try o.string("cassette") {
                try args.checkFileAccess()
                do { cassette = try Cassette(path: path) } catch { throw args.failure("\(error)") }
            }
            let handle = ModelHandle(client: OpenAIClient(settings: s), cassette: cassette)
            Workbench.of(args.state)?.wire(handle)
            args.state.push(object: handle)
            return 1
        }
    }

    /// Routes a client's exchanges through this workbench's session tap (and its cassette):
    /// a replay answers from the recording and never goes to the network.
    func wire(_ h: ModelHandle) {
        let tap = modelTap
        let cassette = h.cassette
        let replaying = options.replaying
        h.client.offline = replaying
        h.client.lookup = { key in
            if replaying, let e = tap.answer(key) { return e }
            return cassette?.answer(key)
        }
        h.client.observe = { e, fromRecording in
            tap.record(e)
            if !fromRecording { cassette?.append(e) }
        }
    }
}
