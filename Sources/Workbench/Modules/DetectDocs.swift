/// Docstrings of `detect`.
enum DetectDocs {
    static let luaFunctions: [(String, String, String)] = [
        ("detect_define", "define", """
            detect.define(name, fn, {doc = ""}) -> detector
            Registers a detection rule. fn(s) gets one sample table and returns flag (boolean),
            score (a number, optional) and reason (a string, optional), or one table
            {flag = boolean, score =, reason =} with the same three. Returning nothing is not
            flagged; a first value of another type (a number, a string) or a table without a
            boolean flag is an error naming the detector, reported for that row (detect.run,
            moonlab score and serve go on with the others). The detector is callable.
            Options: doc ("").
            Example: detect.define("long", function(s) local n = #s.completion; return n > 2000, n, "over 2000 bytes" end)
            """),
        ("detect_get", "get", """
            detect.get(name) -> detector
            The registered detector called name (defined at the prompt, in a file or by a plugin);
            callable as d(s) -> flag, score, reason (a table fn returned is given as these three).
            An unknown name is an error.
            Example: flag, score, reason = detect.get("math_answer_wrong"){completion = "4", answer = "5"}
            """),
        ("detect_list", "list", """
            detect.list() -> names
            The names of the registered detectors, sorted.
            Example: for _, name in ipairs(detect.list()) do print(name) end
            """),
        ("detect_remove", "remove", """
            detect.remove(name) -> removed
            Unregisters a detector; returns whether one was registered under that name.
            Example: detect.remove("long")
            """),
        ("detect_run", "run", """
            detect.run(rules, records) -> report
            Runs each rule (a detector, its name or a function; one rule or a list) on every record.
            The report has n (rows), order (rule names), rules[name] = {flag_rate, mean_score,
            flagged, errors} and rows[i] = {flags = {name = bool}, scores = {name = x},
            reasons = {name = text}}. A rule that raises on a row counts in errors, is not
            flagged there, and its reason is "error: <message>". At the prompt it prints as a
            table of rules and the first flagged rows.
            Example: report = detect.run({"long"}, rows); print(report.rules.long.flag_rate)
            """),
    ]

    static let tokenUncertainty = """
        detect.token_uncertainty(lp, {renormalize = true}) -> {avg_neg_logprob, max_neg_logprob, avg_entropy, max_entropy}
        Uncertainty of one generated sequence from a normalized logprobs record
        {tokens, logprobs, top_logprobs} (as data.logprobs returns; a plain array or tensor of
        logprobs works too). avg/max_neg_logprob: mean and max of -logprob over tokens.
        avg/max_entropy: mean and max over positions of the entropy (nats) of each position's top
        logprobs (arrays of numbers, {token =, logprob =} tables or token -> logprob maps);
        with renormalize the listed alternatives are renormalised to sum to 1 first (the entropy
        of the truncated distribution), without it -sum exp(l) l over the listed tokens (their
        share of the full entropy). Positions without alternatives are skipped; the entropies are
        nil when no position has any.
        Options: renormalize (true).
        Example: detect.token_uncertainty(data.logprobs(response)).avg_neg_logprob
        """

    static let perplexity = """
        detect.perplexity(lp) -> number
        exp(mean(-logprob)) over the tokens of a logprobs record (or an array/tensor of logprobs).
        Example: detect.perplexity({logprobs = {-0.1, -2.3, -0.5}})
        """

    static let repetition = """
        detect.repetition(text, {n = 3}) -> number
        rep-n (Welleck et al. 2019): 1 - distinct n-grams / n-grams over whitespace tokens
        as Python's str.split() makes them (U+001C-U+001F and every other Unicode space
        separate; case kept); 0 with fewer than n tokens, near 1 for a text that loops.
        Options: n (3).
        Example: detect.repetition("go go go go", {n = 1})  --> 0.75
        """

    static let selfcheck = """
        detect.selfcheck_ngram(sentences, passage, samples, {n = 1, k = 0}) -> {sentences = {{avg_neg_logprob, max_neg_logprob}, ...}, doc = {avg_neg_logprob, avg_max_neg_logprob}}
        SelfCheckGPT's n-gram score exactly as selfcheckgpt's modeling_ngram.py: the passage and
        the samples are counted in one model (split into sentences as spaCy's sentencizer and into
        lower-cased tokens as spaCy's English tokenizer does); n > 1 pads each sentence with n - 1
        "<s>"; p = (count + k) / (total + k * V), V the vocabulary plus <unk>; each sentence is
        scored per token. With k = 0 (selfcheckgpt's setting) a token never seen scores +inf.
        Each sentence, the passage and each sample may be an array of tokens instead of text.
        Higher means less supported by the samples.
        Options: n (1), k (0).
        Example: detect.selfcheck_ngram({"He was born in 1942."}, passage, {s1, s2, s3}, {n = 2})
        """

    static let semanticEntropy = """
        detect.semantic_entropy(samples, {equivalent = fn, logprobs = nil}) -> entropy, clusters
        Semantic entropy (Kuhn et al. 2023, Farquhar et al. 2024). Samples are clustered exactly
        as jlko/semantic_uncertainty's get_semantic_ids: each sample not yet in a cluster opens
        the next one, and every later sample b with equivalent(a, b) and equivalent(b, a) joins
        it (equivalent is one direction, an NLI "a entails b"; both are asked for every pair,
        a-b first), even one already in an earlier cluster, so a judgment that is not
        transitive is resolved as the reference resolves it. Without equivalent, trimmed
        lower-cased strings must be equal. equivalent may also return an NLI label, as jlko's
        check_implication does (0 contradiction, 1 neutral, 2 entailment): with strict (true,
        the pipeline's --strict_entailment default) a pair is equivalent when both directions
        are 2; with strict = false when neither is 0 and not both are 1 (get_semantic_ids'
        own default). Without logprobs: the entropy (nats) of cluster frequencies.
        With logprobs (one sequence log-likelihood per sample): normalised over samples,
        summed per cluster, entropy of the cluster masses. clusters lists each cluster's sample
        indices.
        Options: equivalent (string equality), logprobs (nil), strict (true; for NLI labels).
        Example: h, cl = detect.semantic_entropy(answers, {equivalent = function(a, b) return a:lower() == b:lower() end})
        """

    static let pope = """
        detect.pope(answers, labels) -> {accuracy, precision, recall, f1, yes_ratio, tp, fp, tn, fn}
        POPE's metrics as RUCAIBox/POPE evaluate.py computes them. An answer is parsed as the
        script does: text before the first ".", commas deleted, split on spaces; "no" if a word is
        exactly No, not or no, else "yes". labels are "yes"/"no" (or booleans); yes is positive.
        precision/recall are NaN where the script would divide by zero.
        Example: detect.pope({"Yes, there is.", "No."}, {"yes", "no"}).accuracy  --> 1
        """
}
