import Foundation
import ModelClient
import Workbench

/// One `moonlab generate` run: reads the prompts, skips the groups a resumed output holds,
/// asks the server a window of prompts at a time (requests of a window in flight together),
/// and writes each group whole, in input order, as soon as every earlier one is written.
// @unchecked Sendable: `ready` is read and written under `lock` (answers arrive on the event
// loop); `summary` only on the thread that runs `run`; the other fields are lets.
final class GenerateJob: @unchecked Sendable {
    struct Prompt {
        var group: Int
        var record: String
        var call: ModelCall?
        var problem: String?
    }

    let data: String, out: String?, resume: Bool, shard: (index: Int, count: Int)
    let chat: Bool, promptField: String, options: [String: JSONValue], wanted: Int, withLogprobs: Bool
    let client: OpenAIClient, progress: Bool
    private var summary = GenerateSummary()
    private let lock = NSLock()
    private var ready: [Int: ModelOutcome] = [:]

    init(data: String, out: String?, resume: Bool, shard: (index: Int, count: Int), chat: Bool, promptField: String,
         options: [String: JSONValue], wanted: Int, withLogprobs: Bool, client: OpenAIClient, progress: Bool) {
        self.data = data; self.out = out; self.resume = resume; self.shard = shard; self.chat = chat
        self.promptField = promptField; self.options = options; self.wanted = wanted
        self.withLogprobs = withLogprobs; self.client = client; self.progress = progress
    }

    func run() throws {
        var prompts = try readPrompts()  // first: an unreadable --data must not cost --out its lines
        let output = try GenerateOutput(path: out, resume: resume, wanted: wanted)
        let total = prompts.count
        prompts.removeAll { output.doneGroups.contains($0.group) }
        if resume, out != nil {
            Platform.writeStderr("moonlab generate: resuming: \(total - prompts.count) of \(total) prompts already answered\n")
        }
        let stop = GenerateStopSignal()
        stop.install()
        let bar = ProgressBar(total: prompts.count, label: "generate", enabled: progress)
        let start = Clock.now()
        var written = 0
        let window = max(256, client.settings.concurrency * 32)
        var interrupted = false
        for windowStart in stride(from: 0, to: prompts.count, by: window) where !interrupted {
            let part = Array(prompts[windowStart..<min(windowStart + window, prompts.count)])
            lock.lock(); ready = [:]; lock.unlock()
            // prompts that cannot be sent are answered at once with their problem
            var indices: [Int] = []
            var calls: [ModelCall] = []
            for (k, p) in part.enumerated() {
                if let c = p.call { indices.append(k); calls.append(c) } else {
                    var o = ModelOutcome()
                    o.error = ModelError(.badAnswer, url: "", p.problem ?? "no prompt")
                    lock.lock(); ready[k] = o; lock.unlock()
                }
            }
            let slots = indices
            var next = 0
            func drain() throws {
                while next < part.count {
                    lock.lock(); let o = ready.removeValue(forKey: next); lock.unlock()
                    guard let o else { return }
                    try output.write(lines(part[next], o))
                    summary.add(o, wanted: wanted)
                    next += 1
                    written += 1
                    bar.update(written)
                }
            }
            do {
                _ = try client.run(calls, progress: { _, _ in try? drain() },
                                   finished: { [self] i, o in lock.lock(); ready[slots[i]] = o; lock.unlock() },
                                   shouldStop: { stop.isRequested })
            } catch let e as ModelError where e.kind == .interrupted {
                interrupted = true
            }
            try drain()
        }
        bar.finish()
        summary.seconds = Clock.now() - start
        Platform.writeStderr(summary.text(prompts: written, of: prompts.count) + "\n")
        if interrupted {
            Platform.writeStderr("moonlab generate: stopped; the output ends on a whole group. Run the same command with --resume to continue.\n")
            exit(130)
        }
    }

