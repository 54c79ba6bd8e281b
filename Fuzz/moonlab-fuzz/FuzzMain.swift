import Foundation
import LuaKit
import Workbench

// Two builds of one program (see Scripts/fuzz.sh):
// - with -DFUZZING, linked with libFuzzer (and AddressSanitizer): libFuzzer's main calls
//   LLVMFuzzerTestOneInput; MOONLAB_FUZZ_TARGET names the harness.
// - without, a plain executable: `moonlab-fuzz TARGET FILE...` runs inputs once (to replay
//   a crash or a corpus), `moonlab-fuzz TARGET --mutate SECONDS CORPUS_DIR` runs a simple
//   mutation loop over a corpus with no instrumentation (what CI runs each time).

// Set on the first input and read from then on, by one thread only: libFuzzer calls
// LLVMFuzzerTestOneInput from its driver thread (parallel runs are separate processes),
// and the plain build runs every input on the main thread.
nonisolated(unsafe) private var scratch: Scratch?
nonisolated(unsafe) private var harness: Harness?

private func setUp(_ name: String?) -> Harness {
    if let h = harness { return h }
    guard let name, let h = Harness(rawValue: name) else {
        FileHandle.standardError.write(Data("moonlab-fuzz: name a target: \(Harness.allCases.map(\.rawValue).joined(separator: ", "))\n".utf8))
        exit(2)
    }
    harness = h
    scratch = Scratch()
    // globals are never deinitialised: without this every run left /tmp/moonlab-fuzz-PID behind
    // (a crash still leaves it, with the input that crashed)
    atexit { scratch = nil }
    return h
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    let h = setUp(ProcessInfo.processInfo.environment["MOONLAB_FUZZ_TARGET"])
    let bytes = data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? []
    if let s = scratch { h.run(bytes, in: s) }
    return 0
}

#if FUZZING
// SwiftPM links an executable target's entry point as `main`; under libFuzzer that entry
// hands control to libFuzzer's driver (its own `main` is then not linked in).
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(_ argc: UnsafeMutablePointer<Int32>,
                         _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
                         _ callback: @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32) -> Int32

@_cdecl("moonlab_fuzz_main")
func fuzzEntry(_ argc: Int32, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?) -> Int32 {
    var count = argc
    var vector = argv
    return LLVMFuzzerRunDriver(&count, &vector) { data, size in fuzzOne(data, size) }
}
#else
@main
struct FuzzMain {
    static func main() {
        let args = Array(CommandLine.arguments.dropFirst())
        let h = setUp(args.first)
        guard let s = scratch else { exit(2) }
        if args.count >= 4, args[1] == "--mutate", let seconds = Double(args[2]) {
            Mutator(harness: h, scratch: s, corpus: args[3], seconds: seconds).run()
            return
        }
        for path in args.dropFirst() {
            guard let data = FileManager.default.contents(atPath: path) else { continue }
            h.run(Array(data), in: s)
        }
    }
}
#endif
