import Foundation
import Hummingbird
import Journal
import JournalProjections
import JournalScoring
import JournalStore
import Logging
import ServiceLifecycle

/// Where and how the server listens.
public struct ServerSettings: Sendable {
    public var host = "127.0.0.1"
    public var port = 8080
    /// The largest append body accepted (413 above it).
    public var maxBodyBytes = 4 << 20
    /// How long `?waitFor=` waits for the projections before answering 503.
    public var waitForTimeout = 10.0
    /// The most memory whole-timeline responses may take (``TimelineCache``); 0 keeps none.
    public var timelineCacheBytes = 1 << 30
    /// The most reads answered at once (``ReadAdmission``); 0 sets no limit. Default: twice the cores.
    public var readConcurrency = 2 * ProcessInfo.processInfo.activeProcessorCount
    /// The most live event streams open at once, in all and for one token (beyond: 503 and 429).
    public var maxStreams = 64
    public var maxStreamsPerToken = 4
    /// Seconds between a stream's checks that its token is still valid (and its keep-alive comments in silence).
    public var streamHeartbeat = 5.0
    /// When the pages' session cookie is marked `Secure` (sent by browsers over HTTPS only).
    public var secureCookies = SecureCookies.auto
    /// The cap on open connections and the timeouts of slow or silent clients.
    public var connections = ConnectionLimits()
    /// How each role sees personal values (``MaskingPolicy/standard`` unless a policy file is given).
    public var masking = MaskingPolicy.standard
    /// Seconds between the background checks of the hash chain (``ChainWatch``), each from where the last ended.
    public var chainCheckInterval = 60.0

    public init(host: String = "127.0.0.1", port: Int = 8080) {
        self.host = host
        self.port = port
    }
}

/// When the session cookie carries `Secure`.
public enum SecureCookies: String, Sendable, CaseIterable {
    /// When the sign-in came through a TLS proxy that says so (`X-Forwarded-Proto: https`).
    case auto
    /// Always: the server is only reached over HTTPS.
    case always
    /// Never (plain HTTP on a trusted network).
    case never
}

/// `tpj serve`: the JSON API, the events feed, the web pages and the health and metrics endpoints over one journal,
/// with the built-in projections followed live in the same process.
///
/// ```swift
/// let server = try JournalServer(store: store)
/// try await server.application(logger: logger).runService()
/// ```
public struct JournalServer: Sendable {
    public let store: EventStore
    public let rules: MomentRules
    public let model: ChurnModel
    /// Where the churn weights came from, as shown in churn answers.
    public let weightsSource: String
    public var settings: ServerSettings
    /// Analysts' projections, folded with the built-in ones.
    let declared: [DeclaredProjection]
    /// The log appends go to when `store` is a copy of a shared one; nil: `store` itself.
    let shared: (any SharedLog)?
    let tokens: any TokenStore
    let progress = PositionProgress()
    /// Appends arriving together share one transaction and one fsync.
    let commits: GroupCommit
    let metrics = ServerMetrics()
    let pages: PageRenderer
    /// Whole-timeline responses of recently read customers.
    let timelineCache: TimelineCache
    /// Copies the log into the journal file in the background, so that no append waits for it.
    let checkpointer: WALCheckpointer
    /// Reads answered at once (nil: no limit).
    let readAdmission: ReadAdmission?
    /// The live event streams open.
    let streams: StreamSlots
    /// The open connections, against `settings.connections`.
    let connections: ConnectionRegistry
    /// The background check of the hash chain, reported by `/healthz`.
    let chainWatch: ChainWatch
    /// Reads of customers on their way to the access log.
    let accessLog: AccessLogBuffer
    /// The portfolio's churn ranking as of the start of the day, kept as the log is folded.
    let riskBoard = RiskBoard()

    /// A server over `store`; with `shared`, over a copy of a shared log, whose tokens are `tokens`
    /// and whose access log is `accessLog` (nil: those of `store`).
    public init(store: EventStore, rules: MomentRules = .bundled, model: ChurnModel = .bundled, weightsSource: String = "bundled defaults",
                declared: [DeclaredProjection] = [], settings: ServerSettings = ServerSettings(),
                shared: (any SharedLog)? = nil, tokens: (any TokenStore)? = nil, accessLog: (any AccessLogStore)? = nil) throws {
        self.store = store
        self.declared = declared
        self.shared = shared
        self.rules = rules
        self.model = model
        self.weightsSource = weightsSource
        self.settings = settings
        self.tokens = tokens ?? AccessTokens(store: store)
        self.commits = GroupCommit(store: store)
        self.pages = try PageRenderer()
        self.timelineCache = TimelineCache(limitBytes: settings.timelineCacheBytes)
        self.checkpointer = try WALCheckpointer(store: store)
        self.readAdmission = settings.readConcurrency > 0 ? ReadAdmission(limit: settings.readConcurrency) : nil
        self.streams = StreamSlots(limit: settings.maxStreams, perToken: settings.maxStreamsPerToken)
        self.connections = ConnectionRegistry(limit: settings.connections.maxConnections)
        self.chainWatch = ChainWatch(store: store)
        self.accessLog = AccessLogBuffer(store: accessLog ?? JournalAccessLog(store: store))
    }

