import ArgumentParser
import Foundation
import Hummingbird
import Journal
import JournalNode
import JournalPostgres
import JournalProjections
import JournalServer
import JournalStore
import JournalWorld
import Logging

extension JournalCommand {
    struct Serve: AsyncParsableCommand {
        static let configuration = CommandConfiguration(
            abstract: "Serve the web pages, the JSON API and the events feed over HTTP, following the projections live.",
            discussion: """
                The pages (find a customer, the journey, customers at risk) are at / and sign in with a staff or \
                admin token, which starts a session kept in an HttpOnly cookie. Every API route but /healthz needs \
                a bearer token (`tpj token create`). The projections are brought up to date before the server answers, then \
                followed as appends arrive from any process. SIGINT or SIGTERM stops the server gracefully. \
                LOG_LEVEL (trace … critical) sets the log level. The limits below keep appends and health \
                checks answering under abusive clients (README: Security).

                --db postgres://user@host/database serves as a node of a log shared in PostgreSQL: it copies the \
                log into --local-copy (a journal file of its own, continued at the next start), follows it live, \
                and serves that copy; appends and erasures go to the shared log, tokens and sessions are the \
                database's. Start as many nodes on one database as needed (README: PostgreSQL).

                --demo generates a fresh demo world (200 customers over the three years up to today) into a \
                temporary directory, creates an admin and a staff token, prints them, and removes the directory on exit.
                """)

        @Option(name: .long, help: "Address to listen on.")
        var host = "127.0.0.1"

        @Option(name: .long, help: "Port to listen on (0: any free port).")
        var port = 8080

        @Option(name: .long, help: "Memory for whole timelines kept between reads, in MiB (0: read each from the journal).")
        var timelineCacheMib = 1_024

        @Option(name: .long, help: "The most reads answered at once; the others wait their turn (0: no limit; default: twice the cores). Reads run at a lower priority than appends either way.")
        var readConcurrency = 2 * ProcessInfo.processInfo.activeProcessorCount

        @Flag(name: .long, help: "Serve a freshly generated demo world with an admin and a staff token.")
        var demo = false

        @Option(name: .long, help: "When the pages' session cookie is marked Secure: auto (when a TLS proxy sends X-Forwarded-Proto: https), always or never.")
        var secureCookies = SecureCookies.auto

        @OptionGroup(title: "Limits") var limits: ServeLimitsOptions

        @OptionGroup var weightsOptions: WeightsOptions
        @OptionGroup var rules: RulesOptions
        @OptionGroup var maskingOptions: MaskingOptions

        @Option(name: .long, help: "Minutes between signed tree heads (signed only when the log grew; one more at shutdown).")
        var sealEvery = 10.0

        @Option(name: .long, help: "A retention policy file to apply every night at 01:00 UTC (see `tpj retention apply`).")
        var retention: String?
        @OptionGroup var declared: DeclaredOptions
        @OptionGroup var database: DatabaseOptions

        @Option(name: .long, help: "With --db postgres://…: where this node keeps its copy of the shared log, which it reads and folds its projections from (made when missing).")
        var localCopy = "node.sqlite"

        @Option(name: .long, help: "With --db postgres://…: this node's name, one per node, as the signed tree heads it signs and its leases name it (default: host name and process id).")
        var nodeName = "\(ProcessInfo.processInfo.hostName)-\(ProcessInfo.processInfo.processIdentifier)"

        @Option(name: .long, help: "With --db postgres://…: seconds a node's lease on work done for all nodes (signing tree heads) lasts unless renewed; another node takes it over after.")
        var leaseSeconds = 30.0

        func validate() throws {
            guard (0...65_535).contains(port) else { throw ValidationError("--port must be 0 to 65535 (got \(port))") }
            guard sealEvery.isFinite, (0.05...10_080).contains(sealEvery) else {
                throw ValidationError("--seal-every must be 0.05 to 10080 minutes (got \(sealEvery))")
            }
            guard (0...1 << 20).contains(timelineCacheMib) else {
                throw ValidationError("--timeline-cache-mib must be 0 to 1048576 (got \(timelineCacheMib))")
            }
            guard (0...10_000).contains(readConcurrency) else {
                throw ValidationError("--read-concurrency must be 0 to 10000 (got \(readConcurrency))")
            }
            if demo, database.db != nil { throw ValidationError("--demo writes its own journal; leave out --db") }
            guard leaseSeconds.isFinite, (1...3_600).contains(leaseSeconds) else { throw ValidationError("--lease-seconds must be 1 to 3600 (got \(leaseSeconds))") }
            guard !nodeName.trimmingCharacters(in: .whitespaces).isEmpty, nodeName.count <= 200 else {
                throw ValidationError("--node-name must have 1 to 200 characters")
            }
        }

