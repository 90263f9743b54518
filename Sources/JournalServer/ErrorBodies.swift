import Hummingbird
import Journal
import Logging
import NIOHTTP1
import Synchronization

/// Gives every failure the API's one error body: journal errors get their status and code
/// (``APIError/from(_:)``), the router's own errors (an unknown route: 404) keep their status, and
/// anything unexpected is logged and answered 500 `internal`.
struct ErrorBodies: RouterMiddleware {
    typealias Context = JournalRequestContext
    /// The methods of the routes, so that a known path asked with another method gets 405.
    let routes: RouteMethods

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            throw apiError(for: error, request: request, context: context)
        }
    }

    /// The API's answer to a failure (logging the unexpected ones).
    func apiError(for error: any Error, request: Request, context: Context) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as JournalError:
            if case .storage = error { context.logger.error("storage error", metadata: ["error": "\(error)"]) }
            return APIError.from(error)
        case let error as HTTPParserError:
            // The request's framing is broken (e.g. a chunk size that is not hexadecimal): the client's fault.
            return APIError(.badRequest, "bad_request", "the request is not valid HTTP/1.1: \(error)")
        case let error as HTTPError where error.status == .notFound:
            let allowed = routes.methods(for: request.uri.path)
            guard !allowed.isEmpty else {
                return APIError(.notFound, "not_found", "no route \(request.method.rawValue) \(request.uri.path); the API is under /v1 (see Schemas/openapi.yaml)")
            }
            var answer = APIError(.methodNotAllowed, "method_not_allowed",
                                  "\(request.uri.path) answers \(allowed.joined(separator: ", ")), not \(request.method.rawValue)")
            answer.headers[.allow] = allowed.joined(separator: ", ")
            return answer
        case let error as HTTPError:
            let code = switch error.status {
            case .notFound: "not_found"
            case .methodNotAllowed: "method_not_allowed"
            case .contentTooLarge: "payload_too_large"
            case .unauthorized: "unauthorized"
            case .forbidden: "forbidden"
            default: error.status.code >= 500 ? "internal" : "bad_request"
            }
            return APIError(error.status, code, error.body ?? error.status.reasonPhrase)
        default:
            context.logger.error("unexpected error", metadata: ["error": "\(error)"])
            return APIError(.internalServerError, "internal", "an unexpected error occurred; see the server log")
        }
    }
}

/// The methods each route answers (HEAD wherever GET), filled in once every route is added.
final class RouteMethods: Sendable {
    private let routes = Mutex<[(path: RouterPath, methods: [String])]>([])

    func record(_ descriptions: [Router<JournalRequestContext>.RouteDescription]) {
        var byPath: [String: (path: RouterPath, methods: Set<String>)] = [:]
        for route in descriptions {
            byPath[route.path.description, default: (route.path, [])].methods.insert(route.method.rawValue)
            if route.method == .get { byPath[route.path.description]!.methods.insert("HEAD") }
        }
        routes.withLock { $0 = byPath.values.map { ($0.path, $0.methods.sorted()) } }
    }

    /// The methods of the routes whose path template matches `path`; empty for an unknown path.
    func methods(for path: String) -> [String] {
        let parts = path.split(separator: "/", omittingEmptySubsequences: false).dropFirst()
        let matching = routes.withLock { routes in
            routes.filter { route in
                route.path.components.count == parts.count && zip(route.path.components, parts).allSatisfy { $0 ~= $1 }
            }
        }
        return Set(matching.flatMap(\.methods)).sorted()
    }
}
