import AlignMath

/// Benchmarks of the RL kernels; prints one JSON line per case (see Benchmarks/run.sh).
func rlBenchmarks() {}
