import Hummingbird
import JournalProjections
import Prometheus
import Synchronization

/// The server's metrics in Prometheus' text format: requests by route and status, their latency,
/// events appended, and at each scrape the head of the log, every projection's lag, the timeline cache and
/// the reads being answered or waiting their turn.
final class ServerMetrics: Sendable {
    let registry = PrometheusCollectorRegistry()
    private let appended: Counter
    private let head: Gauge
    private let tamperedReads: Counter
    /// Totals kept elsewhere (the cache's hits, connections closed) as counted at the last scrape, by
    /// metric and label: the counters grow by the difference.
    private let counted = Mutex<[String: Int]>([:])

    init() {
        appended = registry.makeCounter(descriptor: Self.name("events_appended", "total", "Events appended through the API."))
        head = registry.makeGauge(descriptor: Self.name("log_head", "position", "Position of the newest event in the log."))
        tamperedReads = registry.makeCounter(descriptor: Self.name(
            "tampered_reads", "total", "Reads of a customer refused because one of its events no longer hashes to its stored hash."))
    }

    func recordTamperedRead() {
        tamperedReads.increment()
    }

    func recordAppended(_ count: Int) {
        appended.increment(by: Int64(count))
    }

    func recordRequest(method: String, route: String, status: Int, duration: Duration) {
        registry.makeCounter(
            descriptor: Self.name("http_requests", "total", "HTTP requests by route and status."),
            labels: [("method", method), ("route", route), ("status", String(status))]
        ).increment()
        registry.makeDurationHistogram(
            descriptor: Self.name("http_request_duration", "seconds", "HTTP request latency by route."),
            labels: [("method", method), ("route", route)],
            buckets: [.milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50),
                      .milliseconds(100), .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(5)]
        ).record(duration)
    }

    /// Brings a counter up to a total counted elsewhere.
    private func advance(_ descriptor: MetricNameDescriptor, reason: String? = nil, to total: Int) {
        let key = "\(descriptor.metricName) \(reason ?? "")"
        let difference = counted.withLock { counted in
            defer { counted[key] = total }
            return total - counted[key, default: 0]
        }
        let labels = reason.map { [("reason", $0)] } ?? []
        registry.makeCounter(descriptor: descriptor, labels: labels).increment(by: Int64(difference))
    }

    private static func name(_ metric: String, _ unit: String, _ help: String) -> MetricNameDescriptor {
        MetricNameDescriptor(namespace: "tpj", metricName: metric, unitName: unit, helpText: help)
    }

    /// The text exposition, with the log head and projection lag read now.
    func render(
        statuses: [ProjectionStatus], headPosition: Int64, timelineCache cache: TimelineCache, readAdmission: ReadAdmission?,
        connections: ConnectionRegistry.Counts
    ) -> String {
        head.set(Double(headPosition))
        if let readAdmission {
            let (running, waiting) = readAdmission.occupancy
            registry.makeGauge(descriptor: Self.name("reads_running", "requests", "Reads being answered (at most --read-concurrency).")).set(Double(running))
            registry.makeGauge(descriptor: Self.name("reads_waiting", "requests", "Reads waiting for their turn.")).set(Double(waiting))
        }
        let kept = cache.statistics
        registry.makeGauge(descriptor: Self.name("timeline_cache", "responses", "Whole timelines kept in memory.")).set(Double(kept.responses))
        registry.makeGauge(descriptor: Self.name("timeline_cache", "bytes", "Memory the kept timelines take.")).set(Double(kept.bytes))
        advance(Self.name("timeline_cache_hits", "total", "Whole-timeline reads answered from memory."), to: kept.hits)
        advance(Self.name("timeline_cache_misses", "total", "Whole-timeline reads that went to the database."), to: kept.misses)
        registry.makeGauge(descriptor: Self.name("connections_open", "connections", "Connections open (at most --max-connections).")).set(Double(connections.open))
        let closed = Self.name("connections_closed", "total", "Connections the server closed to protect itself, by reason.")
        advance(closed, reason: "evicted", to: connections.evicted)
        advance(closed, reason: "refused", to: connections.refused)
        advance(closed, reason: "header_timeout", to: connections.headerTimeouts)
        advance(closed, reason: "slow_reader", to: connections.slowReaders)
        for status in statuses {
            registry.makeGauge(descriptor: Self.name("projection_lag", "events", "Events of the log a projection has not folded yet."),
                               labels: [("projection", status.name)]).set(Double(status.lag))
            registry.makeGauge(descriptor: Self.name("projection_checkpoint", "position", "Position a projection has folded up to."),
                               labels: [("projection", status.name)]).set(Double(status.checkpoint))
        }
        return registry.emitToString()
    }
}

/// Counts and times every request under the route that matched (the path template, not the raw path).
struct MetricsMiddleware: RouterMiddleware {
    typealias Context = JournalRequestContext
    let metrics: ServerMetrics

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        func record(_ status: Int) {
            metrics.recordRequest(
                method: request.method.rawValue, route: context.endpointPath ?? "unmatched", status: status, duration: ContinuousClock.now - start)
        }
        do {
            let response = try await next(request, context)
            record(response.status.code)
            return response
        } catch let error as any HTTPResponseError {
            record(error.status.code)
            throw error
        } catch {
            record(500)
            throw error
        }
    }
}
