/// Everything that can go wrong when appending to or reading from the journal.
///
/// Every message names the record and what to do about it.
public enum JournalError: Error, Sendable, Hashable, CustomStringConvertible {
    /// An event of a batch broke a rule; nothing of the batch was stored.
    case invalidEvent(InvalidEvent)
    /// The input is not a JSON array or NDJSON of event objects.
    case malformedInput(line: Int?, message: String)
    /// Optimistic concurrency: the customer's stream is not at the version the producer expected.
    case concurrencyConflict(customerId: String, expected: ExpectedVersion, actual: Int)
    /// An event id is already stored with different content.
    case eventIdReused(index: Int, eventId: EventID, position: Int64, differingFields: [String])
    /// A correction or void names an event that does not exist for this customer.
    case unknownReference(index: Int, eventId: EventID, field: String, referenced: EventID, customerId: String)
    /// The journal file does not exist.
    case journalNotFound(path: String)
    /// The file exists but is not a journal, or the database failed.
    case storage(String)
    /// An argument to a read (a range, a limit) is out of bounds.
    case invalidArgument(String)
    /// A stored event no longer hashes to its stored hash: the journal file was altered there. Reads
    /// that meet it refuse to show the customer.
    case tampered(position: Int64, customerId: String)
    /// The recording time would lie further ahead of the system clock than allowed; nothing was stored.
    case clockAhead(recordedAt: Timestamp, systemTime: Timestamp, maximumLeadSeconds: Int64)

    public var description: String {
        switch self {
        case .invalidEvent(let invalid):
            return invalid.description
        case .malformedInput(let line, let message):
            return "malformed input\(line.map { " at line \($0)" } ?? ""): \(message)"
        case .concurrencyConflict(let customerId, let expected, let actual):
            return "version conflict for customer \(customerId): you expected version \(expected), "
                + "the stream is at version \(actual). Read the customer's history and retry."
        case .eventIdReused(let index, let eventId, let position, let fields):
            return "event \(index) (eventId \(eventId)): this eventId is already stored at position \(position) "
                + "with different content (\(fields.joined(separator: ", "))). Use a new eventId for a new event, "
                + "or record a touchpoint.corrected event to change a recorded one."
        case .unknownReference(let index, let eventId, let field, let referenced, let customerId):
            return "event \(index) (eventId \(eventId)): /payload/\(field) names event \(referenced), "
                + "which is not an event of customer \(customerId). Corrections and voids must point at an "
                + "earlier event of the same customer."
        case .journalNotFound(let path):
            return "no journal at \(path). Create one with `tpj init` (or `tpj demo`), or pass --db PATH."
        case .storage(let message):
            return message
        case .invalidArgument(let message):
            return message
        case .tampered(let position, let customerId):
            return "the journal was altered: the event at position \(position) (customer \(customerId)) does not hash to its "
                + "stored hash, so nothing of the customer is shown. Run `tpj verify`, and restore the journal from a backup."
        case .clockAhead(let recordedAt, let systemTime, let lead):
            return "refused: this append would be recorded at \(recordedAt.rfc3339), more than \(lead) s ahead of the "
                + "system clock (\(systemTime.rfc3339)); recorded times never go back, so one stamp in the future "
                + "would hold every later one. Check the clock of this machine (or of the journal's last writer). Nothing was stored."
        }
    }
}

/// A rule an event of an input batch broke.
public struct InvalidEvent: Sendable, Hashable, CustomStringConvertible {
    /// 0-based index of the event in its batch.
    public var index: Int
    public var eventId: String?
    /// JSON Pointer into the event object: `/payload/queueWaitSeconds`, `/occurredAt`, or "" for the event.
    public var path: String
    /// The rule broken: a JSON Schema keyword (`required`, `minimum`, …) or a journal rule
    /// (`unknownType`, `timestamp`, `identifier`, `duplicateEventId`, `payloadTooLarge`, `customerMismatch`, …).
    public var rule: String
    public var message: String
    /// Further violations of the same event, if any.
    public var more: [SchemaViolation] = []

    public init(index: Int, eventId: String?, path: String, rule: String, message: String, more: [SchemaViolation] = []) {
        self.index = index
        self.eventId = eventId
        self.path = path
        self.rule = rule
        self.message = message
        self.more = more
    }

    public var description: String {
        var text = "event \(index)\(eventId.map { " (eventId \($0))" } ?? ""): \(path.isEmpty ? "/" : path): \(message) [\(rule)]"
        for violation in more {
            text += "\n  also /payload\(violation.path): \(violation.message) [\(violation.rule)]"
        }
        return text + "\nNothing of this batch was stored."
    }
}
