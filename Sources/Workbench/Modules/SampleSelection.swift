import LuaKit
import AlignMath

/// `sample.best_of_n`, `sample.self_consistency` and `sample.replay_logits`.
extension SampleStages {
    static func installSelection(_ m: ModuleBuilder) {
        m.function("best_of_n", doc: """
            sample.best_of_n(candidates, reward) -> best, index, scores
            Scores every candidate with reward and returns the best one, its 1-based index and
            all scores (an f64 tensor). reward is a function fn(candidate) -> number (extra
            results ignored), a reward object or the name of a reward registered with
            reward.define, looked up with reward.get(name); a registered reward gets a sample
            table, so a string candidate, or one in TRL's conversational format (a list of
            {role, content} messages), is passed as {completion = candidate}. nil ("does not
            apply", TRL's None) scores NaN, and NaN scores never win; ties go to the first.
            Example: best, i = sample.best_of_n({"a", "bb"}, function(s) return #s end)  --> "bb", 2
            """) { a in
            try a.table(1)
            let s = a.state
            let n = s.rawLength(at: 1)
            guard n > 0 else { throw a.error(1, "candidates must be a non-empty array") }
            try a.noOptions(3)
            var fn: Int32 = 2
            if a.type(2) == .string {
                try pushRegisteredReward(a, name: try a.string(2))
                fn = s.top
            } else {
                try a.callable(2)
            }
            // A registered reward (by name, or a reward object: anything but a plain function)
            // reads a sample table: wrap texts and conversational completions as its completion.
            let wrap = fn != 2 || a.type(2) != .function
            var scores: [Double] = []
            for i in 1...n {
                s.pushValue(at: fn)
                s.rawGet(i, of: 1)
                if wrap, s.type(at: -1) == .string || isMessageList(s, at: -1) {
                    s.newTable()
                    s.insert(at: -2)
                    s.setField("completion", of: -2)
                }
                do {
                    try s.pcall(nargs: 1, nresults: 1)
                } catch let e as LuaError {
                    throw a.failure("reward failed on candidate \(i): \(e.message)")
                }
                defer { s.pop() }
                if s.isNil(-1) { scores.append(.nan); continue }  // does not apply: TRL's None
                guard s.type(at: -1) == .number, let x = s.number(at: -1) else {
                    throw a.failure("reward must return a number or nil, got \(s.typeName(at: -1)) for candidate \(i)")
                }
                scores.append(x)
            }
            guard let best = Selection.bestOfN(scores) else { throw a.failure("every score is NaN") }
            s.rawGet(best.index + 1, of: 1)
            s.push(best.index + 1)
            s.push(tensor: try Tensor(scores))
            return 3
        }
        m.function("self_consistency", doc: """
            sample.self_consistency(answers, {normalize = nil}) -> answer, agreement, counts
            Majority vote over final answers (self-consistency, Wang et al. 2022): the most
            frequent answer, its share of the votes in [0, 1], and a table answer -> count.
            normalize(answer) -> string|number|nil maps each answer first (e.g. extracting the
            number after ####); nil drops that answer from the vote. Ties go to the answer seen
            first. Answers are strings or numbers (numbers are compared as Lua prints them).
            Options: normalize (nil): a function applied to each answer.
            Example: sample.self_consistency({"42", " 42", "41"}, {normalize = function(s) return s:match("%d+") end})  --> "42", 0.6667
            """) { a in
            try a.table(1)
            let o = try a.options(2, allowed: ["normalize"])
            let s = a.state
            let hasNorm = o.push("normalize") != .nil
            if hasNorm && s.type(at: -1) != .function { throw o.optionError("normalize", "a function") }
            let fnIndex = s.top
            var keys: [String] = []
            var firstValue: [String: Int] = [:]  // key -> index of the Lua value in `values`
            s.newTable()
            let values = s.top
            for i in 0..<s.rawLength(at: 1) {
                s.rawGet(i + 1, of: 1)
                if hasNorm {
                    s.pushValue(at: fnIndex)
                    s.insert(at: -2)
                    do { try s.pcall(nargs: 1, nresults: 1) } catch let e as LuaError {
                        throw a.failure("normalize failed on answer \(i + 1): \(e.message)")
                    }
                }
                switch s.type(at: -1) {
                case .nil: s.pop(); continue
                case .string, .number:
                    let k = s.type(at: -1) == .number ? "n:" + s.describe(at: -1) : "s:" + (s.string(at: -1) ?? "")
                    keys.append(k)
                    if firstValue[k] == nil {
                        let slot = firstValue.count + 1
                        firstValue[k] = slot
                        s.rawSet(slot, of: values)
                    } else {
                        s.pop()
                    }
                default:
                    throw a.failure("answer \(i + 1) must be a string or number\(hasNorm ? " (after normalize)" : ""), got \(s.typeName(at: -1))")
                }
            }
            guard let vote = Selection.selfConsistency(keys), let w = firstValue[vote.answer] else {
                throw a.failure("no answers to vote on\(hasNorm ? " (normalize returned nil for every one)" : "")")
            }
            s.rawGet(w, of: values)
            s.push(vote.agreement)
            s.newTable(arrayCount: 0, recordCount: vote.counts.count)
            for c in vote.counts {
                s.rawGet(firstValue[c.answer] ?? 0, of: values)
                s.push(c.count)
                s.rawSet(of: -3)
            }
            return 3
        }
        installReplay(m)
    }

