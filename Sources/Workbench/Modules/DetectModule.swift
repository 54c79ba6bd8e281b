import LuaKit
import AlignMath

extension Workbench {
    /// The `detect` module: detection rules (`define`, `run`, in `DetectLua`) and the
    /// built-in scores (AlignMath's `Detection`).
    static func installDetect(_ wb: Workbench) throws {
        let lua = wb.lua
        try RewardLibrary.install(lua)
        let m = ModuleBuilder(lua, name: "detect", doc: """
            detect: hallucination and quality detectors
            define, run (a report), and the built-in scores token_uncertainty, perplexity,
            selfcheck_ngram, semantic_entropy, pope, repetition.
            Example: detect.run({"long"}, rows)
            """)
        for (key, name, doc) in DetectDocs.luaFunctions {
            m.function(name, doc: doc, RewardLibrary.forwarder(key))
        }
        installUncertainty(m)
        installSelfCheck(m)
        installSemanticEntropy(m)
        installPOPE(m)
    }

    private static func installUncertainty(_ m: ModuleBuilder) {
        m.function("token_uncertainty", doc: DetectDocs.tokenUncertainty) { args in
            let o = try args.options(2, allowed: ["renormalize"])
            let rec = try LogprobsRecord(args, 1)
            let s = try TokenUncertainty.scores(logprobs: rec.logprobs, topLogprobs: rec.top,
                                                renormalize: try o.boolean("renormalize", default: true))
            let lua = args.state
            lua.newTable(recordCount: 4)
            lua.push(s.avgNegLogprob); lua.setField("avg_neg_logprob")
            lua.push(s.maxNegLogprob); lua.setField("max_neg_logprob")
            if let e = s.avgEntropy { lua.push(e); lua.setField("avg_entropy") }
            if let e = s.maxEntropy { lua.push(e); lua.setField("max_entropy") }
            return 1
        }
        m.function("perplexity", doc: DetectDocs.perplexity) { args in
            let rec = try LogprobsRecord(args, 1)
            args.state.push(try TokenUncertainty.perplexity(logprobs: rec.logprobs))
            return 1
        }
        let counter = WordCounter()  // this state's buffers: a call per row allocates nothing
        m.function("repetition", doc: DetectDocs.repetition) { args in
            let o = try args.options(2, allowed: ["n"])
            let n = try o.count("n", in: 1...LuaLimits.maxCount, default: 3)
            args.state.push(try args.withBytes(1) { try Repetition.score(utf8: $0, n: n, counter: counter) })
            return 1
        }
    }

    private static func installPOPE(_ m: ModuleBuilder) {
        m.function("pope", doc: DetectDocs.pope) { args in
            let answers = try args.strings(1, what: "array of answer strings")
            try args.table(2)
            let lua = args.state
            var labels: [String] = []
            for i in 0..<lua.rawLength(at: 2) {
                let t = lua.rawGet(i + 1, of: 2)
                defer { lua.pop() }
                switch t {
                case .string: labels.append(lua.string(at: -1) ?? "")
                case .boolean: labels.append(lua.boolean(at: -1) ? "yes" : "no")
                default: throw args.error(2, "labels must be \"yes\"/\"no\" strings or booleans, entry \(i + 1) is \(lua.typeName(at: -1))")
                }
            }
            guard answers.count == labels.count else {
                throw args.failure("answers and labels differ in length (\(answers.count) vs \(labels.count))")
            }
            guard !answers.isEmpty else { throw args.failure("no answers") }
            let r = try POPE.evaluate(answers: answers, labels: labels)
            lua.newTable(recordCount: 9)
            for (k, v) in [("accuracy", r.accuracy), ("precision", r.precision), ("recall", r.recall),
                           ("f1", r.f1), ("yes_ratio", r.yesRatio)] { lua.push(v); lua.setField(k) }
            for (k, v) in [("tp", r.tp), ("fp", r.fp), ("tn", r.tn), ("fn", r.fn)] { lua.push(v); lua.setField(k) }
            return 1
        }
    }
}

/// The normalized logprobs record `{tokens, logprobs, top_logprobs}` (what `data.logprobs`
/// returns), or a plain array/tensor of logprobs. `top_logprobs[i]` may be an array of
/// numbers, an array of `{token =, logprob =}` tables, or a map token -> logprob.
struct LogprobsRecord {
    var logprobs: [Double]
    var top: [[Double]]?

    init(_ args: LuaArguments, _ index: Int32) throws {
        let lua = args.state
        if args.tensorIfAny(index) != nil { logprobs = try args.doubles(index); top = nil; return }
        guard args.type(index) == .table else {
            throw args.typeError(index, expected: "logprobs record {tokens, logprobs, top_logprobs}")
        }
        if lua.getField("logprobs", of: index) == .nil {
            lua.pop()
            guard let a = lua.numberArray(at: index) else {
                throw args.error(index, "logprobs record expected (a table with a 'logprobs' array)")
            }
            logprobs = a; top = nil; return
        }
        if let t = lua.object(at: -1, Tensor.self) { logprobs = t.toDoubles() } else if let a = lua.numberArray(at: -1) {
            logprobs = a
        } else {
            lua.pop()
            throw args.error(index, "field 'logprobs' must be an array of numbers")
        }
        lua.pop()
        top = nil
        guard lua.getField("top_logprobs", of: index) == .table else { lua.pop(); return }
        defer { lua.pop() }
        let tl = lua.absolute(-1)
        var rows: [[Double]] = []
        for i in 0..<lua.rawLength(at: tl) {
            lua.rawGet(i + 1, of: tl)
            defer { lua.pop() }
            rows.append(try LogprobsRecord.row(args, index: index, position: i + 1))
        }
        top = rows.isEmpty ? nil : rows
    }

    /// One position's alternatives, from the value on top of the stack.
    private static func row(_ args: LuaArguments, index: Int32, position: Int) throws -> [Double] {
        let lua = args.state
        guard lua.type(at: -1) == .table else {
            throw args.error(index, "top_logprobs[\(position)] must be a table, got \(lua.typeName(at: -1))")
        }
        if lua.rawLength(at: -1) > 0, let a = lua.numberArray(at: -1) { return a }
        var out: [Double] = []
        var bad = false
        let at = lua.absolute(-1)
        lua.forEachPair(of: at) {
            if lua.type(at: -1) == .number, let v = lua.number(at: -1) { out.append(v) }
            else if lua.type(at: -1) == .table {
                if lua.getField("logprob", of: -1) == .number, let v = lua.number(at: -1) { out.append(v) } else { bad = true }
                lua.pop()
            } else { bad = true }
            return !bad
        }
        if bad { throw args.error(index, "top_logprobs[\(position)] must hold numbers or {token =, logprob =} tables") }
        return out
    }
}