        func run() async throws {
            try await runReportingErrors(json: false) {
                var path = database.path
                var demoDirectory: URL?
                if demo {
                    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("tpj-demo-\(ProcessInfo.processInfo.processIdentifier)")
                    try? FileManager.default.removeItem(at: directory)
                    do {
                        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
                    } catch {
                        throw CLIError(code: 74, message: "cannot create \(directory.path) for the demo world: \(error.localizedDescription)")
                    }
                    demoDirectory = directory
                    path = directory.appendingPathComponent("journal.sqlite").path
                }
                defer { if let demoDirectory { try? FileManager.default.removeItem(at: demoDirectory) } }
                try await serve(path: path)
            }
        }

        /// The demo world runs for the three years up to about today, so that its answers as of now
        /// (churn, segments) read like those of a live journal.
        static func demoStart(now: Date = Date()) -> String {
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = TimeZone(identifier: "UTC")!
            let start = calendar.date(byAdding: DateComponents(year: -3, day: -2), to: now)!
            let day = calendar.dateComponents([.year, .month, .day], from: start)
            return String(format: "%04d-%02d-%02d", day.year!, day.month!, day.day!)
        }

        private func serve(path: String) async throws {
            var logger = Logger(label: "tpj")
            logger.logLevel = ProcessInfo.processInfo.environment["LOG_LEVEL"].flatMap(Logger.Level.init(rawValue:)) ?? .info
            let registry = try database.registry()
            if DatabaseOptions.isPostgres(path) { return try await serveShared(url: path, registry: registry, logger: logger) }
            if demo {
                let writer = try JournalDatabase.open(path: path, create: true)
                let summary = try WorldGenerator.write(WorldConfiguration(customers: 200, years: 3, seed: 1, start: Self.demoStart())) { clock in
                    try EventStore(writer: writer, registry: registry, clock: clock)
                }
                Output.line("Generated a demo world: \(Output.count(summary.events, "event")) of \(Output.count(summary.customers, "customer")) in \(path)")
            }
            let store = try EventStore(writer: JournalDatabase.open(path: path, create: false), registry: registry)
            if let missing = store.keys.missingFile {
                logger.warning("the key file is missing: personal values read [erased], and nothing can be appended, erased or signed until it is restored", metadata: ["file": "\(missing)"])
            }
            let sealing = Sealing(
                periodic: { [sealEvery, logger] in
                    while !Task.isCancelled {
                        do { try await Task.sleep(for: .seconds(sealEvery * 60)) } catch { return }
                        Self.sealHead(store, logger: logger, when: "periodic")
                    }
                },
                final: { [logger] in Self.sealHead(store, logger: logger, when: "shutdown") })
            try await serve(store, journalPath: path, shared: nil, tokens: AccessTokens(store: store), accessLog: nil, sealing: sealing, logger: logger) { batch in
                _ = try store.append([batch])
            }
        }

        /// How the server signs tree heads: every --seal-every while it runs, and once more when it stops.
        struct Sealing: Sendable {
            let periodic: @Sendable () async -> Void
            let final: @Sendable () async -> Void
        }

