// moonlab-bench: moonlab's kernels on the data that Benchmarks/peers.py times in numpy.
// Run through Benchmarks/run.sh (release build), which prints ratios; see BENCHMARKS.md.
import Foundation

let args = CommandLine.arguments.dropFirst()
let which = Set(args)
func wants(_ name: String) -> Bool { which.isEmpty || which.contains(name) }

if wants("dist") { distBenchmarks() }
if wants("rl") { rlBenchmarks() }
if wants("sample") { samplingBenchmarks() }
