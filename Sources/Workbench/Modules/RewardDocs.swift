/// Docstrings of the parts of `reward` written in Lua (`RewardLua`).
enum RewardDocs {
    static let luaFunctions: [(String, String)] = [
        ("define", """
            reward.define(name, fn, {doc = ""}) -> reward
            Registers fn as the reward `name` (replacing one of that name). fn(s, state) gets one
            sample table (s.prompt, s.completion and every other field of the record) and the
            training state (state.step, state.epoch, state.max_steps: from reward.score's state
            option, moonlab score --state or a trainer's request; an empty table when none was
            given), and returns a number, or a number and an info table, or nil: "does not
            apply" (TRL's None), which scores as NaN, is no error and is left out of group
            statistics. The reward object is callable: r(s, state). In TRL's conversational
            format s.completion is a list of {role, content} messages: reward.text(s) gives its
            text either way.
            Options: doc ("").
            Example: reward.define("short", function(s) return -#s.completion / 100 end, {doc = "prefer short"})
            """),
        ("get", """
            reward.get(name) -> reward
            The registered reward `name`, callable as r(s); an unknown name is an error.
            Example: reward.get("format")({completion = "<think>a</think><answer>1</answer>"})  --> 1
            """),
        ("list", """
            reward.list() -> {names}
            The names of the registered rewards, sorted (the built-ins accuracy, format, length,
            repetition and your own).
            Example: reward.list()
            """),
        ("remove", """
            reward.remove(name) -> boolean
            Unregisters the reward `name`; true if there was one.
            Example: reward.remove("short")
            """),
        ("combine", """
            reward.combine{{r1, w1}, {r2, w2}, ...} -> reward
            A reward returning the weighted sum w1 * r1(s, state) + w2 * r2(s, state) + ...; each
            part is a reward, a registered name or a function, the weight a number (default 1) or
            a function of state returning one (a curriculum: state.step, state.epoch,
            state.max_steps, as reward.score's state option, moonlab score --state or a trainer
            gives them; an empty table when none), evaluated on every call.
            A part returning nil (does not apply) or NaN adds nothing, as TRL 1.x's nansum over
            its reward functions (None is NaN there), and so does a weighted NaN (0 * inf);
            when no part applies the sum is nil too. A part that returns
            anything else but a number is an error for that sample. r:parts(s, state) -> value, info
            reports both sides of the sum: info.parts = {{name =, raw =, weight =, weighted =},
            ...} in order, info.raw, info.weights, info.weighted keyed by part name (a repeated
            name gets #i), info.total the sum.
            Example: r = reward.combine{{"format", function(state) return math.max(0.1, 1 - (state.step or 0) / 1000) end}, {"accuracy", 1}}; v, info = r:parts(s, {step = 500})
            """),
        ("text", """
            reward.text(s[, field = "completion"]) -> string
            The text of a sample's completion (or of another field): the string itself, or, in
            TRL's conversational format (a list of {role =, content =} messages), the first
            message's content, as TRL 1.x's reward functions read it (content given as a list
            of {type = "text", text =} parts is joined). Every built-in reward reads the
            completion this way. A missing field or another type is an error.
            Example: reward.text({completion = {{role = "assistant", content = "42"}}})  --> "42"
            """),
    ]

    static let constructors: [(String, String)] = [
        ("format", """
            reward.format([pattern]) -> reward
            1 if the completion matches the Lua pattern, else 0. The pattern language is Lua's
            (string.find): %s space, .- shortest run, ^ and $ anchors, %d digit, %. a literal dot.
            The default accepts <think>...</think> then <answer>...</answer>, whitespace around:
            "^%s*<think>.-</think>%s*<answer>.-</answer>%s*$".
            Example: reward.format("<answer>%d+</answer>%s*$")
            """),
        ("length", """
            reward.length{target = 200, shape = "linear", scale = target, unit = "chars"} -> reward
            Rewards a completion length near target (a record's target_length field overrides it).
            With d = (length - target) / scale: "linear" max(0, 1 - |d|), "quadratic"
            max(0, 1 - d^2), "gaussian" exp(-d^2 / 2), "cutoff" 1 up to target then 0. unit is
            "chars" (UTF-8 characters, Python's len(text)), "words" (len(text.split()) in Python:
            split on str.isspace's whitespace, U+001C..U+001F and Unicode spaces included) or
            "bytes".
            Options: target (200), shape ("linear"), scale (target), unit ("chars").
            Example: reward.length{target = 50, unit = "words", shape = "gaussian", scale = 20}
            """),
        ("accuracy", """
            reward.accuracy{field = nil, tolerance = 1e-6} -> reward
            1 if the completion's final answer equals the record's ground truth, else 0. The answer
            is the content of the last \\boxed{...} (braces balanced), else the last number in the
            text. The truth is s[field], or s.answer, s.ground_truth, s.solution (a truth holding
            \\boxed{} is reduced the same way). Both numeric (commas, $, %, \\frac{a}{b}, a/b
            allowed): equal within tolerance * max(1, |truth|); else compared as trimmed strings.
            Options: field (answer/ground_truth/solution), tolerance (1e-6).
            Example: reward.accuracy{field = "gold", tolerance = 1e-3}
            """),
        ("repetition", """
            reward.repetition{n = 3} -> reward
            A penalty: minus the share of repeated word n-grams of the completion (rep-n of
            Welleck et al. 2019, detect.repetition), so 0 for no repetition down to near -1.
            Options: n (3).
            Example: reward.repetition{n = 4}
            """),
    ]

    static let builtins: [(String, String)] = [
        ("format", "reward format: 1 if the completion is <think>...</think> then <answer>...</answer> (whitespace around allowed), else 0; see reward.format.\nExample: reward.get(\"format\")(s)"),
        ("length", "reward length: length reward with target 200 characters, linear shape, scale 200 (a record's target_length overrides the target); see reward.length.\nExample: reward.get(\"length\")(s)"),
        ("accuracy", "reward accuracy: 1 if the last \\boxed{} (or last number) of the completion equals s.answer (or s.ground_truth, s.solution) within 1e-6 relative, else 0; see reward.accuracy.\nExample: reward.get(\"accuracy\")(s)"),
        ("repetition", "reward repetition: minus the share of repeated word 3-grams of the completion; see reward.repetition.\nExample: reward.get(\"repetition\")(s)"),
    ]
}