    /// Whether the value at `index` is a completion in TRL's conversational format: a list
    /// whose first entry is a message table (with `role` or `content`), or one message.
    private static func isMessageList(_ s: LuaState, at index: Int32) -> Bool {
        guard s.type(at: index) == .table else { return false }
        let t = s.absolute(index)
        func isMessage(_ i: Int32) -> Bool {
            guard s.type(at: i) == .table else { return false }
            for key in ["role", "content"] {
                s.push(key)
                let found = s.rawGet(of: i) != .nil
                s.pop()
                if found { return true }
            }
            return false
        }
        s.rawGet(1, of: t)
        defer { s.pop() }
        if s.type(at: -1) == .table { return isMessage(s.absolute(-1)) }
        return s.type(at: -1) == .nil && isMessage(t)
    }

    /// Pushes `reward.get(name)` (through Lua, so any reward module works). Stack: [] -> [r].
    private static func pushRegisteredReward(_ a: LuaArguments, name: String) throws {
        let s = a.state
        let missing = a.error(2, "reward '\(name)' is given by name, but this session has no reward module with reward.get; pass a function")
        guard s.getGlobal("reward") == .table else { s.pop(); throw missing }
        guard s.getField("get", of: -1) == .function else { s.pop(2); throw missing }
        s.remove(at: -2)
        s.push(name)
        do { try s.pcall(nargs: 1, nresults: 1) } catch let e as LuaError {
            throw a.error(2, "no reward named '\(name)': \(e.message)")
        }
        if s.isNil(-1) { s.pop(); throw a.error(2, "no reward named '\(name)' (see reward.list())") }
    }

    private static func installReplay(_ m: ModuleBuilder) {
        m.function("replay_logits", doc: """
            sample.replay_logits(t, chain, rng, ctx) -> ids, steps
            Walks a [T, V] tensor of logits (one row per generation step, as dumped from a model and
            read with tensor.load) and samples one token per row with chain and rng; the history
            that penalties see starts as ctx.history (default empty) and grows by each token.
            Returns the 0-based token ids (an i64 tensor, so ids[t] + 1 is the position of step
            t's token in row t) and per-step stats, a list of
            {prob =, entropy =, kept =}: the chosen token's probability, the entropy (nats) of
            the final distribution and how many tokens survived. rng nil uses random.default.
            The chain computes in the tensor's dtype (f32 or f64, read in place). With a
            random.new(seed, {engine = "llama.cpp"}) generator and llama.cpp-semantics stages,
            the ids are those a llama.cpp run with that seed drew from the same logits.
            Compare two strategies on the same dumped distributions with the same seed.
            A step with no token left (every logit -inf or removed) is an error naming the step
            (1-based): the steps after it would depend on its token (as in HF's generate, whose
            torch.multinomial refuses the whole batch).
            Example: ids, steps = sample.replay_logits(tensor.load("logits.npy"), chain, random.new(0))
            """) { a in
            guard let t = a.tensorIfAny(1) else { throw a.typeError(1, expected: "[T, V] tensor") }
            guard t.ndim == 2, t.shape[1] > 0 else {
                throw a.error(1, "logits must be a [T, V] tensor, got shape {\(t.shape.map(String.init).joined(separator: ", "))}")
            }
            let box = try a.object(2, ChainBox.self)
            let rng = try RandomModule.generator(a, 3)
            let ctx = try SampleChainSupport.context(a, 4, defaultRNG: false)
            let (steps, vocab) = (t.shape[0], t.shape[1])
            let out = try SampleChainSupport.running(box, a, ctxIndex: 4, logitsIndex: 1) { () -> [ReplayStep] in
                do {
                    return try SampleChainSupport.withRows(t) { rows in
                        switch rows {
                        case .f32(let r): return try box.chain.replayLogits(r, steps: steps, vocab: vocab, rng: rng, context: ctx)
                        case .f64(let r): return try box.chain.replayLogits(r, steps: steps, vocab: vocab, rng: rng, context: ctx)
                        }
                    }
                } catch AlignMathError.allMasked(let row) {
                    // AlignMath counts steps from 0; Lua users index t[step] from 1
                    throw AlignMathError.invalidArgument("step \(row + 1) (t[\(row + 1)]) has no token left: every logit is -inf or removed by a stage")
                }
            }
            let s = a.state
            try s.push(ids: out.map { $0.token })
            s.newTable(arrayCount: out.count, recordCount: 0)
            for (i, r) in out.enumerated() {
                s.newTable(arrayCount: 0, recordCount: 3)
                s.push(r.prob); s.setField("prob", of: -2)
                s.push(r.entropy); s.setField("entropy", of: -2)
                s.push(r.surviving); s.setField("kept", of: -2)
                s.rawSet(i + 1, of: -2)
            }
            return 2
        }
    }
}
