import AlignMath
import LuaKit

extension Workbench {
    /// The `synth` module: InstructLab taxonomies, the LAB pipeline, near-duplicates, replay
    /// mixing; and `data.write_chat`, the chat-messages JSONL writer.
    static func installSynth(_ wb: Workbench) throws {
        let L = wb.lua
        let m = ModuleBuilder(L, name: "synth", doc: """
            synth: synthetic data the LAB way (InstructLab)
            A taxonomy of knowledge and skills (qna.yaml files), a teacher model that writes new
            questions and answers from each leaf's seeds, judges and filters that drop the poor
            ones, near-duplicate removal, and replay mixing against forgetting. Each step is Lua
            you can read and replace: synth.templates() is the prompts' source.
            Example: leaves, problems = synth.taxonomy("Examples/taxonomy")
            """)
        m.function("taxonomy", doc: """
            synth.taxonomy(path) -> leaves, problems
            Reads an InstructLab taxonomy tree (folders of qna.yaml, versions 2 and 3) and checks
            every file as `ilab taxonomy diff` does (the instructlab/schema JSON schemas). Each
            leaf: {path = folder relative to the root, kind = "knowledge" | "compositional_skills"
            | "foundational_skills", grounded =, version =, domain =, created_by =,
            task_description =, document_outline =, seeds = {{context =, question =, answer =},
            ...}} (a knowledge seed's questions_and_answers become one seed each, sharing its
            context). problems: one per bad file, {file =, line =, field =, message =, errors =
            {{line =, field =, message =}, ...}}; a bad file never stops the good ones.
            Example: leaves, problems = synth.taxonomy("Examples/taxonomy"); print(#leaves, #problems)
            """) { args in
            let root = try args.path(1)
            let result: (leaves: [TaxonomyLeaf], problems: [TaxonomyProblem])
            do { result = try TaxonomyReader.read(root: root) { try args.state.checkpoint() } } catch let e as LuaError {
                throw e
            } catch { throw args.failure("\(error)") }
            pushLeaves(args.state, result.leaves)
            pushProblems(args.state, result.problems)
            return 2
        }
        m.function("dedupe", doc: """
            synth.dedupe(records, {field = "question", threshold = 0.85, num_perm = 128, shingle = 5,
                         seed = 1, bands = nil, rows = nil}) -> kept, dropped
            Near-duplicates by MinHash over word shingles (lower-cased, split on whitespace,
            `shingle` words each) and LSH banding, in native code: records whose estimated
            Jaccard similarity to an earlier kept record is >= threshold are dropped. The first
            of each cluster is kept. records: strings or tables (their `field`). kept: the kept
            records in order; dropped: {{record =, index =, kept = the record kept in its place,
            kept_index =, similarity = estimated Jaccard}, ...} (indices 1-based). bands x rows
            default to datasketch's choice for the threshold. The same seed gives the same result.
            Example: kept, dropped = synth.dedupe(records, {threshold = 0.8})
            """) { args in try dedupe(args) }
        m.function("similarity", doc: """
            synth.similarity(a, b, {num_perm = 128, shingle = 5, seed = 1}) -> estimated, exact
            The MinHash estimate of the Jaccard similarity of two texts' shingle sets (what
            synth.dedupe compares with its threshold) and the exact Jaccard similarity.
            Example: est, exact = synth.similarity("the cat sat on the mat today", "the cat sat on the mat", {shingle = 2})
            """) { args in
            let a = try args.string(1), b = try args.string(2)
            let h = try hasher(args, 3, allowed: ["num_perm", "shingle", "seed"])
            let sa = h.signature(a), sb = h.signature(b)
            let est = sa.withUnsafeBufferPointer { x in sb.withUnsafeBufferPointer { y in MinHasher.estimate(x, y) } }
            args.state.push(est)
            args.state.push(h.exactJaccard(a, b))
            return 2
        }
        m.function("templates", doc: """
            synth.templates() -> source
            The Lua source of synth.generate's prompt templates (a file returning a table:
            system, questions_skill, questions_grounded, judge_question, answer, answer_grounded,
            judge_faithfulness, judge_answer, parse_questions, verdict). Write it to a file,
            change it, and pass the file as synth.generate{templates = path}.
            Example: local f = io.open("my_templates.lua", "w"); f:write(synth.templates()); f:close()
            """) { args in
            args.state.push(SynthTemplates.source)
            return 1
        }
        try installSynthLua(m)
        try installWriteChat(L)
    }

