import Foundation
import Hummingbird
import Journal
import JournalStore
import Logging
import ServiceLifecycle
import Synchronization

/// Records every read of a customer by a token (the customer routes of the API and the customer page)
/// in the journal's access log. Reads are kept in memory and written together every half second, and
/// at shutdown, so that a read never waits for the journal's write lock.
final class AccessLogBuffer: Sendable {
    private let store: EventStore
    private let pending = Mutex<[AccessRecord]>([])
    /// One flush at a time, so that reads are written in the order they were recorded.
    private let flushing = Mutex(())

    init(store: EventStore) {
        self.store = store
    }

    func record(_ record: AccessRecord) {
        pending.withLock { $0.append(record) }
    }

    /// Writes what is pending; on failure it is kept for the next try.
    func flush() throws {
        try flushing.withLock { _ in
            let records = pending.withLock { pending in
                defer { pending.removeAll() }
                return pending
            }
            do {
                try store.recordAccesses(records)
            } catch {
                pending.withLock { $0.insert(contentsOf: records, at: 0) }
                throw error
            }
        }
    }

    /// The reads recorded — written, then those still waiting to be — oldest first, without writing: a
    /// reader of the access log waits at most for a flush under way, never for the write lock itself.
    func records(customerId: String?, since: Timestamp?, limit: Int) throws -> [AccessRecord] {
        try flushing.withLock { _ in
            let written = try store.accesses(customerId: customerId, since: since, limit: limit)
            guard written.count < limit else { return written }
            let waiting = pending.withLock { $0 }.filter { record in
                (customerId == nil || record.customerId == customerId) && (since.map { record.at >= $0 } ?? true)
            }
            return written + waiting.prefix(limit - written.count)
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
                    try await offload { try buffer.flush() }
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
