import AlignMath

/// Benchmarks of the Sampling kernels; prints one JSON line per case (see Benchmarks/run.sh).
func samplingBenchmarks() {}
