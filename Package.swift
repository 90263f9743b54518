// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "touchpoint-journal",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "tpj", targets: ["JournalCLI"]),
        .executable(name: "tpj-bench", targets: ["JournalBench"]),
        .executable(name: "tpj-bench-projections", targets: ["JournalProjectionBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.0.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.34.1"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.0"),
    ],
    targets: [
        // Pure core: envelope, JSON, canonical bytes, hashing, schema validation. No I/O.
        .target(
            name: "Journal",
            dependencies: [.product(name: "Crypto", package: "swift-crypto")]
        ),
        // The event schemas under Schemas/, compiled into the binary.
        .target(name: "JournalSchemas", plugins: ["EmbedSchemasPlugin"]),
        .executableTarget(name: "SchemaEmbedder"),
        .plugin(
            name: "EmbedSchemasPlugin",
            capability: .buildTool(),
            dependencies: ["SchemaEmbedder"],
            path: "Sources/EmbedSchemasPlugin"
        ),
        // SQLite's process-wide options, set through its C interface.
        .target(name: "SQLiteSettings", linkerSettings: [.linkedLibrary("sqlite3")]),
        // SQLite event store on GRDB.
        .target(
            name: "JournalStore",
            dependencies: [
                "Journal", "JournalSchemas", "SQLiteSettings", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // The log, its tokens and its keys in PostgreSQL, under the same contracts as the SQLite journal.
        .target(
            name: "JournalPostgres",
            dependencies: [
                "Journal", .product(name: "PostgresNIO", package: "postgres-nio"), .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // Moment-of-truth, journey and churn maths. Pure: no I/O.
        .target(name: "JournalScoring", dependencies: ["Journal"]),
        // A server's part in a log shared in PostgreSQL: its copy of the log in a journal file, the shared keys in memory.
        .target(
            name: "JournalNode",
            dependencies: ["Journal", "JournalStore", "JournalPostgres", .product(name: "PostgresNIO", package: "postgres-nio")]
        ),
        // Projections: the runner, the built-in read models, the analyst views and declared SQL projections.
        .target(
            name: "JournalProjections",
            dependencies: [
                "Journal", "JournalStore", "JournalScoring", "JournalSchemas", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"), .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        // `tpj import`: CSV and NDJSON exports mapped to events by a declarative mapping.
        .target(
            name: "JournalImport",
            dependencies: ["Journal", "JournalStore", "JournalSchemas", .product(name: "Crypto", package: "swift-crypto")]
        ),
        // The generated demo world: customers, machines and service processes with a hidden satisfaction.
        .target(name: "JournalWorld", dependencies: ["Journal", "JournalStore"]),
        // Deterministic worlds and helpers shared by tests, the demo and the benchmark.
        .target(name: "JournalTesting", dependencies: ["Journal", "JournalStore"]),
        // `tpj serve`: the HTTP API, tokens and roles, the events feed, health and metrics, and the web pages.
        .target(
            name: "JournalServer",
            dependencies: [
                "Journal", "JournalStore", "JournalScoring", "JournalProjections",
                .product(name: "Hummingbird", package: "hummingbird"), .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        .executableTarget(
            name: "JournalCLI",
            dependencies: [
                "Journal", "JournalStore", "JournalScoring", "JournalProjections", "JournalWorld", "JournalServer", "JournalImport",
                "JournalPostgres", "JournalNode",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "JournalBench",
            dependencies: [
                "Journal", "JournalStore", "JournalTesting", "JournalWorld", "JournalImport", "JournalPostgres",
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .executableTarget(
            name: "JournalProjectionBench",
            dependencies: [
                "Journal", "JournalStore", "JournalScoring", "JournalProjections", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .testTarget(name: "JournalTests", dependencies: ["Journal", "JournalSchemas", "JournalTesting"]),
        .testTarget(
            name: "JournalStoreTests",
            dependencies: [
                "Journal", "JournalStore", "JournalTesting", .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ]
        ),
        .testTarget(name: "JournalScoringTests", dependencies: ["Journal", "JournalScoring", "JournalSchemas"]),
        .testTarget(
            name: "JournalProjectionsTests",
            dependencies: [
                "Journal", "JournalStore", "JournalProjections", "JournalScoring", "JournalTesting", .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "JournalImportTests",
            dependencies: [
                "Journal", "JournalStore", "JournalImport", "JournalProjections", "JournalScoring", "JournalTesting", "JournalWorld",
                .product(name: "GRDB", package: "GRDB.swift"),
            ],
            exclude: ["Fixtures"]
        ),
        .testTarget(name: "JournalWorldTests", dependencies: ["Journal", "JournalStore", "JournalWorld", "JournalTesting"]),
        .testTarget(
            name: "JournalServerTests",
            dependencies: [
                "Journal", "JournalStore", "JournalProjections", "JournalServer", "JournalTesting", "JournalWorld", "JournalPostgres",
                .product(name: "Hummingbird", package: "hummingbird"),
            ]
        ),
        // The log's contract, the same tests against SQLite and a throw-away PostgreSQL.
        .testTarget(
            name: "JournalConformanceTests",
            dependencies: [
                "Journal", "JournalStore", "JournalPostgres", "JournalTesting",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .testTarget(
            name: "JournalCLITests",
            dependencies: ["JournalCLI", "Journal", "JournalStore", "JournalTesting", "JournalWorld"],
            exclude: ["Fixtures"]
        ),
    ],
    swiftLanguageModes: [.v6]
)

for target in package.targets where target.type != .plugin {
    target.swiftSettings = (target.swiftSettings ?? []) + [
        .enableUpcomingFeature("ExistentialAny"),
        .enableUpcomingFeature("MemberImportVisibility"),
    ]
}