    private static func installSynthLua(_ m: ModuleBuilder) throws {
        let s = m.state
        // The pipeline's ~500 lines of Lua are compiled on the first call, not at start-up:
        // each function is a two-line wrapper until then.
        try s.load("""
            local source, templates, null, may_open_files = ...
            local load, loadfile = load, loadfile  -- the real ones, before --sandbox removes them
            local M
            local function get()
              if not M then M = assert(load(source, "=synth"))(templates, null, may_open_files, loadfile) end
              return M
            end
            return {
              generate = function(...) return get().generate(...) end,
              coverage = function(...) return get().coverage(...) end,
              mix = function(...) return get().mix(...) end,
            }
            """, name: "=synth")
        s.push(SynthPipeline.source)
        s.push(SynthTemplates.source)
        s.push(ref: DataSentinels.of(s).null)
        // synth.generate{templates = path} loads a file: the sandbox's file gate first.
        s.push(function: "synth.generate") { args in  // the refusal, raised by the Lua caller at its caller
            if FileAccess.isSandboxed(args.state) { args.state.push(FileAccess.refusal("synth.generate").message); return 1 }
            return 0
        }
        try s.pcall(nargs: 4, nresults: 1)
        let docs: [(String, String)] = [
            ("generate", """
                synth.generate{leaves =, teacher =, per_leaf = 10, seed = 0, filter = nil, faithfulness = nil,
                               templates = nil, judge = true, max_tokens = 256, temperature = 0.7,
                               examples = 3, rounds = 3} -> records, report
                The LAB pipeline with a teacher (a model.openai client), per leaf: (1) new questions
                from `examples` random seeds through the question templates (from the seed's context
                when the leaf is grounded), exact duplicates of seeds and earlier questions dropped;
                (2) the teacher judges each question (yes/no); (3) answers, grounded in the context
                where there is one; (4) faithfulness: the teacher judges each pair against its
                context (or, ungrounded, its correctness); faithfulness = a function(record) ->
                boolean|number, a reward name, {reward = name} or {detector = name} (dropped when it
                flags) takes the teacher's place, false skips it; (5) filter: a reward, its name or a
                function of the sample {prompt, completion, ...}, kept when > 0; at most per_leaf
                records per leaf. templates: a table or a file (see synth.templates()) overriding the
                defaults. records: {leaf =, context =, question =, answer =, messages = {{role =
                "user", ...}, {role = "assistant", ...}}}. report[leaf path] (also report.leaves in
                order): {seeds =, kept =, steps = {{name =, generated =, dropped =, reasons = {why =
                count}, log = {{input =, output =}, ...}}, ...}, dropped = {{step =, item =, reason
                =}, ...}}; report.total = {generated =, kept =, dropped =}.
                Example: records, report = synth.generate{leaves = leaves, teacher = llm, per_leaf = 5}
                """),
            ("coverage", """
                synth.coverage(leaves, records) -> coverage
                Per leaf (in order, and by path): {path =, kind =, seeds = number of seeds, generated =
                records whose `leaf` is the leaf's path}; coverage.unknown counts records naming no
                leaf. records: a list or a dataset (nil: none yet).
                Example: for _, c in ipairs(synth.coverage(leaves, records)) do print(c.path, c.seeds, c.generated) end
                """),
            ("mix", """
                synth.mix{skills =, replay =, alpha = 0.5, total = nil, seed = 0} -> mixed, counts
                LAB's replay mixing against forgetting (L = alpha L_skills + (1 - alpha) L_replay): a
                shuffled list of round(alpha * total) records drawn from skills and total - that from
                replay, without replacement while a pool lasts (a pool smaller than its share is
                used whole, then drawn again). total defaults to round(#skills / alpha), every
                skills record once (#replay when alpha = 0). skills and replay: lists or datasets.
                counts = {skills =, replay =, total =}. Deterministic for a seed.
                Example: mixed = synth.mix{skills = records, replay = data.jsonl("hh.jsonl"), alpha = 0.7, total = 1000}
                """),
        ]
        for (name, doc) in docs {
            s.getField(name, of: -1)
            Help.register(s, value: -1, name: "synth.\(name)", doc: doc, isModule: false)
            m.field(name)
        }
        s.pop()
    }

    /// A MinHasher from the options at `index`.
    private static func hasher(_ args: LuaArguments, _ index: Int32, allowed: [String]) throws -> MinHasher {
        let o = try args.options(index, allowed: allowed)
        let numPerm = try o.integer("num_perm", default: 128)
        let shingle = try o.integer("shingle", default: 5)
        let seed = try o.integer("seed", default: 1)
        do { return try MinHasher(numPerm: numPerm, shingle: shingle, seed: UInt64(bitPattern: Int64(seed))) }
        catch { throw args.failure("\(error)") }
    }

