import AlignMath
import Dispatch
import Foundation

// Benchmarks of the RL, Preference and Metrics kernels on data that is a closed-form function
// of the index (integer arithmetic only), so Benchmarks/peers_rl.py builds identical arrays in
// numpy. Each case: one warm-up call, then the median of 5 timed calls (outputs allocated
// inside the timed call, as a caller would see it).

/// Inputs of the GAE cases: rewards, values and dones of `n` steps (mirrored in peers_rl.py).
func rlBenchGAEData(_ n: Int) -> (r: [Double], v: [Double], d: [Bool]) {
    let r = (0..<n).map { Double(($0 &* 7919) % 1000) / 1000 - 0.5 }
    let v = (0..<n).map { Double(($0 &* 104_729) % 1000) / 1000 }
    let d = (0..<n).map { $0 % 128 == 127 }
    return (r, v, d)
}

/// Inputs of the DPO case: summed log-probabilities of `n` pairs (mirrored in peers_rl.py).
func rlBenchDPOData(_ n: Int) -> (pc: [Double], pr: [Double], rc: [Double], rr: [Double]) {
    let pc = (0..<n).map { (i: Int) -> Double in -50 - Double((i &* 31) % 1000) / 20 }
    let pr = (0..<n).map { (i: Int) -> Double in -55 - Double((i &* 17) % 1000) / 20 }
    let rc = (0..<n).map { (i: Int) -> Double in pc[i] + Double((i &* 13) % 100) / 50 - 1 }
    let rr = (0..<n).map { (i: Int) -> Double in pr[i] + Double((i &* 7) % 100) / 50 - 1 }
    return (pc, pr, rc, rr)
}

/// Keeps results alive so the optimiser cannot drop the timed work. Unsynchronised on
/// purpose: the benchmarks run on the main thread only.
nonisolated(unsafe) var rlBenchSink = 0.0

/// Median wall-clock milliseconds of 5 calls of `body` after one warm-up.
func rlMedianMs(_ body: () throws -> Double) -> Double {
    var times: [Double] = []
    do {
        rlBenchSink += try body()
        for _ in 0..<5 {
            let t0 = DispatchTime.now().uptimeNanoseconds
            rlBenchSink += try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
        }
    } catch {
        fatalError("rl benchmark failed: \(error)")
    }
    times.sort()
    return times[times.count / 2]
}

/// Prints `{"area":"rl","case":NAME,"ms":MS}`.
func rlEmit(_ name: String, _ ms: Double) {
    print("{\"area\":\"rl\",\"case\":\"\(name)\",\"ms\":\(String(format: "%.4f", ms))}")
}

/// Benchmarks of the RL kernels; prints one JSON line per case (see Benchmarks/run.sh).
func rlBenchmarks() {
    let n = 1_000_000
    let g = rlBenchGAEData(n)
    // What rl.gae does: tensors in (read in place), tensors out (huge-page storage).
    let rt = try? Tensor(g.r, shape: [n]), vt = try? Tensor(g.v, shape: [n])
    let dt = try? Tensor(g.d.map { $0 ? 1 : 0 }, shape: [n])
    if let rt, let vt, let dt {
        rlEmit("gae_1e6", rlMedianMs {
            let out = try RL.gae(rewards: rt, values: vt, gamma: 0.99, lambda: 0.95, dones: dt, lastValues: [0])
            return out.advantages[flat: 0] + out.returns[flat: n - 1]
        })
    }
    // The same over Swift arrays: two fresh 8 MB outputs whose page faults dominate here.
    rlEmit("gae_1e6_arrays", rlMedianMs {
        let out = try RL.gae(rewards: g.r, values: g.v, gamma: 0.99, lambda: 0.95, dones: g.d)
        return out.advantages[0] + out.returns[n - 1]
    })
    // The same GAE without dones: the case peers_rl.py times with scipy.signal.lfilter.
    rlEmit("gae_1e6_lfilter_nodones", rlMedianMs {
        let out = try RL.gae(rewards: g.r, values: g.v, gamma: 0.99, lambda: 0.95)
        return out.advantages[0] + out.returns[n - 1]
    })
    // The GAE loop alone, writing into outputs allocated once (as the Lua glue can, into tensor
    // storage): the 2 ms target. The cases above also pay for two fresh 8 MB outputs, whose
    // page faults dominate on this machine.
    var adv = [Double](repeating: 0, count: n), ret = [Double](repeating: 0, count: n)
    rlEmit("gae_1e6_prealloc", rlMedianMs {
        g.r.withUnsafeBufferPointer { r in g.v.withUnsafeBufferPointer { v in g.d.withUnsafeBufferPointer { d in
            adv.withUnsafeMutableBufferPointer { a in ret.withUnsafeMutableBufferPointer { rt in
                RL.gaeKernel(r, v, d, 0.99, 0.95, 0, a, rt)
            } } } } }
        return adv[0]
    })
    let p = rlBenchDPOData(n)
    rlEmit("dpo_sigmoid_1e6", rlMedianMs {
        let out = try Preference.dpoLoss(policyChosen: p.pc, policyRejected: p.pr, refChosen: p.rc, refRejected: p.rr)
        return out.loss
    })
    let problems = 100_000
    let ns = [Int](repeating: 200, count: problems)
    let cs = (0..<problems).map { ($0 &* 37) % 201 }
    rlEmit("pass_at_k_1e5", rlMedianMs {
        let out = try Metrics.passAtK(n: ns, c: cs, k: 10)
        return out.reduce(0, +) / Double(problems)
    })
}
