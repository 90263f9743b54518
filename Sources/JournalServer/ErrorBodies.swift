import Hummingbird
import Journal
import Logging

/// Gives every failure the API's one error body: journal errors get their status and code
/// (``APIError/from(_:)``), the router's own errors (an unknown route: 404) keep their status, and
/// anything unexpected is logged and answered 500 `internal`.
struct ErrorBodies: RouterMiddleware {
    typealias Context = JournalRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        do {
            return try await next(request, context)
        } catch {
            throw Self.apiError(for: error, request: request, context: context)
        }
    }

    /// The API's answer to a failure (logging the unexpected ones).
    static func apiError(for error: any Error, request: Request, context: Context) -> APIError {
        switch error {
        case let error as APIError:
            return error
        case let error as JournalError:
            if case .storage = error { context.logger.error("storage error", metadata: ["error": "\(error)"]) }
            return APIError.from(error)
        case let error as HTTPError:
            let code = switch error.status {
            case .notFound: "not_found"
            case .methodNotAllowed: "method_not_allowed"
            case .contentTooLarge: "payload_too_large"
            case .unauthorized: "unauthorized"
            case .forbidden: "forbidden"
            default: error.status.code >= 500 ? "internal" : "bad_request"
            }
            let message = error.status == .notFound ? "no route \(request.method.rawValue) \(request.uri.path); the API is under /v1 (see Schemas/openapi.yaml)"
                : (error.body ?? error.status.reasonPhrase)
            return APIError(error.status, code, message)
        default:
            context.logger.error("unexpected error", metadata: ["error": "\(error)"])
            return APIError(.internalServerError, "internal", "an unexpected error occurred; see the server log")
        }
    }
}