    private static func dedupe(_ args: LuaArguments) throws -> Int32 {
        try args.table(1)
        let allowed = ["field", "threshold", "num_perm", "shingle", "seed", "bands", "rows"]
        let h = try hasher(args, 2, allowed: allowed)
        let o = try args.options(2, allowed: allowed)
        let field = try o.string("field", default: "question")
        let threshold = try o.number("threshold", default: 0.85)
        let bands = try o.integer("bands"), rows = try o.integer("rows")
        if (bands == nil) != (rows == nil) { throw args.error(2, "give both bands and rows, or neither") }
        let L = args.state
        let n = L.rawLength(at: 1)
        var texts: [String] = []
        texts.reserveCapacity(n)
        for i in 1...max(1, n) where i <= n {
            _ = L.rawGet(i, of: 1)
            defer { L.pop() }
            if L.type(at: -1) == .string { texts.append(L.string(at: -1) ?? ""); continue }
            guard L.type(at: -1) == .table else { throw args.error(1, "records[\(i)] is a \(L.typeName(at: -1)), not a string or a table") }
            guard L.getField(field, of: -1) == .string, let t = L.string(at: -1) else {
                L.pop()
                throw args.error(1, "records[\(i)].\(field) is not a string")
            }
            L.pop()
            texts.append(t)
        }
        let result: [(kept: Int, similarity: Double)?]
        do {
            let d = try NearDuplicates(hasher: h, threshold: threshold, bands: bands, rows: rows)
            result = try d.run(texts, interrupted: { LuaInterrupt.isPending })
        } catch { throw args.failure("\(error)") }
        L.newTable()
        var k = 0
        for (i, r) in result.enumerated() where r == nil {
            k += 1
            _ = L.rawGet(i + 1, of: 1)
            L.rawSet(k, of: -2)
        }
        L.newTable()
        k = 0
        for (i, r) in result.enumerated() {
            guard let r else { continue }
            k += 1
            L.newTable()
            _ = L.rawGet(i + 1, of: 1); L.setField("record")
            L.push(i + 1); L.setField("index")
            _ = L.rawGet(r.kept + 1, of: 1); L.setField("kept")
            L.push(r.kept + 1); L.setField("kept_index")
            L.push(r.similarity); L.setField("similarity")
            L.rawSet(k, of: -2)
        }
        return 2
    }

    private static func pushLeaves(_ L: LuaState, _ leaves: [TaxonomyLeaf]) {
        L.newTable(arrayCount: leaves.count)
        for (i, leaf) in leaves.enumerated() {
            L.newTable()
            L.push(leaf.path); L.setField("path")
            L.push(leaf.kind); L.setField("kind")
            L.push(leaf.grounded); L.setField("grounded")
            L.push(leaf.version); L.setField("version")
            L.push(leaf.createdBy); L.setField("created_by")
            if let d = leaf.domain { L.push(d); L.setField("domain") }
            if let t = leaf.taskDescription { L.push(t); L.setField("task_description") }
            if let o = leaf.documentOutline { L.push(o); L.setField("document_outline") }
            L.newTable(arrayCount: leaf.seeds.count)
            for (k, s) in leaf.seeds.enumerated() {
                L.newTable()
                if let c = s.context { L.push(c); L.setField("context") }
                L.push(s.question); L.setField("question")
                L.push(s.answer); L.setField("answer")
                L.rawSet(k + 1, of: -2)
            }
            L.setField("seeds")
            L.rawSet(i + 1, of: -2)
        }
    }

    private static func pushProblems(_ L: LuaState, _ problems: [TaxonomyProblem]) {
        L.newTable(arrayCount: problems.count)
        for (i, p) in problems.enumerated() {
            L.newTable()
            L.push(p.file); L.setField("file")
            L.push(p.line); L.setField("line")
            L.push(p.field); L.setField("field")
            L.push(p.message); L.setField("message")
            L.newTable(arrayCount: p.errors.count)
            for (k, e) in p.errors.enumerated() {
                L.newTable()
                L.push(e.line); L.setField("line")
                L.push(e.field); L.setField("field")
                L.push(e.message); L.setField("message")
                L.rawSet(k + 1, of: -2)
            }
            L.setField("errors")
            L.rawSet(i + 1, of: -2)
        }
    }
}
