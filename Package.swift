// swift-tools-version:6.0
import PackageDescription

// One direction of dependency, bottom to top (see Docs/design.md):
// CLua/CEditLine/CZlib/CPCRE2 -> LuaShim -> LuaKit -> AlignMath -> Workbench -> moonlab.
// AlignMath is Swift numerics and knows nothing of Lua; it links two C libraries of its
// own, OpenBLAS (matmul) and zlib (.npz). Workbench links PCRE2 (the `re` module).
// AlignMath's hot loops (Dist kernels, FastExp) are SIMD8<Float> fused multiply-add
// loops: on x86-64 they need AVX2 + FMA3, which swiftc turns on with `-target-cpu haswell`
// (it rejects `x86-64-v3`); the default target is SSE2 only, where each 8-lane op is two
// instructions and each `addingProduct` a libm `fmaf` call per lane. Measured on the
// 2-core EPYC (Zen 4) dev box, [4096, 32000] Float (BENCHMARKS.md, "Distributions"):
// haswell runs any x86-64 from 2013 on; `znver4` (AVX-512 with SIMD16 kernels) was 1.4x
// faster again on logsumexp/entropy but slower on KL, and the binary would not start on
// x86-64 CPUs without AVX-512, so it is not used (the f32 KL kernel in C has an AVX-512
// variant taken at run time when switched on: `am_kl_sums_f32_fast_avx512`). The manifest is compiled for the host,
// so the flag is added only when building on x86-64 (arm64 has FMA in its baseline).
#if arch(x86_64)
let alignMathCPUFlags = ["-target-cpu", "haswell"]
#else
let alignMathCPUFlags: [String] = []
#endif
// Fuzzing (Scripts/fuzz.sh): MOONLAB_FUZZ=1 builds moonlab-fuzz with libFuzzer and
// AddressSanitizer (LeakSanitizer included), and compiles moonlab's own targets with the
// fuzzer's coverage instrumentation; the dependencies are built as usual.
let fuzzing = Context.environment["MOONLAB_FUZZ"] == "1"
let fuzzSwiftFlags: [SwiftSetting] = fuzzing ? [.unsafeFlags(["-sanitize=fuzzer,address", "-DFUZZING"])] : []
let fuzzCFlags: [CSetting] = fuzzing ? [.unsafeFlags(["-fsanitize=fuzzer-no-link,address"])] : []
// Lua: Debian 12's Lua 5.4.4 (the upstream release with Debian's patches), built here with
// one addition, so that `t[i]` and `t[i] = x` on a 1-d tensor reach its elements without a
// metamethod call (Sources/CLua/README.md; the call alone was 2.4-2.9x a Lua table read,
// issue 13 asks for 2x). The C API and the values are the system lua5.4's; C modules load as
// there because the executable exports the API (`luaExportFlags`). MOONLAB_SYSTEM_LUA=1 links
// the system liblua5.4 instead (pkg-config lua5.4), without the element fast path.
let systemLua = Context.environment["MOONLAB_SYSTEM_LUA"] == "1"
let luaTarget: Target = systemLua
    ? .systemLibrary(name: "CLua", path: "Sources/CLuaSystem", pkgConfig: "lua5.4",
                     providers: [.apt(["liblua5.4-dev"])])
    : .target(name: "CLua", exclude: ["README.md", "exports.list"], cSettings: [
        .define("LUA_COMPAT_5_3"),  // as Lua's and Debian's makefiles build it
        .define("LUA_USE_LINUX", .when(platforms: [.linux])),
        .define("LUA_USE_MACOSX", .when(platforms: [.macOS])),
        // Optimised in debug builds too: the tests run Lua code, and an -O0 VM is 3-4x slower.
        .unsafeFlags(["-O2", "-w"]),
    ])
