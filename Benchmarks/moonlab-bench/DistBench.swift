import AlignMath
import Dispatch
import Foundation

// Benchmarks of the Dist kernels on a [4096, 32000] Float batch, plus the memory read
// bandwidth that bounds them. Prints one JSON line per case (joined with
// Benchmarks/peers_dist.py by Benchmarks/run.sh). The data is a pure function of the
// element index (splitmix64 of the index, four 16-bit uniforms summed: roughly normal
// logits with std 2), so peers_dist.py builds bit-identical arrays in numpy.

/// Logit `i` of the benchmark batch with stream `seed` (mirrored in peers_dist.py).
@inline(__always)
func benchLogit(_ i: UInt64, seed: UInt64) -> Float {
    var z = (i &+ (seed << 40)) &* 0x9E37_79B9_7F4A_7C15
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    z = z ^ (z >> 31)
    let v = (z & 0xffff) + ((z >> 16) & 0xffff) + ((z >> 32) & 0xffff) + (z >> 48)
    return Float((Double(v) / 65536.0 - 2.0) * 3.0)
}

/// A [rows, cols] Float tensor of benchmark logits, filled on all cores.
func benchBatch(rows: Int, cols: Int, seed: UInt64) -> Tensor {
    do {
        let t = try Tensor.zeros([rows, cols], dtype: .f32)
        try t.withMutableFloats { buf in
            guard let base = buf.baseAddress else { return }
            try ParallelFor.rowsNoThrow(rows, costPerRow: cols * 64) { range in
                for r in range {
                    for c in 0..<cols {
                        let i = r * cols + c
                        base[i] = benchLogit(UInt64(i), seed: seed)
                    }
                }
            }
        }
        return t
    } catch {
        fatalError("benchBatch: \(error)")
    }
}

/// CPU time (user + system) of the whole process so far, in ms.
func processCPUms() -> Double {
    var u = rusage()
    #if os(Linux)
    getrusage(__rusage_who_t(RUSAGE_SELF.rawValue), &u)
    #else
    getrusage(RUSAGE_SELF, &u)
    #endif
    let us = (Double(u.ru_utime.tv_sec) + Double(u.ru_stime.tv_sec)) * 1e6 + Double(u.ru_utime.tv_usec) + Double(u.ru_stime.tv_usec)
    return us / 1e3
}

/// Runs per case (DIST_BENCH_RUNS, default 5).
let benchRuns = ProcessInfo.processInfo.environment["DIST_BENCH_RUNS"].flatMap { Int($0) } ?? 5

/// Median wall-clock milliseconds of `runs` calls of `body` (after one warm-up call).
/// Also records the median CPU milliseconds per call (all threads) in `lastCPUms` and
/// the fastest wall time in `lastMinMs`: on a shared, loaded machine CPU time / cores
/// shows what the wall time would be with the cores free.
nonisolated(unsafe) var lastCPUms = 0.0, lastMinMs = 0.0  // the benchmark runs on one thread
func medianMs(runs: Int = benchRuns, _ body: () throws -> Void) -> Double {
    var times: [Double] = [], cpu: [Double] = []
    do {
        try body()
        for _ in 0..<runs {
            let c0 = processCPUms()
            let t0 = DispatchTime.now().uptimeNanoseconds
            try body()
            times.append(Double(DispatchTime.now().uptimeNanoseconds - t0) / 1e6)
            cpu.append(processCPUms() - c0)
        }
    } catch {
        fatalError("benchmark failed: \(error)")
    }
    times.sort(); cpu.sort()
    lastCPUms = cpu[cpu.count / 2]
    lastMinMs = times[0]
    return times[times.count / 2]
}

/// One JSON line of the benchmark output.
func report(_ name: String, _ ms: Double, extra: String = "") {
    let cpu = String(format: ",\"min_ms\":%.2f,\"cpu_ms\":%.2f", lastMinMs, lastCPUms)
    print("{\"area\":\"dist\",\"case\":\"\(name)\",\"ms\":\(String(format: "%.2f", ms))\(cpu)\(extra)}")
    fflush(nil)
}

/// Read bandwidth in bytes per ms: a sum over a 1 GB Float buffer with all workers.
func readBandwidth() -> Double {
    let n = (1 << 30) / 4
    guard let t = try? Tensor.full([n], 1, dtype: .f32) else { fatalError("bandwidth buffer") }
    let ms = medianMs {
        try t.withFloats { buf in
            guard let base = buf.baseAddress else { return }
            let chunks = 64, per = n / chunks
            let partial = UnsafeMutablePointer<Float>.allocate(capacity: chunks)
            defer { partial.deallocate() }
            try ParallelFor.rowsNoThrow(chunks, costPerRow: per) { range in
                for c in range {
                    var acc0 = SIMD8<Float>(), acc1 = SIMD8<Float>()
                    var i = c * per
                    let end = i + per
                    while i < end {
                        acc0 += UnsafeRawPointer(base + i).loadUnaligned(as: SIMD8<Float>.self)
                        acc1 += UnsafeRawPointer(base + i + 8).loadUnaligned(as: SIMD8<Float>.self)
                        i += 16
                    }
                    partial[c] = (acc0 + acc1).sum()
                }
            }
            var s: Float = 0
            for c in 0..<chunks { s += partial[c] }
            if s != Float(n) { print("{\"warning\":\"bandwidth sum \(s)\"}") }
        }
    }
    let gbps = Double(1 << 30) / ms / 1e6
    report("read_bandwidth_1GB", ms, extra: ",\"gb_per_s\":\(String(format: "%.1f", gbps))")
    return Double(1 << 30) / ms
}

/// The Dist benchmark cases (called by main.swift for `moonlab-bench dist`).
func distBenchmarks() {
    // DIST_BENCH_ROWS shrinks the batch for quick experiments; DIST_BENCH_CASES
    // (comma-separated prefixes) picks cases.
    let env = ProcessInfo.processInfo.environment
    let rows = env["DIST_BENCH_ROWS"].flatMap { Int($0) } ?? 4096, cols = 32000
    let picked = env["DIST_BENCH_CASES"]?.split(separator: ",").map(String.init)
    func wants(_ name: String) -> Bool { picked.map { $0.contains { name.hasPrefix($0) } } ?? true }
    let p = benchBatch(rows: rows, cols: cols, seed: 1)
    let q = benchBatch(rows: rows, cols: cols, seed: 2)
    let bytesPerMs = wants("read") ? readBandwidth() : 25e6
    let suffix = "\(rows)x\(cols)_f32"
    if wants("log_softmax") { report("log_softmax_\(suffix)", medianMs { _ = try Dist.logSoftmax(p) }) }
    if wants("softmax") { report("softmax_\(suffix)", medianMs { _ = try Dist.softmax(p) }) }
    if wants("logsumexp") { report("logsumexp_\(suffix)", medianMs { _ = try Dist.logsumexp(p) }) }
    if wants("entropy") { report("entropy_\(suffix)", medianMs { _ = try Dist.entropy(p) }) }
    if wants("kl") {
        let klMs = medianMs { _ = try Dist.kl(p, q) }
        let floor = Double(2 * rows * cols * 4) / bytesPerMs
        report("kl_\(suffix)", klMs, extra: ",\"read_floor_ms\":\(String(format: "%.2f", floor))")
    }
}
