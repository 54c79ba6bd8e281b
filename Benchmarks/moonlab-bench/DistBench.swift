import AlignMath

/// Benchmarks of the Dist kernels; prints one JSON line per case (see Benchmarks/run.sh).
func distBenchmarks() {}
