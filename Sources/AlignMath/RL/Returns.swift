/// Policy-gradient arithmetic: returns, GAE, whitening, PPO losses, KL estimators and
/// penalties, group advantages (GRPO, RLOO, Dr. GRPO) and the adaptive KL controller.
/// Formulas follow TRL (`trl/experimental/ppo/ppo_trainer.py`, `trl/trainer/grpo_trainer.py`,
/// `trl/trainer/rloo_trainer.py`); every function is pure and works in `Double`.
public enum RL {
    /// Advantages and returns from `RL.gae`.
    public struct GAEResult: Equatable {
        /// Generalised advantage estimates, one per step.
        public var advantages: [Double]
        /// `advantages + values`: the lambda-returns that a value head regresses on.
        public var returns: [Double]
        /// Makes a result from its two vectors.
        public init(advantages: [Double], returns: [Double]) {
            self.advantages = advantages
            self.returns = returns
        }
    }

    static func checkSameLength(_ a: Int, _ b: Int, _ what: String) throws {
        if a != b { throw AlignMathError.shapeMismatch("\(what) differ in length (\(a) vs \(b))") }
    }

    static func checkUnitInterval(_ x: Double, _ name: String) throws {
        if !(x >= 0 && x <= 1) { throw AlignMathError.invalidArgument("\(name) must be in [0, 1], got \(x)") }
    }

    /// Discounted returns `G[t] = r[t] + gamma * G[t+1]`, with `G[n] = lastValue`.
    /// `dones[t] == true` ends the episode after step t: nothing is carried back across it.
    public static func returns(_ rewards: [Double], gamma: Double = 1, dones: [Bool]? = nil,
                               lastValue: Double = 0) throws -> [Double] {
        try checkUnitInterval(gamma, "gamma")
        if let d = dones { try checkSameLength(rewards.count, d.count, "rewards and dones") }
        let n = rewards.count
        return [Double](unsafeUninitializedCapacity: n) { out, count in
            rewards.withUnsafeBufferPointer { r in
                var g = lastValue
                if let d = dones {
                    d.withUnsafeBufferPointer { dp in
                        var t = n - 1
                        while t >= 0 {
                            g = r[t] + (dp[t] ? 0 : gamma * g)
                            out[t] = g
                            t -= 1
                        }
                    }
                } else {
                    var t = n - 1
                    while t >= 0 {
                        g = r[t] + gamma * g
                        out[t] = g
                        t -= 1
                    }
                }
            }
            count = n
        }
    }

    /// Generalised advantage estimation (Schulman et al. 2016) as TRL's PPO trainer computes it:
    /// `delta[t] = r[t] + gamma * V[t+1] - V[t]`, `A[t] = delta[t] + gamma * lambda * A[t+1]`,
    /// with `V[n] = lastValue` and `A[n] = 0`. `dones[t] == true` cuts bootstrapping after step t
    /// (neither `V[t+1]` nor `A[t+1]` reaches step t). Returns are `A + V`.
    public static func gae(rewards: [Double], values: [Double], gamma: Double = 1, lambda: Double = 0.95,
                           dones: [Bool]? = nil, lastValue: Double = 0) throws -> GAEResult {
        try checkSameLength(rewards.count, values.count, "rewards and values")
        if let d = dones { try checkSameLength(rewards.count, d.count, "rewards and dones") }
        try checkUnitInterval(gamma, "gamma")
        try checkUnitInterval(lambda, "lambda")
        let n = rewards.count
        var ret = [Double]()
        let adv = [Double](unsafeUninitializedCapacity: n) { advOut, advCount in
            ret = [Double](unsafeUninitializedCapacity: n) { retOut, retCount in
                rewards.withUnsafeBufferPointer { r in
                    values.withUnsafeBufferPointer { v in
                        if let d = dones {
                            d.withUnsafeBufferPointer { dp in
                                gaeKernel(r, v, dp, gamma, lambda, lastValue, advOut, retOut)
                            }
                        } else {
                            gaeKernel(r, v, nil, gamma, lambda, lastValue, advOut, retOut)
                        }
                    }
                }
                retCount = n
            }
            advCount = n
        }
        return GAEResult(advantages: adv, returns: ret)
    }

    /// The GAE loop over raw buffers: one backward pass, no allocation. `adv` and `ret` must
    /// hold `rewards.count` elements; `values` and `dones` (if given) must be as long.
    @inline(__always)
    public static func gaeKernel(_ rewards: UnsafeBufferPointer<Double>, _ values: UnsafeBufferPointer<Double>,
                                 _ dones: UnsafeBufferPointer<Bool>?, _ gamma: Double, _ lambda: Double,
                                 _ lastValue: Double, _ adv: UnsafeMutableBufferPointer<Double>,
                                 _ ret: UnsafeMutableBufferPointer<Double>) {
        let n = rewards.count
        guard n > 0, let r = rewards.baseAddress, let v = values.baseAddress,
              let a = adv.baseAddress, let g = ret.baseAddress else { return }
        // The loops themselves are the pointer kernels beside the tensor form (RLTensors.swift).
        if let dd = dones?.baseAddress {
            gaeKernel(r, v, dd, n, gamma, lambda, lastValue, a, g)
        } else {
            gaeKernel(r, v, n, gamma, lambda, lastValue, a, g)
        }
    }
}
