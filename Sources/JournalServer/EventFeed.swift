import Foundation
import Hummingbird
import Journal
import JournalStore
import Logging
import NIOCore
import ServiceLifecycle
import Synchronization

/// The events feed for downstream consumers: pages by position, and a live server-sent-events stream.
///
/// Positions are dense and become visible in commit order, so reading "after the last position seen"
/// never skips or repeats an event. The stream resumes from `Last-Event-ID` (or `?after=`), sends each
/// event with its position as the id, and waits for appends without polling. Streams are limited per
/// token and in all (``StreamSlots``); a client that stops reading is disconnected (``ConnectionLimits``).
extension JournalServer {
    func addFeedRoutes(to router: Router<JournalRequestContext>) {
        router.get("/v1/events") { request, context in
            try context.require(.analyst)
            let query = Query(request)
            try query.allowOnly(["after", "limit", "customer", "type", "occurredAfter", "occurredBefore"])
            var filter = EventFilter()
            filter.afterPosition = try query.integer("after", in: 0...Int64.max) ?? 0
            let limit = Int(try query.integer("limit", in: 1...1_000) ?? 100)
            if let customer = query.string("customer") {
                if let problem = EventValidator.identifierProblem(customer) {
                    throw APIError(.badRequest, "bad_request", "customer: the id \(problem)", details: ["parameter": "customer", "rule": "identifier"])
                }
                filter.customerId = customer
            }
            filter.types = query.strings("type")
            let known = Set(store.validator.registry.types)
            if let unknown = filter.types.first(where: { !known.contains($0) }) {
                throw APIError(.badRequest, "bad_request", "type: no event type \(unknown) (see tpj types)",
                               details: ["parameter": "type", "rule": "enum"])
            }
            filter.occurredAfter = try query.time("occurredAfter")
            filter.occurredBefore = try query.time("occurredBefore")
            let store = store, selection = filter, unfiltered = filter == EventFilter(afterPosition: filter.afterPosition)
            let disclosure = context.disclosure(store, settings.masking)
            let (events, readThrough, head) = try await offload { () throws -> ([RecordedEvent], Int64, Int64) in
                let page = try store.events(matching: selection, limit: limit)
                return (page.events, page.readThrough, try store.head())
            }
            // Unfiltered, a page ends at its last event; filtered, at the position the read got to.
            let next = unfiltered ? (events.last?.position ?? filter.afterPosition) : readThrough
            return JSONResponse.make([
                "events": .array(events.map(disclosure.event).map(\.json)), "next": .number(JSONNumber(next)), "head": .number(JSONNumber(head)),
            ])
        }
        router.get("/v1/events/stream") { request, context in
            let token = try context.require(.analyst)
            let query = Query(request)
            var after = try query.integer("after", in: 0...Int64.max) ?? 0
            if let lastEventId = request.headers.first(where: { $0.name.canonicalName == "last-event-id" })?.value {
                guard let position = Int64(lastEventId.trimmingCharacters(in: .whitespaces)), position >= 0 else {
                    throw APIError.badRequest("Last-Event-ID must be the position of the last event received (got \"\(lastEventId)\")")
                }
                after = position
            }
            let start = after
            let slot = try streams.take(for: token.id)
            let store = store, progress = progress, logger = context.logger, tokens = tokens, admission = readAdmission
            let disclosure = context.disclosure(store, settings.masking)
            let heartbeat = settings.streamHeartbeat, closed = connections.gone(context.channel)
            return Response(
                status: .ok,
                headers: [.contentType: "text/event-stream", .cacheControl: "no-cache"],
                body: ResponseBody { writer in
                    // A stream ends when the client goes (its connection closes, or the next write fails; a
                    // keep-alive comment is written after each heartbeat of silence), when its token is revoked
                    // (asked before each page is written and at each heartbeat), or when the server shuts down
                    // gracefully (waits end at once). Each page is read as any read is: in its turn, below appends.
                    var last = start
                    defer { logger.debug("event stream ended", metadata: ["after": "\(last)", "token": "\(slot.tokenId)"]) }
                    try await writer.write(ByteBuffer(string: "retry: 1000\n\n"))
                    try await withGracefulShutdownHandler {
                        streaming: while !Task.isCancelled, !progress.isClosed {
                            let from = last
                            // Read and written out as a read: the page's JSON is made on the lower queue too.
                            let page = try await ReadPriority.held(by: admission) {
                                try await offload { () throws -> (last: Int64?, text: ByteBuffer) in
                                    let events = try store.events(after: from, limit: 500, disclosedBy: disclosure)
                                    var text = ByteBuffer()
                                    for event in events {
                                        text.writeString("id: \(event.position)\ndata: \(CanonicalJSON.string(event.json))\n\n")
                                    }
                                    return (events.last?.position, text)
                                }
                            }
                            guard let pageLast = page.last else {
                                switch await Self.nextEvent(after: from, progress: progress, timeout: heartbeat, unlessClosed: closed) {
                                case .appended: continue
                                case .connectionClosed: return
                                case .silence:
                                    guard try await tokens.isActive(id: token.id) else { break streaming }
                                    if !progress.isClosed { try await writer.write(ByteBuffer(string: ": keep-alive\n\n")) }
                                    continue
                                }
                            }
                            guard try await tokens.isActive(id: token.id) else { break }
                            try await writer.write(page.text)
                            last = pageLast
                        }
                    } onGracefulShutdown: {
                        progress.close()
                    }
                    try await writer.finish(nil)
                })
        }
    }

    enum StreamWait { case appended, silence, connectionClosed }

    /// Waits until an event after `position` is folded, `timeout` seconds pass, or the client goes: a
    /// stream gives its place back as soon as its connection closes, not at its next write.
    static func nextEvent(after position: Int64, progress: PositionProgress, timeout: Double, unlessClosed closed: EventLoopFuture<Void>) async -> StreamWait {
        await withTaskGroup(of: StreamWait.self) { group in
            group.addTask { await progress.wait(for: position + 1, timeout: timeout) ? .appended : .silence }
            group.addTask {
                await closed.waitUnlessCancelled()
                return Task.isCancelled ? .silence : .connectionClosed
            }
            let first = await group.next() ?? .silence
            group.cancelAll()
            return first
        }
    }
}

extension EventLoopFuture where Value == Void {
    /// Returns when the future completes (either way) or the task is cancelled.
    func waitUnlessCancelled() async {
        let continuation = Mutex<(waiting: CheckedContinuation<Void, Never>?, done: Bool)>((nil, false))
        @Sendable func resume() {
            continuation.withLock { state in
                state.done = true
                return state.waiting.take()
            }?.resume()
        }
        await withTaskCancellationHandler {
            await withCheckedContinuation { waiting in
                let done = continuation.withLock { state in
                    if !state.done { state.waiting = waiting }
                    return state.done
                }
                if done { waiting.resume() }
                whenComplete { _ in resume() }
            }
        } onCancel: {
            resume()
        }
    }
}
