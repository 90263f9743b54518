import Journal
import JournalScoring

/// The JSON documents of the views, shared by the CLI's `--json` output and the HTTP API, so that a
/// script sees the same shape from either.
public enum Documents {
    /// A number rounded to four decimals.
    public static func number(_ value: Double) -> JSONValue { .number(JSONNumber(rounded(value))) }

    /// `value` rounded to four decimals, as every document shows fractions.
    static func rounded(_ value: Double) -> Double { (value * 10_000).rounded() / 10_000 }

    static func integer(_ value: some BinaryInteger) -> JSONValue { .number(JSONNumber(Int64(value))) }

    /// A customer's timeline: the entries with their flags, as a canonical JSON array appended to `output`.
    public static func writeTimeline(_ entries: [TimelineEntry], into output: inout [UInt8]) {
        let flags = TimelineFlags(entries)
        output.append(UInt8(ascii: "["))
        for (index, entry) in entries.enumerated() {
            if index > 0 { output.append(UInt8(ascii: ",")) }
            entry.writeJSON(flags: flags.of(entry), into: &output)
        }
        output.append(UInt8(ascii: "]"))
    }

    /// A customer's moments of truth as of a date.
    public static func moments(_ moments: CustomerMoments, asOf: Timestamp) -> JSONValue {
        let touchpoints = moments.touchpoints.sorted {
            ($0.touchpoint.occurred, $0.touchpoint.position) < ($1.touchpoint.occurred, $1.touchpoint.position)
        }
        return [
            "customerId": .string(moments.customerId), "asOf": .string(asOf.rfc3339),
            "journey": moments.journey.map {
                ["value": number($0.value), "display": integer($0.display), "band": .string($0.band), "episodes": integer($0.episodes)]
            } ?? .null,
            "lost": moments.lost.map { ["at": .string($0.at.rfc3339), "reason": $0.reason.map(JSONValue.string) ?? .null] } ?? .null,
            "promiseKeepingRatio": moments.promiseKeepingRatio.map(number) ?? .null,
            "openComplaints": integer(moments.openComplaints.count),
            "proactiveContacts12m": integer(moments.proactiveContacts12m),
            "touchpoints": .array(touchpoints.map { row in
                let score = row.touchpoint.score
                return [
                    "position": .number(JSONNumber(row.touchpoint.position)), "type": .string(row.touchpoint.type),
                    "occurredAt": .string(row.touchpoint.occurred.rfc3339), "caseId": row.touchpoint.caseId.map(JSONValue.string) ?? .null,
                    "score": integer(score.score), "valence": number(score.valence), "weighted": number(score.weighted),
                    "impact": number(score.impact), "momentOfTruth": .bool(score.isMoment),
                    "reasons": .array((moments.reasons[row.touchpoint.position] ?? []).map(JSONValue.string)),
                    "rulesVersion": integer(score.rulesVersion),
                ]
            }),
            "episodes": .array(moments.episodes.map { episode in
                ["key": .string(episode.key), "touchpoints": integer(episode.touchpoints), "peak": number(episode.peak),
                 "end": number(episode.end), "value": number(episode.value), "last": .string(episode.last.rfc3339)]
            }),
        ]
    }

    /// ABC segments as of a date: the summary per segment and, when `customers` is true, every customer.
    public static func segments(_ assignments: [SegmentAssignment], rules: SegmentRules, asOf: Timestamp, customers: Bool = true) -> JSONValue {
        let total = assignments.reduce(0) { $0 + $1.revenue }
        var members: [JSONMember] = [
            JSONMember("asOf", .string(asOf.rfc3339)), JSONMember("aShare", number(rules.aShare)), JSONMember("bShare", number(rules.bShare)),
            JSONMember("revenue", number(total)),
            JSONMember("segments", .array(SegmentSummary.of(assignments).map {
                ["segment": .string($0.segment), "customers": integer($0.customers), "revenue": number($0.revenue)]
            })),
        ]
        if customers {
            members.append(JSONMember("customers", .array(assignments.map {
                ["customerId": .string($0.customerId), "segment": .string($0.segment), "revenue": number($0.revenue)]
            })))
        }
        return .object(members)
    }

    /// Churn risks as of a date: customer and band counts over all `risks`, and the first `top` of
    /// `listed` (default: all of them, riskiest first) in detail.
    public static func churn(_ risks: [CustomerRisk], listed: [CustomerRisk]? = nil, top: Int, asOf: Timestamp, weights: String) -> JSONValue {
        [
            "asOf": .string(asOf.rfc3339), "weights": .string(weights), "customers": integer(risks.count),
            "bands": .object(["low", "medium", "high"].map { band in JSONMember(band, integer(risks.count { $0.risk.band == band })) }),
            "risks": .array((listed ?? risks).prefix(top).map { .object(riskMembers($0)) }),
        ]
    }

    /// One customer's churn risk with its reasons and features.
    public static func riskMembers(_ item: CustomerRisk) -> [JSONMember] {
        [
            JSONMember("customerId", .string(item.customerId)), JSONMember("segment", .string(item.segment)),
            JSONMember("score", integer(item.risk.score)), JSONMember("probability", number(item.risk.probability)),
            JSONMember("band", .string(item.risk.band)),
            JSONMember("reasons", .array(item.risk.reasons.map {
                ["feature": .string($0.feature), "contribution": number($0.contribution), "text": .string($0.sentence)]
            })),
            JSONMember("features", .object(ChurnFeatures.names.map { JSONMember($0, number(item.features.values[$0] ?? 0)) })),
        ]
    }
}

/// Customers and revenue of one ABC segment.
public struct SegmentSummary: Sendable, Hashable {
    public var segment: String
    public var customers: Int
    public var revenue: Double

    /// A, B and C, in that order (a segment without customers included).
    public static func of(_ assignments: [SegmentAssignment]) -> [SegmentSummary] {
        ["A", "B", "C"].map { segment in
            let members = assignments.filter { $0.segment == segment }
            return SegmentSummary(segment: segment, customers: members.count, revenue: members.reduce(0) { $0 + $1.revenue })
        }
    }
}

extension TimelineEntry {
    /// Appends the entry as canonical JSON, with its flags (`PROMISE BROKEN`, `OPEN CASE`, `OPEN COMPLAINT`).
    /// Written member by member in canonical order; the stored payloads and reasons are canonical
    /// already and are copied as they are.
    public func writeJSON(flags: [String], into output: inout [UInt8]) {
        JSONObjectWriter.append(to: &output) { object in
            object.string("actor", actor)
            object.string("amendedBy", amendedBy)
            object.string("assetId", assetId)
            object.string("caseId", caseId)
            object.string("customerId", customerId)
            object.string("eventId", eventId)
            object.strings("flags", flags)
            if score != nil { object.number("impact", JSONNumber(Documents.rounded(impact ?? 0))) }
            object.string("kind", kind)
            if score != nil { object.bool("momentOfTruth", isMoment) }
            object.string("occurredAt", occurredAt)
            object.json("originalPayload", originalPayload)
            object.json("payload", payload)
            object.integer("position", position)
            if score != nil { object.json("reasons", reasonsJSON ?? "[]") }
            object.instant("recordedAt", recorded)
            object.integer("score", score.map(Int64.init))
            object.string("siteId", siteId)
            object.string("status", status)
            object.string("type", type)
        }
    }
}
