import LuaKit
import AlignMath

/// `pref.explore`: a preference loss and its gradient along the implicit-reward margin
/// (AlignMath's `Preference.explore`).
extension Workbench {
    static func installExplore(_ m: ModuleBuilder) {
        let names = Preference.DPOLoss.allCases.map(\.rawValue) + ["simpo", "orpo", "kto"]
        m.function("explore", doc: """
            pref.explore{loss = "sigmoid", beta = 0.1, margins =, chosen = nil, label_smoothing = 0,
              discopop_tau = 0.05, gamma = 0.5, bco_delta = 0, kl = 0} -> losses, grads, parts
            A preference loss as a function of the implicit-reward margin m = chosen_reward -
            rejected_reward (the rewards are beta * (policy - ref) log-ratios; SimPO's and ORPO's
            beta * average log-probability), at each margin: losses, and grads = d loss / d m,
            ready for plot.line(margins, grads). For losses of the margin alone (sigmoid, hinge,
            ipo, robust, exo_pair, discopop, sigmoid_norm, aot, aot_unpaired, cdpo, simpo) that is
            the plain derivative: e.g. sigmoid's -sigmoid(-m) shrinks as the margin grows, and
            nothing in it says whether the chosen reward goes up or down. The others depend on
            each reward (nca_pair, bco_pair, sppo_hard, apo_zero, apo_down, orpo, kto): with
            chosen = nil each margin is split evenly (chosen m/2, rejected -m/2) and grads is the
            derivative along that line; with chosen (one number or one per margin) the chosen
            reward stays there, the rejected one is chosen - m, and grads is d loss / d m through
            the rejected reward. parts = {chosen =, rejected = (the rewards used), grad_chosen =,
            grad_rejected = (d loss / d each reward)}. ipo and sigmoid_norm take lengths of 1;
            kto is the mean of one desirable and one undesirable loss with reference point kl;
            orpo needs chosen (< 0: a log-probability).
            Fields: loss ("sigmoid": any pref.dpo_loss type, or simpo, orpo, kto); beta (0.1);
            margins (required); chosen (nil); label_smoothing (0); discopop_tau (0.05); gamma
            (0.5, SimPO); bco_delta (0); kl (0, KTO).
            Example: local m = tensor.linspace(-5, 5, 101); local l, g = pref.explore{loss = "sigmoid", beta = 0.1, margins = m}; plot.line(m, g)
            """) { args in
            try args.table(1)
            let o = try args.options(1, allowed: ["loss", "beta", "margins", "chosen", "label_smoothing", "discopop_tau",
                                                  "gamma", "bco_delta", "kl"])
            let loss = try Preference.ExploreLoss.named(try o.choice("loss", names, default: "sigmoid"))
            var opts = Preference.ExploreOptions()
            opts.beta = try o.number("beta", default: 0.1)
            opts.labelSmoothing = try o.number("label_smoothing", default: 0)
            opts.discopopTau = try o.number("discopop_tau", default: 0.05)
            opts.gamma = try o.number("gamma", default: 0.5)
            opts.bcoDelta = try o.number("bco_delta", default: 0)
            opts.ktoKL = try o.number("kl", default: 0)
            if o.push("chosen") == .number {
                opts.chosen = [o.state.number(at: -1) ?? 0]
                o.state.pop()
            } else {
                o.state.pop()
                opts.chosen = try o.vector("chosen")
            }
            let margins = try o.requiredVector("margins")
            let r = try Preference.explore(loss, margins: margins, options: opts)
            try args.state.push(tensorOf: r.losses)
            try args.state.push(tensorOf: r.grads)
            let s = args.state
            s.newTable(recordCount: 4)
            try s.push(tensorOf: r.chosenRewards); s.setField("chosen", of: -2)
            try s.push(tensorOf: r.rejectedRewards); s.setField("rejected", of: -2)
            try s.push(tensorOf: r.gradChosen); s.setField("grad_chosen", of: -2)
            try s.push(tensorOf: r.gradRejected); s.setField("grad_rejected", of: -2)
            return 3
        }
    }
}
