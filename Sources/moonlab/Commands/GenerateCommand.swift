import ArgumentParser
import Foundation
import ModelClient
import Workbench

/// `moonlab generate`: prompts in, one line per completion out (design.md, "Models").
struct GenerateCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "generate",
        abstract: "Ask an OpenAI-compatible server for completions of every prompt in a JSON Lines file.",
        discussion: """
            One output line per completion: the input record, its own text kept, with "completion", \
            "group" (0-based number of its prompt among the non-blank input lines), "sample" \
            (0-based within the group), "finish_reason" and, with --logprobs K, "logprobs" \
            ({"tokens", "logprobs", "top_logprobs"}, data.logprobs's shape) added. A prompt whose \
            request failed after its retries is written once, with "group" and "error". Groups \
            are written whole and in input order, so `moonlab score` reads the output as it is.

            A server that returns fewer than --n choices (llama.cpp's returns one) is asked again \
            for the rest, each further request with the next seed. --resume keeps the whole \
            groups already in --out (a group cut by a kill is dropped and asked again) and asks \
            for the others: nothing is lost or doubled. --shard I/N takes the prompts I, I+N, ... \
            Ctrl-C stops after the groups already answered are written (exit 130).

            Example: moonlab generate --data prompts.jsonl --base-url http://127.0.0.1:8080/v1 --model smollm2 --n 4 --out samples.jsonl
            """)

    @Option(help: ArgumentHelp("The prompts: a JSON Lines file (gzip read transparently).", valueName: "file"))
    var data: String?

    @Option(name: .customLong("base-url"), help: ArgumentHelp("The server, with its /v1 prefix.", valueName: "url"))
    var baseURL: String?

    @Option(help: ArgumentHelp("The model name the server knows.", valueName: "name"))
    var model: String?

    @Flag(help: "Use /chat/completions: the prompt field is a user message, or the record's `messages` list.")
    var chat = false

    @Option(help: ArgumentHelp("Completions per prompt (default 1).", valueName: "n"))
    var n: Int = 1

    @Option(help: ArgumentHelp("Sampling temperature.", valueName: "t"))
    var temperature: Double?

    @Option(name: .customLong("top-p"), help: ArgumentHelp("Nucleus sampling threshold.", valueName: "p"))
    var topP: Double?

    @Option(name: .customLong("max-tokens"), help: ArgumentHelp("Tokens per completion at most.", valueName: "m"))
    var maxTokens: Int?

    @Option(help: ArgumentHelp("Log-probabilities with K alternatives per token.", valueName: "k"))
    var logprobs: Int?

    @Option(parsing: .unconditional, help: ArgumentHelp("The seed of the first request of each prompt (further requests: the next ones). Not given (here or as moonlab --seed S before generate), no seed is sent and the server draws its own.", valueName: "s"))
    var seed: Int?

    @Option(name: .customLong("prompt-field"), help: ArgumentHelp("The field holding the prompt.", valueName: "name"))
    var promptField = "prompt"

    @Option(help: ArgumentHelp("Requests in flight (default 8).", valueName: "c"))
    var concurrency: Int = 8

    @Option(help: ArgumentHelp("Seconds one request may take (default 60).", valueName: "s"))
    var timeout: Double = 60

    @Option(help: ArgumentHelp("Further attempts after 429/5xx or a dropped connection (default 2).", valueName: "n"))
    var retries: Int = 2

    @Option(help: ArgumentHelp("The output file (default: standard output).", valueName: "file"))
    var out: String?

    @Flag(help: "Continue an interrupted run: keep the whole groups already in --out, ask for the rest.")
    var resume = false

    @Option(help: ArgumentHelp("Only prompts I, I+N, I+2N, ... (0-based).", valueName: "I/N"))
    var shard: String?

    @Flag(name: .customLong("no-progress"), help: "No progress bar, even on a terminal.")
    var noProgress = false

    mutating func run() throws {
        guard let data else { fail("generate: --data FILE is required (a JSON Lines file of prompts)") }
        guard let baseURL else { fail("generate: --base-url URL is required (e.g. http://127.0.0.1:8080/v1)") }
        guard baseURL.hasPrefix("http://") || baseURL.hasPrefix("https://") else {
            fail("generate: --base-url \(baseURL): expected http://HOST:PORT/v1")
        }
        guard n >= 1 else { fail("generate: --n \(n): expected at least 1") }
        guard concurrency >= 1 else { fail("generate: --concurrency \(concurrency): expected at least 1") }
        guard timeout > 0 else { fail("generate: --timeout \(timeout): expected seconds > 0") }
        if resume && out == nil { fail("generate: --resume needs --out (the file to continue)") }
        if let out, ScoreOutput.sameFile(out, data) { fail("generate: --out \(out) is the --data file") }
        var shardSpec = (index: 0, count: 1)
        if let s = shard {
            let parts = s.split(separator: "/", omittingEmptySubsequences: false).map { Int($0) }
            guard parts.count == 2, let i = parts[0], let c = parts[1], c >= 1, (0..<c).contains(i) else {
                fail("generate: --shard \(s): expected I/N with 0 <= I < N (e.g. 0/4)")
            }
            shardSpec = (i, c)
        }
        var options: [String: JSONValue] = ["n": .integer(n)]
        if let temperature { options["temperature"] = .number(temperature) }
        if let topP { options["top_p"] = .number(topP) }
        if let maxTokens { options["max_tokens"] = .integer(maxTokens) }
        if let seed = seed ?? GenerateCommand.seedGivenToTheRoot() { options["seed"] = .integer(seed) }
        if let logprobs {
            options["logprobs"] = chat ? .bool(true) : .integer(logprobs)
            if chat { options["top_logprobs"] = .integer(logprobs) }
        }
        var settings = OpenAIClient.Settings(baseURL: baseURL, model: model ?? "",
                                             apiKey: Platform.environment("OPENAI_API_KEY"))
        settings.concurrency = concurrency
        settings.timeout = timeout
        settings.retries = max(0, retries)
        let job = GenerateJob(data: data, out: out, resume: resume, shard: shardSpec, chat: chat,
                              promptField: promptField, options: options, wanted: n, withLogprobs: logprobs != nil,
                              client: OpenAIClient(settings: settings), progress: !noProgress)
        do {
            try job.run()
        } catch let e as GenerateError {
            fail("generate: \(e)")
        }
    }
}

extension GenerateCommand {
    /// `--seed S` as the user typed it. The root command's global `--seed` (default 0)
    /// takes the option when it follows `generate`, and its default cannot be told from a
    /// given 0, so the command line itself says whether a seed was given.
    static func seedGivenToTheRoot(_ arguments: [String] = CommandLine.arguments) -> Int? {
        var it = arguments.dropFirst().makeIterator()
        var seed: Int?
        while let a = it.next() {
            if a == "--" { break }
            if a == "--seed", let v = it.next() { seed = Int(v) }
            else if a.hasPrefix("--seed=") { seed = Int(a.dropFirst(7)) }
        }
        return seed
    }
}

struct GenerateError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
