import Foundation
import Hummingbird
import Journal
import JournalProjections
import JournalScoring
import JournalStore

/// The JSON API under `/v1`: append, the views of a customer, the portfolio views, history and verify.
/// Every read of a projection (search, timeline, moments, churn, segments) accepts `?waitFor=POSITION`
/// (read-your-writes: wait until the projections have folded the log up to that position), which
/// ``ReadAdmissionMiddleware`` honours before the read takes its turn.
extension JournalServer {
    func addAPIRoutes(to router: Router<JournalRequestContext>) {
        router.post("/v1/customers/:customerId/events") { request, context in
            try context.require(.ingest)
            return try await append(request, customerId: try context.customerId())
        }
        router.get("/v1/customers") { request, context in
            try context.require(.staff)
            let query = Query(request)
            guard let text = query.string("q")?.trimmingCharacters(in: .whitespaces), !text.isEmpty else {
                throw APIError.badRequest("q is required: a customer id or part of a name")
            }
            guard text.count <= CustomerDirectory.longestQuery else {
                throw APIError(.badRequest, "bad_request", "q has \(text.count) characters; at most \(CustomerDirectory.longestQuery)",
                               details: ["parameter": "q", "rule": "maxLength"])
            }
            let limit = Int(try query.integer("limit", in: 1...100) ?? 20)
            let offset = Int(try query.integer("offset", in: 0...1_000_000) ?? 0)
            let found = try await store.readProjections { try $0.search(text, limit: limit, offset: offset) }
            return JSONResponse.make([
                "query": .string(text), "total": .number(JSONNumber(Int64(found.total))), "offset": .number(JSONNumber(Int64(offset))),
                "customers": .array(found.matches.map(\.document)),
            ])
        }
        router.get("/v1/customers/:customerId/timeline") { request, context in
            // Auditors read what staff saw, at any date.
            try context.require(.staff, .auditor)
            let customerId = try context.customerId()
            let query = Query(request)
            let filter = TimelineFilter(
                from: try query.time("from"), to: try query.time("to"), kinds: Set(query.strings("kind")),
                assetId: query.string("asset"), caseId: query.string("case"))
            let knownAt = try query.time("knownAt")
            let disclosure = context.disclosure(store, settings.masking)
            try await requireCustomer(customerId)
            @Sendable func document(_ entries: [TimelineEntry]) -> [UInt8] {
                var body: [UInt8] = []
                body.reserveCapacity(1_024 + entries.count * 768)
                JSONObjectWriter.append(to: &body) { document in
                    document.string("customerId", customerId)
                    document.json("entries") { Documents.writeTimeline(entries, into: &$0) }
                    document.instant("knownAt", knownAt)
                }
                return body
            }
            if let knownAt {
                return JSONResponse.make(bytes: disclosure.json(document(try await timelineEntries(of: customerId, knownAt: knownAt, filter: filter))))
            }
            // The whole timeline is stored ready-made; a filtered one, or one whose document is being
            // rewritten (or waits for a rebuild's switch), is assembled from its rows. One read for the
            // rows and, only when there are none, whether the customer exists; the document is written
            // on the reading thread too.
            let whole = filter == TimelineFilter()
            // Kept and stored sealed; disclosed per reader, so an erasure needs no cache to be dropped.
            if whole, let kept = timelineCache.response(for: customerId) { return JSONResponse.make(buffer: JSONResponse.disclosed(kept, disclosure)) }
            let ticket = timelineCache.ticket
            let read = try await store.readProjections { snapshot -> (body: [UInt8], stored: Bool)? in
                if whole {
                    var body: [UInt8] = []
                    body.reserveCapacity(32_768)
                    var stored = false
                    try JSONObjectWriter.append(to: &body) { document in
                        document.string("customerId", customerId)
                        try document.json("entries") { stored = try snapshot.appendTimelineDocument(of: customerId, to: &$0) }
                    }
                    if stored { return (body, true) }
                }
                let entries = try snapshot.timeline(of: customerId, filter: filter)
                if entries.isEmpty, try !snapshot.hasEvents(of: customerId) { return nil }
                return (document(entries), false)
            }
            guard let read else { throw APIError.unknownCustomer(customerId) }
            let response = JSONResponse.buffer(bytes: read.body)
            // Only a stored document: one being rewritten is read from the rows until it is written.
            if read.stored { timelineCache.store(response, for: customerId, ticket: ticket) }
            return JSONResponse.make(buffer: JSONResponse.disclosed(response, disclosure))
        }
        router.get("/v1/customers/:customerId/moments") { request, context in
            let (customerId, asOf) = try await customerAsOf(request, context)
            let insights = insights
            let moments = try await store.readProjections { try $0.moments(of: customerId, asOf: asOf, insights) }
            return JSONResponse.make(Documents.moments(moments, asOf: asOf))
        }
        router.get("/v1/customers/:customerId/churn") { request, context in
            let (customerId, asOf) = try await customerAsOf(request, context)
            let (insights, weightsSource) = try await churnInsights(asOf: asOf)
            let risks = try await store.readProjections { try $0.churn(asOf: asOf, customerId: customerId, insights) }
            guard let risk = risks.first else {
                throw APIError.notFound("customer \(customerId) has no facts as of \(asOf.rfc3339), or was lost by then")
            }
            return JSONResponse.make(.object(
                [JSONMember("asOf", .string(asOf.rfc3339)), JSONMember("weights", .string(weightsSource))] + Documents.riskMembers(risk)))
        }
        router.get("/v1/customers/:customerId/summary") { request, context in
            let (customerId, asOf) = try await customerAsOf(request, context)
            let (insights, _) = try await churnInsights(asOf: asOf)
            let disclosure = context.disclosure(store, settings.masking)
            // A date asked for: as known then; else the projection as folded.
            let entries = Query(request).string("asOf") != nil
                ? try await timelineEntries(of: customerId, knownAt: asOf, filter: TimelineFilter())
                : try await store.readProjections { try $0.timeline(of: customerId) }
            let risk = try await store.readProjections { try $0.churn(asOf: asOf, customerId: customerId, insights).first }
            let summary = HotlineSummary(entries: entries.map { $0.disclosed(by: disclosure) }, asOf: asOf)
            return JSONResponse.make(summary.document(customerId: customerId, risk: risk))
        }
        router.get("/v1/churn") { request, context in
            try context.require(.staff)
            let query = Query(request)
            let requested = try query.time("asOf")
            let top = Int(try query.integer("top", in: 1...1_000) ?? 20)
            let band = try query.oneOf("band", ["low", "medium", "high"])
            let segment = try query.oneOf("segment", ["A", "B", "C"])
            // Without a date, the day's ranking, kept by the server; with one, ranked on the spot.
            let (asOf, weightsSource, risks): (Timestamp, String, [CustomerRisk])
            if let requested {
                let (insights, weights) = try await churnInsights(asOf: requested)
                (asOf, weightsSource, risks) = (requested, weights, try await store.readProjections { try $0.churn(asOf: requested, insights) })
            } else {
                (asOf, weightsSource, risks) = try await dailyRanking()
            }
            // The first `top` that match, found without copying the portfolio (a copy retains every risk's arrays).
            let listed = Array(risks.lazy.filter { (band == nil || $0.risk.band == band) && (segment == nil || $0.segment == segment) }.prefix(top))
            return JSONResponse.make(Documents.churn(risks, listed: listed, top: top, asOf: asOf, weights: weightsSource))
        }
        router.get("/v1/segments") { request, context in
            try context.require(.staff)
            let query = Query(request)
            let asOf = try query.time("asOf") ?? store.clock.now()
            let aShare = try query.number("aShare", in: 0.01...0.99) ?? 0.8
            let bShare = try query.number("bShare", in: 0.01...1) ?? 0.95
            guard aShare < bShare else { throw APIError.badRequest("aShare must be below bShare (got \(aShare) and \(bShare))") }
            let list = try query.oneOf("list", ["true", "false"]) == "true"
            let segmentRules = SegmentRules(aShare: aShare, bShare: bShare)
            let insights = Insights(rules: rules, model: model, segmentRules: segmentRules)
            let assignments = try await store.readProjections { try $0.segments(asOf: asOf, insights) }
            return JSONResponse.make(Documents.segments(assignments, rules: segmentRules, asOf: asOf, customers: list))
        }
        router.get("/v1/customers/:customerId/history") { request, context in
            try context.require(.auditor)
            let customerId = try context.customerId()
            let query = Query(request)
            let order: HistoryOrder = try query.oneOf("order", ["stream", "occurred"]) == "occurred" ? .occurred : .stream
            let knownAt = try query.time("knownAt"), after = try query.time("occurredAfter"), before = try query.time("occurredBefore")
            let store = store
            let events = try await countingTampered {
                try await offload { try store.history(of: customerId, order: order, knownAt: knownAt, occurredAfter: after, occurredBefore: before) }
            }
            if events.isEmpty { try await requireCustomer(customerId) }
            var members = [JSONMember("customerId", .string(customerId))]
            if let knownAt { members.append(JSONMember("knownAt", .string(knownAt.rfc3339))) }
            let disclosure = context.disclosure(store, settings.masking)
            members.append(JSONMember("events", .array(events.map { disclosure.event($0).json })))
            return JSONResponse.make(.object(members))
        }
        router.get("/v1/customers/:customerId/evidence") { request, context in
            try context.require(.auditor)
            let customerId = try context.customerId()
            let query = Query(request)
            try query.allowOnly(["knownAt"])
            let knownAt = try query.time("knownAt")
            try await requireCustomer(customerId)
            // On a node, the head the evidence proves against is one every node and auditor can find.
            if let shared, knownAt == nil { _ = try await shared.currentHead() }
            let store = store, disclosure = context.disclosure(store, settings.masking)
            let bytes = try await offload {
                try EvidenceFile.make(store: store, customerId: customerId, knownAt: knownAt, disclosure: disclosure).bytes
            }
            return JSONResponse.make(bytes: bytes)
        }
        router.get("/v1/access-log") { request, context in
            try context.require(.auditor)
            let query = Query(request)
            try query.allowOnly(["customer", "since", "limit"])
            let customer = query.string("customer"), since = try query.time("since")
            let limit = Int(try query.integer("limit", in: 1...100_000) ?? 1_000)
            let accessLog = accessLog
            // Every read recorded up to now is in the answer, those not written yet included.
            let records = try await accessLog.records(customerId: customer, since: since, limit: limit)
            return JSONResponse.make(["accesses": .array(records.map(\.document))])
        }
        router.get("/v1/verify") { request, context in
            try context.require(.auditor)
            let query = Query(request)
            let from = try query.integer("from", in: 1...Int64.max) ?? 1
            let through = try query.integer("to", in: 1...Int64.max)
            let store = store
            let report = try await offload { try store.verify(from: from, through: through) }
            return JSONResponse.make(report.document)
        }
        router.get("/v1/projections/:name/rows") { request, context in
            try context.require(.analyst)
            let query = Query(request)
            try query.allowOnly(["table", "offset", "limit"])
            let name = try context.parameters.require("name")
            guard let projection = declared.first(where: { $0.name == name }) else {
                throw APIError.notFound("no declared projection \(name)" + (declared.isEmpty ? "" : "; there are \(declared.map(\.name).joined(separator: ", "))"))
            }
            let view: String
            if let table = query.string("table") {
                guard let found = projection.views.first(where: { $0 == table || $0 == "\(name)_\(table)" }) else {
                    throw APIError(.badRequest, "bad_request", "table: \(name) has no table \(table); it has \(projection.views.joined(separator: ", "))",
                                   details: ["parameter": "table", "rule": "enum"])
                }
                view = found
            } else if projection.views.count == 1 {
                view = projection.views[0]
            } else {
                throw APIError(.badRequest, "bad_request", "table: \(name) has several tables; name one of \(projection.views.joined(separator: ", "))",
                               details: ["parameter": "table", "rule": "required"])
            }
            let offset = try query.integer("offset", in: 0...Int64(Int32.max)) ?? 0
            let limit = Int(try query.integer("limit", in: 1...10_000) ?? 1_000)
            let csv = request.headers[.accept].map { $0.contains("text/csv") } ?? false
            let path = store.path, declared = declared, registry = store.validator.registry
            let page = try await offload {
                try DeclaredProjections.rows(of: view, journalPath: path, declared: declared, registry: registry, offset: offset, limit: limit)
            }
            if csv {
                var text = CSV.record(page.columns)
                for row in page.rows { text += CSV.record(row.map(\.text)) }
                return Response(status: .ok, headers: [.contentType: "text/csv; charset=utf-8"], body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
            }
            let rows = page.rows.map { row in JSONValue.object(zip(page.columns, row).map { JSONMember($0, $1.json) }) }
            return JSONResponse.make(.object([
                JSONMember("projection", .string(name)), JSONMember("table", .string(view)),
                JSONMember("columns", .array(page.columns.map { .string($0) })), JSONMember("rows", .array(rows)),
                JSONMember("offset", .number(JSONNumber(offset))),
                JSONMember("next", page.rows.count == limit ? .number(JSONNumber(offset + Int64(limit))) : .null),
            ]))
        }
        router.post("/v1/erasures") { request, context in
            let token = try context.require(.admin)
            let document = try await jsonBody(of: request, upTo: 64 * 1024, advice: "an erasure needs a subject and a reason")
            let subject: DataSubject
            switch (document["customerId"]?.stringValue, document["subject"]?.stringValue) {
            case (let customerId?, nil): subject = .customer(customerId)
            case (nil, let text?):
                guard let parsed = DataSubject(text) else {
                    throw APIError(.badRequest, "bad_request", "subject must be customer:<id> or employee:<name as recorded>",
                                   details: ["path": "/subject", "rule": "pattern"])
                }
                subject = parsed
            default:
                throw APIError(.badRequest, "bad_request", "give either customerId or subject (customer:<id> or employee:<name>)",
                               details: ["path": "/subject", "rule": "oneOf"])
            }
            guard let reason = document["reason"]?.stringValue, !reason.trimmingCharacters(in: .whitespaces).isEmpty else {
                throw APIError(.badRequest, "bad_request", "reason is required: why (e.g. the request's reference), not naming the person",
                               details: ["path": "/reason", "rule": "required"])
            }
            let eraser = Eraser(store: store, declared: declared)
            guard let shared else {
                let report = try await offload { try eraser.erase(subject, reason: reason, actor: token.name) }
                return JSONResponse.make(report.document)
            }
            // On a node: the shared keys are destroyed, the erasure recorded in the shared log; every
            // node, this one too, rebuilds what held the subject's pseudonyms as its copy takes it in.
            let plan = try await offload { try eraser.plan(subject, reason: reason, actor: token.name) }
            let destruction = try await shared.eraseKeys(of: subject)
            let result = try await shared.append(AppendBatch(customerId: plan.stream, events: [plan.record(destruction)]))
            return JSONResponse.make(plan.report(destruction, position: result.positions.last ?? 0).document)
        }
        router.get("/v1/projections") { _, context in
            try context.require(.admin)
            let runner = runner
            let statuses = try await offload { try runner.status() }
            return JSONResponse.make(["projections": .array(statuses.map(\.document))])
        }
    }

    /// The request's body parsed as JSON: 413 over `limit` bytes, 400 when it is not JSON.
    private func jsonBody(of request: Request, upTo limit: Int, advice: String) async throws -> JSONValue {
        let body: ByteBuffer
        do {
            body = try await request.body.collect(upTo: limit)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            throw APIError(.contentTooLarge, "payload_too_large", "the request body is over \(limit) bytes; \(advice)")
        }
        do {
            return try JSONParser.parse(Array(buffer: body))
        } catch {
            throw APIError.badRequest("the body is not JSON: \(error)")
        }
    }

    // MARK: Append

    private func append(_ request: Request, customerId: String) async throws -> Response {
        let document = try await jsonBody(of: request, upTo: settings.maxBodyBytes, advice: "send smaller batches")
        guard case .object = document, case .array(let items)? = document["events"] else {
            throw APIError(.badRequest, "bad_request", #"the body must be an object {"events": [...], "expectedVersion": N?}"#,
                           details: ["path": "/events", "rule": "required"])
        }
        var expected = ExpectedVersion.any
        if let version = document["expectedVersion"] {
            guard case .number(let number) = version, number.value >= 0, let value = Int(exactly: number.value) else {
                throw APIError(.badRequest, "bad_request", "expectedVersion must be a whole number, 0 or more (0: no events yet)",
                               details: ["path": "/expectedVersion", "rule": "minimum"])
            }
            expected = ExpectedVersion(value)
        }
        guard !items.isEmpty else {
            throw APIError(.badRequest, "bad_request", "events is empty; send at least one event", details: ["path": "/events", "rule": "minItems"])
        }
        var events: [ProposedEvent] = []
        for (index, item) in items.enumerated() {
            do {
                events.append(try ProposedEvent(json: item, index: index))
            } catch {
                throw APIError.from(error)
            }
        }
        let result: AppendResult
        do {
            result = try await record(AppendBatch(customerId: customerId, expected: expected, events: events))
        } catch {
            throw APIError.from(error)
        }
        metrics.recordAppended(result.appended)
        let reply: JSONValue = [
            "customerId": .string(result.customerId), "appended": .number(JSONNumber(Int64(result.appended))),
            "duplicates": .number(JSONNumber(Int64(result.duplicates))), "streamVersion": .number(JSONNumber(Int64(result.streamVersion))),
            "positions": .array(result.positions.map { .number(JSONNumber($0)) }),
        ]
        return JSONResponse.make(reply, status: result.appended > 0 ? .created : .ok)
    }

    // MARK: Helpers

    /// The staff read of one customer as of a date: checks the role, the customer and `asOf`.
    private func customerAsOf(_ request: Request, _ context: JournalRequestContext) async throws -> (String, Timestamp) {
        try context.require(.staff, .auditor)
        let customerId = try context.customerId()
        let query = Query(request)
        let asOf = try query.time("asOf") ?? store.clock.now()
        try await requireCustomer(customerId)
        return (customerId, asOf)
    }

    /// A customer's timeline entries as the journal knew them at `knownAt` (sealed), scored with the
    /// moment rules recorded by then, else the server's.
    func timelineEntries(of customerId: String, knownAt: Timestamp, filter: TimelineFilter) async throws -> [TimelineEntry] {
        let log = ConfigurationLog(store: store)
        let rules = try await offload { try log.momentRules(at: knownAt)?.rules } ?? rules
        let timeline = JourneyTimeline(registry: store.validator.registry, rules: rules), store = store
        return try await offload { try timeline.entries(of: customerId, knownAt: knownAt, filter: filter, store: store) }
    }

    /// The insights that score churn as of `asOf`, with the weights recorded in the log by then
    /// (``ConfigurationLog``), else the server's own; and where the weights came from.
    func churnInsights(asOf: Timestamp) async throws -> (Insights, String) {
        let log = ConfigurationLog(store: store)
        guard let recorded = try await offload({ try log.churnModel(at: asOf) }) else { return (insights, weightsSource) }
        return (Insights(rules: rules, model: recorded.model),
                "recorded at position \(recorded.entry.position), \(recorded.entry.recorded.rfc3339)")
    }

    /// 404 unless the customer has events; 500 `tampered` (and counted) when one of them no longer
    /// hashes to its stored hash.
    func requireCustomer(_ customerId: String) async throws {
        let store = store
        let known = try await countingTampered { try await offload { try store.checkHistory(of: customerId) } }
        guard known else { throw APIError.unknownCustomer(customerId) }
    }

    /// Runs a read of a customer, counting the reads refused because an event was altered.
    func countingTampered<T>(_ read: () async throws -> T) async throws -> T {
        do {
            return try await read()
        } catch JournalError.tampered(let position, let customerId) {
            metrics.recordTamperedRead()
            throw JournalError.tampered(position: position, customerId: customerId)
        }
    }
}

/// Runs blocking work (SQLite through the store) off the server's threads, on the Dispatch queue of the
/// caller's priority: a read's work (``ReadPriority``) does not hold up the threads that carry appends.
func offload<T: Sendable, E: Error>(_ work: @escaping @Sendable () throws(E) -> T) async throws -> T {
    let qos: DispatchQoS.QoSClass = Task.currentPriority <= ReadPriority.level ? .utility : .default
    return try await withCheckedThrowingContinuation { continuation in
        DispatchQueue.global(qos: qos).async {
            do throws(E) {
                continuation.resume(returning: try work())
            } catch {
                continuation.resume(throwing: error)
            }
        }
    }
}