        /// Serves as a node of the log shared in PostgreSQL at `url`: copies it into `--local-copy`
        /// first, then follows it while serving that copy.
        private func serveShared(url: String, registry: SchemaRegistry, logger: Logger) async throws {
            if retention != nil {
                throw CLIError(code: 64, message: "--retention is not applied on a log shared in PostgreSQL yet: apply it with `tpj retention apply` on a journal file")
            }
            try await PostgresJournal.withJournal(url: url) { journal in
                let node = try await SharedLogNode.open(shared: journal, copyAt: localCopy, name: nodeName, registry: registry, logger: logger)
                let held = try node.store.head()
                let bar = ProgressLine(label: "Copying the shared log")
                try await node.catchUp { done, head in bar.update(Double(done) / Double(max(head, 1)), Output.count(Int(done), "event")) }
                bar.finish()
                let copied = Output.count(Int(try node.store.head() - held), held > 0 ? "more event" : "event")
                let start = held > 0 ? "its copy \(localCopy) held \(Output.count(Int(held), "event")); copied \(copied)" : "copied \(copied) into its copy \(localCopy)"
                Output.line("Node \(nodeName) of \(PostgresJournal.redacted(url)): \(start); following the log from there.")
                // Heads are signed by one node for all, the one holding the lease.
                let lease = PostgresLease(journal: journal, name: "tree-heads", holder: nodeName, seconds: leaseSeconds)
                let sealing = Sealing(
                    periodic: { [sealEvery] in await node.signHeads(every: .seconds(sealEvery * 60), lease: lease) },
                    final: {
                        do {
                            try await node.signHeadIfDue(every: nil, lease: lease)
                            try await lease.release()
                        } catch {
                            logger.error("signing the last tree head failed", metadata: ["error": "\(error)"])
                        }
                    })
                // Each node rebuilds what held an erased subject's pseudonyms, whichever node erased it.
                let runner = ProjectionRunner.builtIn(store: node.store, declared: try declared.load(node.store))
                let rebuild: @Sendable ([RecordedEvent]) async -> Void = { erasures in
                    let names = Eraser.projectionsRebuilt(by: erasures).filter { name in runner.projections.contains { $0.name == name } }
                    guard !names.isEmpty else { return }
                    // A rebuild reads the whole log: on a thread of its own, not the server's.
                    await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
                        Thread.detachNewThread {
                            do {
                                try runner.rebuild(names)
                                logger.info("rebuilt after an erasure", metadata: ["projections": "\(names.joined(separator: ", "))"])
                            } catch {
                                logger.error("rebuilding after an erasure failed", metadata: ["projections": "\(names)", "error": "\(error)"])
                            }
                            done.resume()
                        }
                    }
                }
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { try await node.run(erasuresCopied: rebuild) }
                    group.addTask {
                        try await serve(
                            node.store, journalPath: localCopy, shared: node, tokens: node.tokens,
                            accessLog: PostgresAccessLog(journal: journal), sealing: sealing, logger: logger
                        ) { batch in
                            _ = try await node.append(batch)
                        }
                    }
                    // Whichever ends first ends the other: the server stopped, or the copy can no
                    // longer follow the shared log (a server on a copy that stopped would only time out).
                    defer { group.cancelAll() }
                    try await group.next()
                }
            }
        }

        /// Serves `store` (the journal file at `journalPath`, or a node's copy of a `shared` log) until
        /// stopped; `record` appends what the server records at start (the configuration in force).
        private func serve(
            _ store: EventStore, journalPath path: String, shared: (any SharedLog)?, tokens: any TokenStore, accessLog: (any AccessLogStore)?,
            sealing: Sealing, logger: Logger, record: (AppendBatch) async throws -> Void
        ) async throws {
            let (model, source) = try weightsOptions.model(journal: path, store: store, at: store.clock.now())
            // The configuration served with is in force from now on: recorded when it changed.
            let configuration = ConfigurationLog(store: store)
            if !source.hasPrefix("recorded at"), let change = try configuration.change(
                .churnWeights, content: try weightsOptions.fileContent(journal: path) ?? ConfigurationLog.bundled(.churnWeights),
                source: source, bundled: ConfigurationLog.bundled(.churnWeights))
            {
                try await record(change)
            }
            let rulesFile = try rules.fileContent()
            if let change = try configuration.change(
                .momentRules, content: rulesFile?.content ?? ConfigurationLog.bundled(.momentRules), source: rulesFile?.path ?? "bundled defaults",
                bundled: ConfigurationLog.bundled(.momentRules))
            {
                try await record(change)
            }
            var settings = ServerSettings(host: host, port: port)
            settings.timelineCacheBytes = timelineCacheMib << 20
            settings.readConcurrency = readConcurrency
            limits.apply(to: &settings)
            settings.secureCookies = secureCookies
            settings.masking = try maskingOptions.policy()
            let retentionPolicy = try retention.map { path throws(JournalError) in try RetentionPolicy(file: path) }
            let server = try JournalServer(
                store: store, rules: try rules.momentRules(), model: model, weightsSource: source, declared: try declared.load(store),
                settings: settings, shared: shared, tokens: tokens, accessLog: accessLog)
            let started = Date()
            // A rebuild at start (new code or rules) can take minutes on a large journal: a progress line
            // on a terminal, and each step in the log.
            let bar = ProgressLine(label: "Rebuilding the projections")
            try server.prepare { progress in
                if bar.update(progress) {
                    logger.info("rebuilding", metadata: ["projection": "\(progress.projection)", "step": "\(progress.step.rawValue)"])
                }
            }
            bar.finish()
            logger.info("projections up to date", metadata: ["seconds": "\(String(format: "%.1f", Date().timeIntervalSince(started)))"])
            if demo {
                for (role, name) in [(Role.admin, "demo admin"), (Role.staff, "demo staff")] {
                    let created = try await tokens.create(name: name, role: role)
                    Output.line("Token (\(role.rawValue)): \(created.secret)")
                }
            } else if try await tokens.list().allSatisfy({ $0.revoked != nil }) {
                Output.line("No active tokens: every route but /healthz will answer 401. Create one with `tpj token create --role admin --name NAME`.")
            }
            let nightly = try retentionPolicy.map { policy in
                let retention = JournalProjections.Retention(store: store, declared: try declared.load(store))
                let logger = logger
                return Task {
                    await retention.nightly(policy) { result in
                        switch result {
                        case .success(let outcomes):
                            logger.info("retention applied", metadata: [
                                "keysDestroyed": "\(outcomes.reduce(0) { $0 + $1.keysDestroyed })", "policySha256": "\(policy.sha256)"])
                        case .failure(let error):
                            logger.error("retention failed; retrying tomorrow", metadata: ["error": "\(error)"])
                        }
                    }
                }
            }
            defer { nightly?.cancel() }
            let periodic = sealing.periodic
            let signing = Task { await periodic() }
            defer { signing.cancel() }
            let host = host
            do {
                try await server.application(logger: logger) { port in
                    Output.line("Listening on http://\(host):\(port)")
                    Output.line("Pages at http://\(host):\(port)/ (sign in with a staff or admin token), API under /v1, health at /healthz. Stop with Ctrl-C.")
                }.runService()
            } catch {
                throw CLIError(code: 74, message: "cannot serve on \(host):\(port): \(error)")
            }
            // After a graceful stop: a head over everything appended while serving.
            signing.cancel()
            await sealing.final()
        }
    }
}

