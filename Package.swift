// swift-tools-version:6.0
import PackageDescription

// One direction of dependency, bottom to top (see ../shared/docs/design.md):
// CLua/CEditLine/CZlib -> LuaShim -> LuaKit -> AlignMath -> Workbench -> moonlab.
// AlignMath is pure Swift and knows nothing of Lua.
let package = Package(
    name: "moonlab",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "moonlab", targets: ["moonlab"]),
        .library(name: "AlignMath", targets: ["AlignMath"]),
        .library(name: "LuaKit", targets: ["LuaKit"]),
        .library(name: "Workbench", targets: ["Workbench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
    ],
    targets: [
        .systemLibrary(name: "CLua", pkgConfig: "lua5.4",
                       providers: [.apt(["liblua5.4-dev"])]),
        .systemLibrary(name: "CEditLine", pkgConfig: "libedit",
                       providers: [.apt(["libedit-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib",
                       providers: [.apt(["zlib1g-dev"])]),
        .target(name: "LuaShim", dependencies: ["CLua", "CEditLine"]),
        .target(name: "LuaKit", dependencies: ["LuaShim"]),
        .target(name: "AlignMath",
                swiftSettings: [.unsafeFlags(["-Ounchecked"], .when(configuration: .release))]),
        .target(name: "Workbench", dependencies: ["LuaKit", "AlignMath", "CZlib"]),
        .executableTarget(name: "moonlab", dependencies: [
            "Workbench", "LuaShim",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),
        // Benchmarks are run by hand in release (Benchmarks/run.sh), never timed in tests.
        .executableTarget(name: "moonlab-bench", dependencies: ["AlignMath"],
                          path: "Benchmarks/moonlab-bench"),
        .target(name: "TestSupport", dependencies: ["Workbench"], path: "Tests/TestSupport"),
        .testTarget(name: "LuaKitTests", dependencies: ["LuaKit"]),
        .testTarget(name: "AlignMathTests", dependencies: ["AlignMath"],
                    exclude: ["Fixtures"]),
        .testTarget(name: "WorkbenchTests", dependencies: ["Workbench", "TestSupport"]),
        .testTarget(name: "MoonlabTests", dependencies: ["TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
