import LuaKit
import AlignMath

extension Workbench {
    /// The `sample` module: sampler stages (SampleStages.swift), stages written in Lua
    /// (SampleLuaStage.swift), chains and their methods (SampleChain.swift), `explain`
    /// tables (SampleExplain.swift), vocabularies (SampleVocab.swift), best-of-n,
    /// self-consistency and replay (SampleSelection.swift). The math is AlignMath's.
    static func installSample(_ wb: Workbench) throws {
        let m = ModuleBuilder(wb.lua, name: "sample", doc: """
            sample: sampling strategies over a row of logits, as chains of stages
            Stages: temperature, top_k, top_p, min_p, typical, epsilon, eta, top_n_sigma, xtc,
            penalties, logit_bias, greedy, mirostat, and stage(name, fn) written in Lua. Filtering
            stages take {min_keep = 1, semantics = "transformers" | "llama.cpp"}: by default HF
            transformers' warpers exactly, llama.cpp's samplers where they differ. Token ids are
            0-based vocabulary ids (the logit of id is logits[id + 1]). chain:explain shows what
            each stage kept. sample.compare runs one configuration as transformers, llama.cpp and
            vLLM each would. Randomness comes only from random generators.
            Example: c = sample.chain{sample.top_k(40), sample.top_p(0.95), sample.temperature(0.8)}; c:sample(logits, random.new(0))
            """)
        SampleStages.install(m)
        SampleStages.installLuaStage(m)
        SampleStages.installChain(m)
        SampleStages.installVocab(m)
        SampleStages.installSelection(m)
        SampleStages.installCompare(m)
    }
}
