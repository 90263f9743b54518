import Foundation
import Hummingbird
import Journal
import JournalStore
import Logging
import ServiceLifecycle
import Synchronization

/// Records every read of a customer by a token (the customer routes of the API and the customer page)
/// in the access log (``AccessLogStore``: the journal file's, or the shared one in PostgreSQL). Reads
/// are kept in memory and written together every half second, and at shutdown, so that a read never
/// waits for the access log's writes.
final class AccessLogBuffer: Sendable {
    private let store: any AccessLogStore
    private let pending = Mutex<[AccessRecord]>([])
    /// One flush at a time, so that reads are written in the order they were recorded.
    private let flushing = FlushTurn()

    init(store: any AccessLogStore) {
        self.store = store
    }

    func record(_ record: AccessRecord) {
        pending.withLock { $0.append(record) }
    }

    /// Writes what is pending; on failure it is kept for the next try.
    func flush() async throws {
        try await flushing.taking {
            let records = pending.withLock { pending in
                defer { pending.removeAll() }
                return pending
            }
            do {
                try await store.recordAccesses(records)
            } catch {
                pending.withLock { $0.insert(contentsOf: records, at: 0) }
                throw error
            }
        }
    }

    /// The reads recorded — written, then those still waiting to be — oldest first, without writing: a
    /// reader of the access log waits at most for a flush under way, never for the writes themselves.
    func records(customerId: String?, since: Timestamp?, limit: Int) async throws -> [AccessRecord] {
        try await flushing.taking {
            let written = try await store.accesses(customerId: customerId, since: since, limit: limit)
            guard written.count < limit else { return written }
            let waiting = pending.withLock { $0 }.filter { record in
                (customerId == nil || record.customerId == customerId) && (since.map { record.at >= $0 } ?? true)
            }
            return written + waiting.prefix(limit - written.count)
        }
    }

    /// Turns taken one at a time, across suspensions.
    private actor FlushTurn {
        private var busy = false
        private var waiting: [CheckedContinuation<Void, Never>] = []

        func taking<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
            if busy {
                await withCheckedContinuation { waiting.append($0) }
            } else {
                busy = true
            }
            defer {
                if waiting.isEmpty { busy = false } else { waiting.removeFirst().resume() }
            }
            return try await body()
        }
    }

    /// The customer a request reads: `/v1/customers/{id}/…` or the page `/customers/{id}`.
    static func customerId(of path: String) -> String? {
        let segments = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        let parts = Array(segments)
        if parts.count >= 4, parts[0] == "v1", parts[1] == "customers", !parts[2].isEmpty { return String(parts[2]).removingPercentEncoding }
        if parts.count == 2, parts[0] == "customers", !parts[1].isEmpty { return String(parts[1]).removingPercentEncoding }
        return nil
    }

    /// Flushes every half second until the server stops, then once more.
    struct Service: ServiceLifecycle.Service {
        let buffer: AccessLogBuffer
        let logger: Logger

        func run() async throws {
            let buffer = buffer, logger = logger
            @Sendable func flush() async {
                do {
                    try await buffer.flush()
                } catch {
                    logger.error("writing the access log failed; trying again", metadata: ["error": "\(error)"])
                }
            }
            await cancelWhenGracefulShutdown {
                while !Task.isCancelled {
                    do { try await Task.sleep(for: .milliseconds(500)) } catch { break }
                    await flush()
                }
            }
            await flush()
        }
    }
}

/// Puts each answered read of a customer by a token into the ``AccessLogBuffer``; requests refused for
/// their token (401, 403) read nothing and are not recorded. Runs after ``Authentication``.
struct AccessLogMiddleware: RouterMiddleware {
    typealias Context = JournalRequestContext
    let buffer: AccessLogBuffer
    let errors: ErrorBodies
    let clock: JournalClock

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard request.method == .get || request.method == .head, let token = context.token,
              let customerId = AccessLogBuffer.customerId(of: request.uri.path)
        else { return try await next(request, context) }
        func record(_ status: Int) {
            guard status != 401, status != 403 else { return }
            buffer.record(AccessRecord(
                at: clock.now(), tokenName: token.name, role: token.role.rawValue, customerId: customerId,
                method: request.method.rawValue, target: RequestLog.target(request.uri), status: status))
        }
        do {
            let response = try await next(request, context)
            record(response.status.code)
            return response
        } catch {
            record(errors.apiError(for: error, request: request, context: context).status.code)
            throw error
        }
    }
}

/// The journal file's access log, written and read off the server's threads: a write waits for the
/// journal's write lock.
struct JournalAccessLog: AccessLogStore {
    let store: EventStore

    func recordAccesses(_ records: [AccessRecord]) async throws(JournalError) {
        let store = store
        try await Self.offloaded { () throws(JournalError) in try store.recordAccesses(records) }
    }

    func accesses(customerId: String?, since: Timestamp?, limit: Int) async throws(JournalError) -> [AccessRecord] {
        let store = store
        return try await Self.offloaded { () throws(JournalError) in try store.accesses(customerId: customerId, since: since, limit: limit) }
    }

    private static func offloaded<T: Sendable>(_ work: @escaping @Sendable () throws(JournalError) -> T) async throws(JournalError) -> T {
        do {
            return try await offload(work)
        } catch let error as JournalError {
            throw error
        } catch {
            throw .storage("\(error)")
        }
    }
}
