import Hummingbird
import Journal
import JournalStore

/// The one error body of the API: `{"error": {"status", "code", "message", "details"?}}`.
///
/// `code` is stable for scripts (`unauthorized`, `forbidden`, `not_found`, `bad_request`,
/// `invalid_event`, `conflict`, `event_id_reused`, `unknown_reference`, `payload_too_large`,
/// `not_caught_up`, `internal`); `message` says what happened and what to do; `details` names the
/// record, field and rule where there is one.
public struct APIError: Error, Sendable, HTTPResponseError {
    public var status: HTTPResponse.Status
    public var code: String
    public var message: String
    public var details: JSONValue?
    public var headers: HTTPFields = [:]

    public init(_ status: HTTPResponse.Status, _ code: String, _ message: String, details: JSONValue? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.details = details
    }

    public var document: JSONValue {
        var members = [
            JSONMember("status", .number(JSONNumber(Int64(status.code)))), JSONMember("code", .string(code)),
            JSONMember("message", .string(message)),
        ]
        if let details { members.append(JSONMember("details", details)) }
        return ["error": .object(members)]
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONResponse.make(document, status: status)
        response.headers.append(contentsOf: headers)
        if status == .unauthorized { response.headers[.wwwAuthenticate] = #"Bearer realm="tpj""# }
        return response
    }

    static func badRequest(_ message: String) -> APIError { APIError(.badRequest, "bad_request", message) }
    static func notFound(_ message: String) -> APIError { APIError(.notFound, "not_found", message) }
    static func unknownCustomer(_ customerId: String) -> APIError { notFound("no customer \(customerId): the journal holds no events of it") }

    /// The API's reading of a journal error.
    static func from(_ error: JournalError) -> APIError {
        switch error {
        case .invalidEvent(let invalid):
            var details: [JSONMember] = [
                JSONMember("index", .number(JSONNumber(Int64(invalid.index)))), JSONMember("path", .string(invalid.path)),
                JSONMember("rule", .string(invalid.rule)),
            ]
            if let eventId = invalid.eventId { details.append(JSONMember("eventId", .string(eventId))) }
            if !invalid.more.isEmpty {
                details.append(JSONMember("more", .array(invalid.more.map {
                    ["path": .string("/payload" + $0.path), "rule": .string($0.rule), "message": .string($0.message)]
                })))
            }
            return APIError(.unprocessableContent, "invalid_event", invalid.description, details: .object(details))
        case .malformedInput:
            return APIError(.badRequest, "bad_request", error.description)
        case .concurrencyConflict(let customerId, let expected, let actual):
            return APIError(.conflict, "conflict", error.description, details: [
                "customerId": .string(customerId), "expectedVersion": .string("\(expected)"),
                "streamVersion": .number(JSONNumber(Int64(actual))),
            ])
        case .eventIdReused(let index, let eventId, let position, let fields):
            return APIError(.conflict, "event_id_reused", error.description, details: [
                "index": .number(JSONNumber(Int64(index))), "eventId": .string(eventId.rawValue),
                "position": .number(JSONNumber(position)), "differingFields": .array(fields.map(JSONValue.string)),
            ])
        case .unknownReference(let index, let eventId, let field, let referenced, _):
            return APIError(.unprocessableContent, "unknown_reference", error.description, details: [
                "index": .number(JSONNumber(Int64(index))), "eventId": .string(eventId.rawValue),
                "path": .string("/payload/\(field)"), "referenced": .string(referenced.rawValue),
            ])
        case .invalidArgument(let message):
            return APIError(.badRequest, "bad_request", message)
        case .clockAhead:
            return APIError(.serviceUnavailable, "clock_ahead", error.description)
        case .tampered(let position, _):
            return APIError(.internalServerError, "tampered", "the journal was altered at position \(position): nothing of this customer is shown; run `tpj verify`", details: [
                "position": .number(JSONNumber(position)),
            ])
        case .journalNotFound, .storage:
            return APIError(.internalServerError, "internal", "the journal could not be read or written; see the server log")
        }
    }
}

/// JSON responses from the journal's own JSON values (canonical member order as built).
enum JSONResponse {
    static func make(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        make(bytes: CanonicalJSON.bytes(value), status: status)
    }

    /// A response of JSON bytes written already; a newline ends it.
    static func make(bytes: [UInt8], status: HTTPResponse.Status = .ok) -> Response {
        make(buffer: buffer(bytes: bytes), status: status)
    }

    /// The body of a response of JSON bytes: the bytes and a newline.
    static func buffer(bytes: [UInt8]) -> ByteBuffer {
        var buffer = ByteBuffer()
        buffer.reserveCapacity(bytes.count + 1)
        buffer.writeBytes(bytes)
        buffer.writeInteger(UInt8(ascii: "\n"))
        return buffer
    }

    /// A JSON body with its sealed personal values disclosed.
    static func disclosed(_ body: ByteBuffer, _ disclosure: Disclosure) -> ByteBuffer {
        buffer(bytes: disclosure.json(Array(body.readableBytesView)))
    }

    /// A response of a body from ``buffer(bytes:)``.
    static func make(buffer: ByteBuffer, status: HTTPResponse.Status = .ok) -> Response {
        Response(status: status, headers: [.contentType: "application/json; charset=utf-8"], body: ResponseBody(byteBuffer: buffer))
    }
}
