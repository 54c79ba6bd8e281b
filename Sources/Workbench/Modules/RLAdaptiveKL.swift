import LuaKit
import AlignMath

/// The userdata behind `rl.adaptive_kl`: a mutable box around AlignMath's controller.
final class AdaptiveKLBox {
    var controller: RL.AdaptiveKLController
    init(_ controller: RL.AdaptiveKLController) { self.controller = controller }

    var description: String {
        "adaptive_kl(value = \(formatNumber(controller.value)), target = \(formatNumber(controller.target)), "
            + "horizon = \(formatNumber(controller.horizon)))"
    }
}

extension Workbench {
    /// `rl.adaptive_kl` and its controller type (`:update`, fields `value`, `target`, `horizon`).
    static func installAdaptiveKL(_ m: ModuleBuilder) {
        m.state.register(type: AdaptiveKLBox.self, name: "adaptive_kl") { t in
            t.method("update") { box, args in
                let current = try args.number(2), steps = try args.number(3)
                guard steps >= 0 else { throw args.error(3, "n_steps must be >= 0, got \(formatNumber(steps))") }
                guard current.isFinite else { throw args.error(2, "current_kl must be finite, got \(current)") }
                args.state.push(box.controller.update(currentKL: current, nSteps: steps))
                return 1
            }
            t.index { box, args in
                switch args.state.string(at: 2) {
                case "value": args.state.push(box.controller.value)
                case "target": args.state.push(box.controller.target)
                case "horizon": args.state.push(box.controller.horizon)
                default: args.state.pushNil()
                }
                return 1
            }
            t.newIndex { box, args in
                guard args.type(2) == .string, args.state.string(at: 2) == "value" else {
                    throw args.failure("only 'value' can be set (target and horizon are fixed), got '\(args.state.describe(at: 2))'")
                }
                let v = try args.number(3, "value", in: LuaRanges.nonNegative)
                let c = box.controller
                box.controller = try RL.AdaptiveKLController(initial: v, target: c.target, horizon: c.horizon)
                return 0
            }
            t.meta("__tostring") { args in
                args.state.push(try args.object(1, AdaptiveKLBox.self).description)
                return 1
            }
        }

        m.function("adaptive_kl", doc: """
            rl.adaptive_kl{init = 0.2, target = 6, horizon = 10000} -> controller
            The adaptive KL coefficient of Ziegler et al. (2019), as TRL's AdaptiveKLController.
            ctl:update(current_kl, n_steps) sets value = value * (1 + e * n_steps / horizon) with
            e = clip(current_kl / target - 1, -0.2, 0.2) and returns the new value.
            Fields: ctl.value (the current beta; settable, e.g. to restore a checkpoint),
            ctl.target, ctl.horizon.
            Options: init (0.2, >= 0), target (6, > 0), horizon (10000, > 0).
            Example: local ctl = rl.adaptive_kl{target = 6}; ctl:update(8.1, 256); print(ctl.value)
            """) { args in
            let o = try args.options(1, allowed: ["init", "target", "horizon"])
            let c = try RL.AdaptiveKLController(initial: try o.number("init", in: LuaRanges.nonNegative, default: 0.2),
                                                target: try o.number("target", in: LuaRanges.positive, default: 6),
                                                horizon: try o.number("horizon", in: LuaRanges.positive, default: 10000))
            args.state.push(object: AdaptiveKLBox(c))
            return 1
        }
    }
}
