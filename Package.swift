// swift-tools-version: 6.0
import PackageDescription

let package = Package(
    name: "pipeline-agent",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "pipeline-agent", targets: ["PipelineAgent"])
    ],
    dependencies: [
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CGit2",
            path: "Sources/CGit2",
            pkgConfig: "libgit2",
            providers: [.apt(["libgit2-dev"])]
        ),
        .systemLibrary(
            name: "CCurl",
            path: "Sources/CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        .systemLibrary(
            name: "CLibPQ",
            path: "Sources/CLibPQ",
            pkgConfig: "libpq",
            providers: [.apt(["libpq-dev"])]
        ),
        .target(
            name: "SpecModel",
            dependencies: [.product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "GitSource",
            dependencies: ["CGit2", .product(name: "Logging", package: "swift-log")]
        ),
        .target(
            name: "Reconciler",
            dependencies: [
                "SpecModel", "GitSource", "CCurl", "CLibPQ",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .executableTarget(
            name: "audit-bench",
            dependencies: ["Reconciler"],
            path: "Benchmarks/AuditBench"
        ),
        .executableTarget(
            name: "fetch-bench",
            dependencies: ["GitSource"],
            path: "Benchmarks/FetchBench"
        ),
        .executableTarget(
            name: "PipelineAgent",
            dependencies: [
                "SpecModel", "GitSource", "Reconciler",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .target(name: "TestSupport", path: "Tests/TestSupport", exclude: ["git_http_server.py"]),
        .testTarget(name: "SpecModelTests", dependencies: ["SpecModel", "TestSupport"], resources: [.copy("Fixtures")]),
        .testTarget(name: "GitSourceTests", dependencies: ["GitSource", "TestSupport"]),
        .testTarget(
            name: "ReconcilerTests", dependencies: ["Reconciler", "GitSource", "SpecModel", "TestSupport", "audit-bench"],
            exclude: ["PlanFixtures"]),
        .testTarget(name: "PipelineAgentTests", dependencies: ["PipelineAgent", "SpecModel", "TestSupport"]),
    ],
    swiftLanguageModes: [.v6]
)
