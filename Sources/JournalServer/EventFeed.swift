import Foundation
import Hummingbird
import Journal
import JournalStore
import Logging
import ServiceLifecycle

/// The events feed for downstream consumers: pages by position, and a live server-sent-events stream.
///
/// Positions are dense and become visible in commit order, so reading "after the last position seen"
/// never skips or repeats an event. The stream resumes from `Last-Event-ID` (or `?after=`), sends each
/// event with its position as the id, and waits for appends without polling.
extension JournalServer {
    func addFeedRoutes(to router: Router<JournalRequestContext>) {
        router.get("/v1/events") { request, context in
            try context.require(.analyst)
            let query = Query(request)
            let after = try query.integer("after", in: 0...Int64.max) ?? 0
            let limit = Int(try query.integer("limit", in: 1...1_000) ?? 100)
            let store = store
            let (events, head) = try await offload { (try store.events(after: after, limit: limit), try store.head()) }
            let next = events.last?.position ?? after
            return JSONResponse.make([
                "events": .array(events.map(\.json)), "next": .number(JSONNumber(next)), "head": .number(JSONNumber(head)),
            ])
        }
        router.get("/v1/events/stream") { request, context in
            try context.require(.analyst)
            let query = Query(request)
            var after = try query.integer("after", in: 0...Int64.max) ?? 0
            if let lastEventId = request.headers.first(where: { $0.name.canonicalName == "last-event-id" })?.value {
                guard let position = Int64(lastEventId.trimmingCharacters(in: .whitespaces)), position >= 0 else {
                    throw APIError.badRequest("Last-Event-ID must be the position of the last event received (got \"\(lastEventId)\")")
                }
                after = position
            }
            let start = after
            let store = store, progress = progress, logger = context.logger
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    // A stream ends when the client goes (the next write fails; a keep-alive comment is written
                    // every 10 s of silence) or when the server shuts down gracefully (waits end at once).
                    var last = start
                    defer { logger.debug("event stream ended", metadata: ["after": "\(last)"]) }
                    try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
                    try await withGracefulShutdownHandler {
                        while !Task.isCancelled, !progress.isClosed {
                            let from = last
                            let events = try await offload { try store.events(after: from, limit: 500) }
                            if events.isEmpty {
                                if await !progress.wait(for: from + 1, timeout: 10), !progress.isClosed {
                                    try await writer.write(ByteBuffer(string: ": keep-alive\n\n"))
                                }
                                continue
                            }
                            var buffer = ByteBuffer()
                            for event in events {
                                buffer.writeString("id: \(event.position)\ndata: \(CanonicalJSON.string(event.json))\n\n")
                            }
                            try await writer.write(buffer)
                            last = events.last!.position
                        }
                    } onGracefulShutdown: {
                        progress.close()
                    }
                    try await writer.finish(nil)
                })
        }
    }
}
