import Foundation
import Hummingbird
import HummingbirdCore
import Journal
import JournalStore
import Logging

/// One log line per request, after its answer: method, path, status, duration and the token that made it
/// (its name and id, never its secret). Query parameters that may carry secrets are redacted. It runs
/// after ``Authentication``, which names the token.
struct RequestLog: RouterMiddleware {
    typealias Context = JournalRequestContext
    /// How failures are answered (outside this middleware), so that the line has the status sent.
    let errors: ErrorBodies
    /// Query parameters whose values never reach the log.
    static let secretParameters: Set<String> = ["token", "access_token"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        func log(_ status: Int) {
            var metadata: Logger.Metadata = [
                "method": .string(request.method.rawValue), "target": .string(Self.target(request.uri)), "status": .stringConvertible(status),
                "ms": .string(Self.milliseconds(ContinuousClock.now - start)),
            ]
            if let token = context.token { metadata["token"] = .string("\(token.name) (\(token.id))") }
            context.logger.info("request", metadata: metadata)
        }
        do {
            let response = try await next(request, context)
            log(response.status.code)
            return response
        } catch {
            let answer = errors.apiError(for: error, request: request, context: context)
            log(answer.status.code)
            throw answer
        }
    }

    /// The longest target logged; longer ones are cut (with `…`).
    static let longestTarget = 512

    /// The path and query, with the values of ``secretParameters`` replaced by `REDACTED`, cut to ``longestTarget``.
    static func target(_ uri: URI) -> String {
        let target = redacted(uri)
        return target.utf8.count <= longestTarget ? target : String(target.prefix(longestTarget)) + "…"
    }

    private static func redacted(_ uri: URI) -> String {
        guard let query = uri.query, !query.isEmpty else { return uri.path }
        let redacted = query.split(separator: "&", omittingEmptySubsequences: false).map { pair -> Substring in
            let name = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)[0]
            let decoded = String(name).removingPercentEncoding?.lowercased() ?? String(name).lowercased()
            return secretParameters.contains(decoded) ? name + "=REDACTED" : pair
        }
        return uri.path + "?" + redacted.joined(separator: "&")
    }

    static func milliseconds(_ duration: Duration) -> String {
        let (seconds, attoseconds) = duration.components
        let value = Double(seconds) * 1_000 + Double(attoseconds) / 1e15
        return String(Int(value.rounded()))
    }
}
