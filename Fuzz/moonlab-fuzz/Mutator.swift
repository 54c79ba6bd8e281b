import Foundation

/// A small mutation fuzzer for builds without libFuzzer (CI): inputs made from the corpus by
/// flipping, inserting, deleting, repeating and splicing bytes and by planting values known
/// to break parsers (huge and negative numbers, NaN, deep nesting, long runs), run for a
/// fixed time. Each input is written to `last-input` before it runs, so a crash leaves it.
struct Mutator {
    let harness: Harness
    let scratch: Scratch
    let corpus: String
    let seconds: Double

    static let tokens: [String] = [
        "-1", "0", "4294967296", "9223372036854775807", "-9223372036854775808", "1e308", "-1e308", "1e999", "NaN",
        "nan", "inf", "\u{0}", "\"", "\\", "\\u0000", "\\ud800", "{", "}", "[", "]", String(repeating: "[", count: 300),
        String(repeating: "{\"a\":", count: 300), ",", ":", "\n", "\r\n", "\u{FEFF}", "'<f8'", "'<i8'", "'|b1'", "'>f8'",
        "(1000000000000, 1000000000000)", "(-1,)", "()", "\"shape\": [4294967296]", "\"data_offsets\": [0, 18446744073709551615]",
        "\"dtype\": \"F64\"", "PK\u{3}\u{4}", "\u{93}NUMPY", String(repeating: "x", count: 5000),
        "moonlab_session", "\"input\":", "return ", "end", "function", "while true do end", "for i=1,1e9 do end",
        "string.rep('x', 1e9)", "setmetatable", "collectgarbage()", "pcall(", "error(", "tensor.zeros{1e9}",
        "sample.top_k(", "math.maxinteger", "0/0", "1/0",
    ]

    func run() {
        let files = ((try? FileManager.default.contentsOfDirectory(atPath: corpus)) ?? []).sorted()
        let seeds = files.compactMap { FileManager.default.contents(atPath: corpus + "/" + $0).map(Array.init) }
        guard !seeds.isEmpty else { return }
        var rng = SplitMix(seed: 0x5eed)
        let last = scratch.dir + "/../moonlab-fuzz-last-input-\(harness.rawValue)"
        let deadline = Date().addingTimeInterval(seconds)
        var runs = 0
        for seed in seeds { harness.run(seed, in: scratch); runs += 1 }
        while Date() < deadline {
            var input = seeds[Int(rng.next() % UInt64(seeds.count))]
            for _ in 0...Int(rng.next() % 4) { mutate(&input, seeds, &rng) }
            _ = FileManager.default.createFile(atPath: last, contents: Data(input))
            harness.run(input, in: scratch)
            runs += 1
        }
        try? FileManager.default.removeItem(atPath: last)
        print("\(harness.rawValue): \(runs) inputs in \(Int(seconds)) s, no crash")
    }

    private func mutate(_ b: inout [UInt8], _ seeds: [[UInt8]], _ rng: inout SplitMix) {
        let n = b.count
        func at() -> Int { n == 0 ? 0 : Int(rng.next() % UInt64(n)) }
        switch rng.next() % 7 {
        case 0 where n > 0: b[at()] ^= UInt8(truncatingIfNeeded: 1 << (rng.next() % 8))
        case 1: b.insert(UInt8(truncatingIfNeeded: rng.next()), at: at())
        case 2 where n > 1:
            let i = at(), len = min(n - i, 1 + Int(rng.next() % 16))
            b.removeSubrange(i..<(i + len))
        case 3 where n > 1:
            let i = at(), len = min(n - i, 1 + Int(rng.next() % 32))
            let piece = Array(b[i..<(i + len)])
            b.insert(contentsOf: piece, at: at())
        case 4:
            let other = seeds[Int(rng.next() % UInt64(seeds.count))]
            guard !other.isEmpty else { return }
            let i = Int(rng.next() % UInt64(other.count))
            b = Array(b.prefix(at())) + Array(other[i...])
        default:
            let t = Mutator.tokens[Int(rng.next() % UInt64(Mutator.tokens.count))]
            b.insert(contentsOf: Array(t.utf8), at: at())
        }
        if b.count > 1 << 20 { b.removeLast(b.count - (1 << 20)) }
    }
}

/// SplitMix64: a small deterministic generator (the same inputs every CI run).
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