    /// The prompts of this shard, each with its request (or the reason it has none).
    private func readPrompts() throws -> [Prompt] {
        let reader: JSONLinesReader
        do { reader = try JSONLinesReader(path: data) } catch { throw GenerateError("--data \(data): \(error)") }
        var prompts: [Prompt] = []
        var group = 0
        while let line = try reader.nextLine() {
            defer { group += 1 }
            guard group % shard.count == shard.index else { continue }
            let text = String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespaces)
            var p = Prompt(group: group, record: text)
            guard let v = JSONValue.parse(text), let o = v.objectValue else {
                p.record = "{}"
                p.problem = "line \(reader.lineNumber) of \(data) is not a JSON object"
                prompts.append(p)
                continue
            }
            let model = client.settings.model
            if chat, let m = o["messages"], m.arrayValue != nil {
                p.call = OpenAIRequest.chat(model: model, messages: m, options: options)
            } else if let s = o[promptField]?.stringValue {
                p.call = chat ? OpenAIRequest.chat(model: model, messages: OpenAIRequest.messages(s), options: options)
                              : OpenAIRequest.completion(model: model, prompt: .string(s), options: options)
            } else {
                p.problem = "line \(reader.lineNumber) has no string field '\(promptField)'" + (chat ? " (nor a messages list)" : "")
            }
            prompts.append(p)
        }
        return prompts
    }

    /// The output lines of one group: a line per choice, or one with `error`.
    private func lines(_ p: Prompt, _ o: ModelOutcome) -> [UInt8] {
        var text = ""
        if let e = o.error {
            text = GenerateJob.splice(p.record, [("group", .integer(p.group)), ("error", .string(e.description))]) + "\n"
        } else {
            for (k, c) in (o.response?["choices"]?.arrayValue ?? []).enumerated() {
                let completion = (chat ? c["message"]?["content"]?.stringValue : c["text"]?.stringValue) ?? ""
                var fields: [(String, JSONValue)] = [("completion", .string(completion)), ("group", .integer(p.group)),
                                                     ("sample", .integer(k)), ("finish_reason", c["finish_reason"] ?? .null)]
                if withLogprobs { fields.append(("logprobs", NormalisedLogprobs(c["logprobs"])?.json ?? .null)) }
                text += GenerateJob.splice(p.record, fields) + "\n"
            }
        }
        return Array(text.utf8)
    }

    /// The record's own text with fields added at its end; a record that already has one of
    /// them is rebuilt instead (the added value wins).
    static func splice(_ record: String, _ fields: [(String, JSONValue)]) -> String {
        let added = fields.map { JSONValue.string($0.0).text + ":" + $0.1.text }.joined(separator: ",")
        if let v = JSONValue.parse(record), var o = v.objectValue {
            if fields.contains(where: { o[$0.0] != nil }) {
                for (k, x) in fields { o[k] = x }
                return JSONValue.object(o).text
            }
            var body = record
            while body.last?.isWhitespace == true { body.removeLast() }
            body.removeLast()  // "}"
            return body + (o.isEmpty ? "" : ",") + added + "}"
        }
        return "{" + added + "}"
    }
}

/// Counts for the closing line: completions, tokens, finish reasons, errors, requests.
struct GenerateSummary {
    var completions = 0, errors = 0, completionTokens = 0, promptTokens = 0, requests = 0, toppedUp = 0, retries = 0
    var finishReasons: [String: Int] = [:]
    var seconds = 0.0

    mutating func add(_ o: ModelOutcome, wanted: Int) {
        requests += o.requests
        retries += o.retries
        guard o.error == nil, let r = o.response else { errors += 1; return }
        if o.requests > 1 { toppedUp += 1 }
        let choices = r["choices"]?.arrayValue ?? []
        completions += choices.count
        for c in choices { finishReasons[c["finish_reason"]?.stringValue ?? "null", default: 0] += 1 }
        completionTokens += r["usage"]?["completion_tokens"]?.intValue ?? 0
        promptTokens += r["usage"]?["prompt_tokens"]?.intValue ?? 0
    }

    func text(prompts: Int, of total: Int) -> String {
        let s = max(seconds, 1e-9)
        let reasons = finishReasons.sorted { $0.value > $1.value }.map { "\($0.key) \($0.value)" }.joined(separator: ", ")
        return String(format: "moonlab generate: %d/%d prompts, %d completions in %.1f s: %.1f completions/s, %.0f tokens/s (%d completion tokens, %d prompt tokens)",
                      prompts, total, completions, s, Double(completions) / s, Double(completionTokens) / s,
                      completionTokens, promptTokens)
            + "\n  finish reasons: " + (reasons.isEmpty ? "none" : reasons)
            + "\n  errors: \(errors); requests: \(requests) (\(toppedUp) prompts topped up to --n, \(retries) retries)"
    }
}

/// SIGINT/SIGTERM during `generate`: stop waiting, write the groups already answered, exit 130.
// @unchecked Sendable: `count` is read and written under `lock`; `sources` is filled by
// `install`, once, on the command's thread before any signal is handled.
final class GenerateStopSignal: @unchecked Sendable {
    private var sources: [DispatchSourceSignal] = []
    private let lock = NSLock()
    private var count = 0

    var isRequested: Bool { lock.lock(); defer { lock.unlock() }; return count > 0 }

    func install() {
        for sig in [SIGINT, SIGTERM] {
            signal(sig, SIG_IGN)
            let s = DispatchSource.makeSignalSource(signal: sig, queue: .global())
            s.setEventHandler { [weak self] in
                guard let self else { return }
                self.lock.lock(); self.count += 1; let n = self.count; self.lock.unlock()
                if n > 1 { Platform.writeStderr("\nmoonlab generate: quit; run again with --resume\n"); _exit(130) }
            }
            s.resume()
            sources.append(s)
        }
    }
}