    /// The built-in projections and the declared ones, telling the timeline cache what they fold.
    var runner: ProjectionRunner {
        var runner = ProjectionRunner.builtIn(store: store, rules: rules, declared: declared)
        runner.observer = timelineCache
        return runner
    }
    var insights: Insights { Insights(rules: rules, model: model) }

    /// Brings the projections to the head of the log (a rebuild when their version changed) before
    /// the server answers; `progress` is told how far a rebuild has come.
    public func prepare(progress report: ((FoldProgress) -> Void)? = nil) throws {
        let runner = runner
        if try runner.status().contains(where: \.needsRebuild) {
            try runner.rebuild(runner.status().filter(\.needsRebuild).map(\.name), progress: report)
        }
        try runner.dropReplacedGenerations()
        let reached = try runner.catchUp()
        if let least = reached.values.min() { progress.publish(least) }
    }

    /// The newest position of the log appends go to: the shared one's on a node.
    var logHead: @Sendable () async throws -> Int64 {
        let store = store, shared = shared
        return { if let shared { try await shared.head() } else { try await offload { try store.head() } } }
    }

    /// Records `batch` in the log: the journal file through the group committer, or the shared log.
    func record(_ batch: AppendBatch) async throws(JournalError) -> AppendResult {
        if let shared { return try await shared.append(batch) }
        return try await commits.append(batch)
    }

    /// The router with every route and middleware.
    public func router() -> Router<JournalRequestContext> {
        let router = Router(context: JournalRequestContext.self, options: .autoGenerateHeadEndpoints)
        let errors = ErrorBodies(routes: RouteMethods())
        router.add(middleware: MetricsMiddleware(metrics: metrics))
        router.add(middleware: errors)
        router.add(middleware: Authentication(tokens: tokens))
        router.add(middleware: RequestLog(errors: errors))
        router.add(middleware: AccessLogMiddleware(buffer: accessLog, errors: errors, clock: store.clock))
        let store = store
        router.add(middleware: ReadAdmissionMiddleware(
            admission: readAdmission, projections: ProjectionWait(progress: progress, head: logHead, timeout: settings.waitForTimeout)))
        let chainWatch = chainWatch, shared = shared
        router.get("/healthz") { _, _ in
            let store = store, progress = progress
            let held = try await offload { try store.head() }
            let intact = chainWatch.current.failure == nil
            var document: [JSONMember] = [
                JSONMember("status", intact ? "ok" : "tampered"), JSONMember("head", .number(JSONNumber(try await shared?.head() ?? held))),
                JSONMember("projected", .number(JSONNumber(progress.reached))), JSONMember("chain", chainWatch.document),
            ]
            // A node: how far its copy of the shared log has come.
            if shared != nil { document.append(JSONMember("copied", .number(JSONNumber(held)))) }
            return JSONResponse.make(.object(document), status: intact ? .ok : .serviceUnavailable)
        }
        router.get("/metrics") { _, context in
            try context.require(.admin)
            let runner = runner, store = store
            let (statuses, head) = try await offload { (try runner.status(), try store.head()) }
            return Response(
                status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                body: ResponseBody(byteBuffer: ByteBuffer(string: metrics.render(
                    statuses: statuses, headPosition: head, timelineCache: timelineCache, readAdmission: readAdmission,
                    connections: connections.counts))))
        }
        addAPIRoutes(to: router)
        addFeedRoutes(to: router)
        addPageRoutes(to: router)
        errors.routes.record(router.routes)
        return router
    }

    /// The application: the router on `settings.host:port`, with the appends' writer, the WAL
    /// checkpointer and the projection follower as services.
    public func application(logger: Logger, onServerRunning: @escaping @Sendable (Int) async -> Void = { _ in }) -> some ApplicationProtocol {
        let commits = commits, checkpointer = checkpointer
        // On a node, the shared log records appends.
        let writer: [any Service] = shared == nil ? [ThreadService(name: "append-writer", work: commits.run, stop: commits.close)] : []
        return Application(
            router: router(),
            server: GuardedHTTP1Channel.server(limits: settings.connections, registry: connections),
            configuration: ApplicationConfiguration(address: .hostname(settings.host, port: settings.port), serverName: "tpj"),
            services: writer + [
                ThreadService(name: "wal-checkpoint", work: { checkpointer.attach(); checkpointer.run(); checkpointer.detach() }, stop: checkpointer.close),
                ProjectionFollower(runner: runner, progress: progress, logger: logger),
                ChainWatch.Service(watch: chainWatch, interval: settings.chainCheckInterval, logger: logger),
                AccessLogBuffer.Service(buffer: accessLog, logger: logger),
                DailyRanking(server: self, logger: logger),
            ],
            onServerRunning: { channel in await onServerRunning(channel.localAddress?.port ?? 0) },
            logger: logger)
    }
}
