import LuaKit
import AlignMath

extension Workbench {
    /// `detect.selfcheck_ngram`.
    static func installSelfCheck(_ m: ModuleBuilder) {
        m.function("selfcheck_ngram", doc: DetectDocs.selfcheck) { args in
            let lua = args.state
            try args.table(1)
            let o = try args.options(4, allowed: ["n", "k"])
            let n = try o.count("n", in: 1...Workbench.maxNgramOrder, default: 1)
            let k = try o.number("k", default: 0)
            guard k >= 0 else { throw args.error(4, "option 'k' must be >= 0, got \(k)") }
            var sentences: [SelfCheckNgram.Text] = []
            for i in 0..<lua.rawLength(at: 1) {
                lua.rawGet(i + 1, of: 1)
                defer { lua.pop() }
                sentences.append(try text(args, argument: 1, what: "sentence \(i + 1)"))
            }
            guard !sentences.isEmpty else { throw args.error(1, "at least one sentence expected, got an empty array") }
            lua.pushValue(at: 2)
            let passage = try text(args, argument: 2, what: "passage")
            lua.pop()
            try args.table(3)
            var samples: [SelfCheckNgram.Text] = []
            for i in 0..<lua.rawLength(at: 3) {
                lua.rawGet(i + 1, of: 3)
                defer { lua.pop() }
                samples.append(try text(args, argument: 3, what: "sample \(i + 1)"))
            }
            let r = try SelfCheckNgram.score(sentences: sentences, passage: passage, samples: samples, n: n, k: k)
            lua.newTable(recordCount: 2)
            lua.newTable(arrayCount: r.avgNegLogprob.count)
            for i in r.avgNegLogprob.indices {
                lua.newTable(recordCount: 2)
                lua.push(r.avgNegLogprob[i]); lua.setField("avg_neg_logprob")
                lua.push(r.maxNegLogprob[i]); lua.setField("max_neg_logprob")
                lua.rawSet(i + 1, of: -2)
            }
            lua.setField("sentences")
            lua.newTable(recordCount: 2)
            lua.push(r.docAvgNegLogprob); lua.setField("avg_neg_logprob")
            lua.push(r.docAvgMaxNegLogprob); lua.setField("avg_max_neg_logprob")
            lua.setField("doc")
            return 1
        }
    }

    /// The string or token array on top of the stack.
    private static func text(_ args: LuaArguments, argument: Int32, what: String) throws -> SelfCheckNgram.Text {
        let lua = args.state
        switch lua.type(at: -1) {
        case .string: return .text(lua.string(at: -1) ?? "")
        case .table:
            guard let t = lua.stringArray(at: -1) else {
                throw args.error(argument, "\(what) must be a string or an array of token strings")
            }
            return .tokens(t)
        default:
            throw args.error(argument, "\(what) must be a string or an array of token strings, got \(lua.typeName(at: -1))")
        }
    }

    /// `detect.semantic_entropy`.
    static func installSemanticEntropy(_ m: ModuleBuilder) {
        m.function("semantic_entropy", doc: DetectDocs.semanticEntropy) { args in
            let lua = args.state
            try args.table(1)
            let n = lua.rawLength(at: 1)
            guard n > 0 else { throw args.error(1, "at least one sample expected, got an empty array") }
            let o = try args.options(2, allowed: ["equivalent", "logprobs", "strict"])
            let strict = try o.boolean("strict", default: true)
            let logprobs = try o.doubles("logprobs")
            if let l = logprobs, l.count != n {
                throw args.failure("samples and logprobs differ in length (\(n) vs \(l.count))")
            }
            var hasFunction = false
            if o.has("equivalent") {
                let t = o.push("equivalent")
                lua.pop()
                guard t == .function || t == .table || t == .userdata else {
                    o.push("equivalent")
                    defer { lua.pop() }
                    throw o.optionError("equivalent", "a function")
                }
                hasFunction = true
            }
            var texts: [String] = []
            if !hasFunction {
                for i in 0..<n {
                    lua.rawGet(i + 1, of: 1)
                    texts.append((lua.string(at: -1) ?? lua.describe(at: -1)).trimmingSpaces.lowercased())
                    lua.pop()
                }
            }
            // equivalent may answer a boolean (one direction entails) or an NLI label 0/1/2 as
            // jlko's check_implication does; labels are combined by get_semantic_ids' rule.
            let ids = try SemanticEntropy.clusters(count: n, strict: strict) { i, j in
                guard hasFunction else { return texts[i] == texts[j] ? 2 : 0 }
                o.push("equivalent")
                lua.rawGet(i + 1, of: 1)
                lua.rawGet(j + 1, of: 1)
                try lua.pcall(nargs: 2, nresults: 1)
                defer { lua.pop() }
                if lua.type(at: -1) == .number {
                    let v = lua.number(at: -1) ?? .nan
                    guard v == 0 || v == 1 || v == 2 else {
                        throw args.failure("equivalent returned \(v) for samples \(i + 1) and \(j + 1): a boolean or an NLI label 0 (contradiction), 1 (neutral) or 2 (entailment) expected")
                    }
                    return Int(v)
                }
                return lua.boolean(at: -1) ? 2 : 0
            }
            let h = try logprobs.map { try SemanticEntropy.weighted(clusterIDs: ids, logLikelihoods: $0) }
                ?? SemanticEntropy.discrete(clusterIDs: ids)
            lua.push(h)
            let count = (ids.max() ?? -1) + 1
            lua.newTable(arrayCount: count)
            for c in 0..<count {
                let members = ids.indices.filter { ids[$0] == c }
                lua.newTable(arrayCount: members.count)
                for (k, i) in members.enumerated() { lua.push(i + 1); lua.rawSet(k + 1, of: -2) }
                lua.rawSet(c + 1, of: -2)
            }
            return 2
        }
    }
}

extension String {
    fileprivate var trimmingSpaces: String {
        var s = Substring(self)
        while let f = s.first, f.isWhitespace { s = s.dropFirst() }
        while let l = s.last, l.isWhitespace { s = s.dropLast() }
        return String(s)
    }
}