// `require` of a C module (cjson.so, lpeg.so) resolves lua_* against the executable, as
// against lua5.4; a statically linked Lua must therefore export its API.
let luaExportFlags: [LinkerSetting] = systemLua ? [] : [
    .unsafeFlags(["-Xlinker", "--dynamic-list=\(Context.packageDirectory)/Sources/CLua/exports.list"],
                 .when(platforms: [.linux])),
]
let package = Package(
    name: "moonlab",
    platforms: [.macOS(.v15)],  // Synchronization.Atomic (the interrupt probe) needs macOS 15
    // Only the executable is a product. AlignMath, LuaKit and Workbench were library
    // products too, but SwiftPM refuses a dependency whose targets use unsafeFlags, and
    // AlignMath's speed comes from one (`-target-cpu haswell`, above: without it the dist
    // kernels take ~48x the CPU time, logsumexp 3,120 ms against 64; Swift has no
    // per-function target attribute to replace it). Keeping the
    // speed, the libraries are not offered to other packages (BENCHMARKS.md, "Build flags").
    products: [
        .executable(name: "moonlab", targets: ["moonlab"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        // The model client's HTTP (moonlab's `model` module, `generate`, `synth`): SwiftNIO's
        // client, one event loop, created on first use so the prompt's start-up does not pay.
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        // InstructLab's qna.yaml (synth.taxonomy), with line numbers for schema errors.
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        // `moonlab serve` only (MoonlabServe): HTTP through SwiftNIO, metrics in Prometheus text.
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        // RewardServer runs the Hummingbird application in a ServiceGroup (Hummingbird's own
        // dependency, named here because MoonlabServe imports it).
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.14.0"),
        // `moonlab serve` answers scoring requests in a handler of its own in each connection's
        // NIO pipeline (MoonlabServe, LoopScoringHandler): the versions Hummingbird already uses.
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras", from: "1.34.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
    ],
    targets: [
        luaTarget,
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit",
                       providers: [.apt(["libedit-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        // tensor.matmul: Debian's OpenBLAS (the BLAS numpy ships too), dgemm/sgemm.
        .systemLibrary(name: "COpenBLAS", pkgConfig: "openblas",
                       providers: [.apt(["libopenblas-dev"])]),
        // re: Python's regular expressions on Debian's PCRE2 with its JIT.
        .systemLibrary(name: "CPCRE2", pkgConfig: "libpcre2-8",
                       providers: [.apt(["libpcre2-dev"])]),
        .target(name: "LuaShim", dependencies: ["CLua", "CEditLine"], cSettings: fuzzCFlags),
        .target(name: "LuaKit", dependencies: ["LuaShim"], swiftSettings: fuzzSwiftFlags),
        .target(name: "AlignMathC", cSettings: fuzzCFlags),
        .target(name: "AlignMath", dependencies: ["COpenBLAS", "CZlib", "AlignMathC"],
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release)),
                                .unsafeFlags(alignMathCPUFlags)] + fuzzSwiftFlags),
        // OpenAI-compatible HTTP client: requests, retries, honest `n`, recordings. No Lua.
        .target(name: "ModelClient", dependencies: [
            .product(name: "AsyncHTTPClient", package: "async-http-client"),
        ]),
        .target(name: "Workbench", dependencies: [
            "LuaKit", "AlignMath", "CZlib", "CPCRE2", "ModelClient",
            .product(name: "Yams", package: "Yams"),
        ], swiftSettings: fuzzSwiftFlags),
        // The HTTP server of `moonlab serve`, apart so that nothing else touches it.
        .target(name: "MoonlabServe", dependencies: [
            "Workbench",
            .product(name: "Hummingbird", package: "hummingbird"),
            .product(name: "HummingbirdCore", package: "hummingbird"),
            .product(name: "NIOCore", package: "swift-nio"),
            .product(name: "NIOPosix", package: "swift-nio"),
            .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
            .product(name: "HTTPTypes", package: "swift-http-types"),
            .product(name: "Prometheus", package: "swift-prometheus"),
            .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            .product(name: "Logging", package: "swift-log"),
        ]),
        .executableTarget(name: "moonlab", dependencies: [
            "Workbench", "AlignMath", "LuaShim", "ModelClient", "MoonlabServe",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ],
        // The Swift runtime and Foundation linked statically in release: the dynamic loader's
        // symbol lookups across libswiftCore, Foundation and ICU were most of start-up
        // (moonlab -e '' 12.4 ms -> 7.6 ms here; the binary grows to ~80 MB).
        swiftSettings: [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))],
        linkerSettings: [.unsafeFlags(["-static-stdlib"], .when(configuration: .release))] + luaExportFlags),
        // Benchmarks are run by hand in release (Benchmarks/run.sh), never timed in tests.
        .executableTarget(name: "moonlab-bench", dependencies: ["AlignMath"],
                          path: "Benchmarks/moonlab-bench",
                          swiftSettings: [.unsafeFlags(alignMathCPUFlags)]),
        // Harnesses over everything moonlab reads (Scripts/fuzz.sh); a plain replay and
        // mutation driver without MOONLAB_FUZZ=1.
        .executableTarget(name: "moonlab-fuzz", dependencies: ["Workbench", "LuaKit"],
                          path: "Fuzz/moonlab-fuzz", swiftSettings: fuzzSwiftFlags,
                          linkerSettings: fuzzing ? [.unsafeFlags(["-sanitize=fuzzer,address"])] : []),
        .target(name: "TestSupport", dependencies: ["Workbench"], path: "Tests/TestSupport",
                exclude: ["openai_stub.py"]),
        .testTarget(name: "LuaKitTests", dependencies: ["LuaKit"]),
        .testTarget(name: "AlignMathTests", dependencies: ["AlignMath", "AlignMathC", "COpenBLAS"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "WorkbenchTests", dependencies: ["Workbench", "TestSupport"],
                    exclude: ["Fixtures"], linkerSettings: luaExportFlags),
        .testTarget(name: "MoonlabTests", dependencies: ["TestSupport"]),
        .testTarget(name: "ModelClientTests", dependencies: ["ModelClient", "TestSupport"]),
    ],
    // Swift 6 for every target: data races are compile errors (issue 10 §8). Shared state goes
    // through Mutex/Atomic; any @unchecked Sendable says in a comment which lock makes it safe.
    swiftLanguageModes: [.v6]
)