extension JournalCommand.Serve {
    /// Signs a tree head if the log grew since the last one, and logs it.
    static func sealHead(_ store: EventStore, logger: Logger, when: String) {
        do {
            if let head = try store.signTreeHeadIfGrown() {
                logger.info("tree head signed", metadata: [
                    "when": "\(when)", "treeSize": "\(head.treeSize)", "rootHash": "\(Hex.encode(head.rootHash))"])
            }
        } catch {
            logger.error("signing the tree head failed", metadata: ["error": "\(error)"])
        }
    }
}

extension SecureCookies: ExpressibleByArgument {}

/// The limits that keep `tpj serve` answering under abusive clients.
struct ServeLimitsOptions: ParsableArguments {
    @Option(name: .long, help: "The most connections open at once; at the cap the connection idle longest is closed to make room (default: 4096, or the open-file limit less 512 if lower).")
    var maxConnections = ConnectionLimits.defaultMaxConnections

    @Option(name: .long, help: "Seconds a client may take from the first byte of a request to the end of its headers.")
    var headerTimeout = 10.0

    @Option(name: .long, help: "Seconds a connection may stay open without a request.")
    var idleTimeout = 30.0

    @Option(name: .long, help: "Seconds a response may wait for a client that does not read it before the connection is closed.")
    var slowReaderTimeout = 30.0

    @Option(name: .long, help: "The most live event streams open at once (beyond: 503).")
    var maxStreams = 64

    @Option(name: .long, help: "The most live event streams one token may hold open (beyond: 429).")
    var maxStreamsPerToken = 4

    func validate() throws {
        guard (1...1_000_000).contains(maxConnections) else { throw ValidationError("--max-connections must be 1 to 1000000 (got \(maxConnections))") }
        for (name, seconds) in [("--header-timeout", headerTimeout), ("--idle-timeout", idleTimeout), ("--slow-reader-timeout", slowReaderTimeout)] {
            guard seconds.isFinite, (0.1...86_400).contains(seconds) else { throw ValidationError("\(name) must be 0.1 to 86400 seconds (got \(seconds))") }
        }
        guard (1...100_000).contains(maxStreams) else { throw ValidationError("--max-streams must be 1 to 100000 (got \(maxStreams))") }
        guard (1...maxStreams).contains(maxStreamsPerToken) else {
            throw ValidationError("--max-streams-per-token must be 1 to --max-streams (\(maxStreams)) (got \(maxStreamsPerToken))")
        }
    }

    func apply(to settings: inout ServerSettings) {
        settings.connections = ConnectionLimits(maxConnections: maxConnections)
        settings.connections.headerTimeout = headerTimeout
        settings.connections.idleTimeout = idleTimeout
        settings.connections.slowReaderTimeout = slowReaderTimeout
        settings.maxStreams = maxStreams
        settings.maxStreamsPerToken = maxStreamsPerToken
    }
}


/// A node appends to the shared log and destroys keys there for the server.
extension SharedLogNode: SharedLog {}
