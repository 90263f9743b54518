/// One read of a customer through the server: who (the token's name and role), what, when, and how it
/// was answered. Kept append-only (``AccessLogStore``): in the journal file, or beside the log in PostgreSQL.
public struct AccessRecord: Sendable, Hashable {
    public var at: Timestamp
    public var tokenName: String
    public var role: String
    public var customerId: String
    public var method: String
    /// The path and query, secrets redacted.
    public var target: String
    public var status: Int

    public init(at: Timestamp, tokenName: String, role: String, customerId: String, method: String, target: String, status: Int) {
        self.at = at
        self.tokenName = tokenName
        self.role = role
        self.customerId = customerId
        self.method = method
        self.target = target
        self.status = status
    }

    public var document: JSONValue {
        [
            "at": .string(at.rfc3339), "token": .string(tokenName), "role": .string(role), "customerId": .string(customerId),
            "method": .string(method), "target": .string(target), "status": .number(JSONNumber(Int64(status))),
        ]
    }
}

/// Where the reads of customers through the server are kept, append-only: every server on a shared
/// log writes to one, so that an auditor sees every read, whichever server answered it.
public protocol AccessLogStore: Sendable {
    /// Appends `records`, together.
    func recordAccesses(_ records: [AccessRecord]) async throws(JournalError)

    /// The reads recorded, oldest first: of one customer or all, from `since` on, at most `limit`.
    func accesses(customerId: String?, since: Timestamp?, limit: Int) async throws(JournalError) -> [AccessRecord]
}
