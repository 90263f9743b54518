import Foundation
import Journal
import JournalStore

/// Read-only SQL over the analyst views and the declared projections of a journal.
///
/// Now: the projections' file is read as it stands (bring it up to date first). As known at a time:
/// a scratch database in memory, where the analyst views show only the events and corrections known
/// by then and the declared projections are folded from those events — what a KPI said that day.
///
/// ```swift
/// let connection = try AnalystConnection(journalPath: "journal.sqlite", declared: declared, registry: .bundled)
/// try connection.query("SELECT type, count(*) FROM analyst_touchpoints GROUP BY type", columns: { print($0) }) { print($0) }
/// ```
public final class AnalystConnection {
    private let connection: SandboxConnection
    private let readable: Set<String>

    /// Opens the analyst surface of the journal at `journalPath` with its `declared` projections;
    /// with `knownAt`, folds them in memory from what was known by then.
    ///
    /// - Parameter progress: told each declared projection's name as its scratch fold starts.
    public init(
        journalPath: String, declared: [DeclaredProjection], registry: SchemaRegistry, knownAt: Timestamp? = nil,
        masking: Masking = Masking(.pseudonym), progress: ((String) -> Void)? = nil
    ) throws(SandboxError) {
        let kinds = AnalystSurface.Sources(journal: "", corrections: "", registry: registry).kinds
        let projectionsPath = JournalDatabase.projectionsPath(of: journalPath)
        guard FileManager.default.fileExists(atPath: projectionsPath) else {
            throw SandboxError(message: "the journal at \(journalPath) has no projections yet: open it with a tpj command first", line: nil)
        }
        let journal = JournalDatabase.readOnlyURI(journalPath)
        // The analyst views show personal values as `masking` says (pseudonyms unless a policy says
        // otherwise); the declared projections' own tables hold the pseudonyms they were folded with.
        let disclosure: Disclosure
        do {
            disclosure = Disclosure(keys: try KeyStore(path: KeyStore.path(of: journalPath)), masking: masking)
        } catch {
            throw SandboxError(message: error.description, line: nil)
        }
        if let knownAt {
            connection = try SandboxConnection(path: ":memory:", writable: true)
            connection.addFunction(Disclosure.sqlFunctionName, disclosure.sql)
            try connection.execute("""
                ATTACH DATABASE '\(Self.escaped(journal))' AS journal;
                ATTACH DATABASE '\(Self.escaped(JournalDatabase.readOnlyURI(projectionsPath)))' AS projections;
                """)
            try connection.execute(AnalystSurface.installSQL(.init(
                journal: "journal", corrections: AnalystSurface.correctionsView("projections"), kinds: kinds)))
            let head = try Self.integer(connection, "SELECT coalesce(max(position), 0) FROM journal.event")
            for projection in declared {
                progress?(projection.name)
                try projection.load(into: connection, generation: 0)
                try projection.fold(on: connection, generation: 0, after: 0, through: head, knownAtUs: knownAt.microseconds)
                let names = ProjectionTables(projection: projection.name, generation: 0)
                for table in projection.tables {
                    try connection.execute("CREATE TEMP VIEW \(ProjectionTables.view(projection.name, table)) AS SELECT * FROM main.\(names[table])")
                }
            }
            let scope = try connection.prepare(AnalystSurface.setScopeSQL)
            scope.bind([0, head, knownAt.microseconds])
            try scope.run()
        } else {
            connection = try SandboxConnection(path: JournalDatabase.readOnlyURI(projectionsPath))
            connection.addFunction(Disclosure.sqlFunctionName, disclosure.sql)
            try connection.execute("ATTACH DATABASE '\(Self.escaped(journal))' AS journal")
            try connection.execute(AnalystSurface.installSQL(.init(
                journal: "journal", corrections: AnalystSurface.correctionsView("main"), kinds: kinds)))
        }
        readable = Set(AnalystSurface.viewNames + declared.flatMap(\.views))
        var policy = SandboxPolicy(
            readableViews: readable, readableDescription: "the analyst views (analyst_touchpoints, …) and the declared projections' tables")
        policy.readablePrefixes += declared.map { ProjectionTables.prefix(of: $0.name) }
        policy.tables = try connection.tableNames()
        connection.policy = policy
    }

    /// Runs one read-only statement: hands its column names to `columns`, then each row to `row`.
    public func query(_ sql: String, columns: ([String]) throws -> Void, row: ([SQLValue]) throws -> Void) throws {
        let statements: [SQLText.Statement]
        do {
            let text = try SQLText(sql)
            try text.checkWithNames(against: readable.union(["batch", AnalystSurface.batchCustomers, SandboxPolicy.correctionsView]))
            statements = text.statements
        } catch {
            throw SandboxError(message: error.what, line: error.line)
        }
        guard statements.count == 1 else {
            throw SandboxError(message: statements.isEmpty ? "no SQL statement given" : "give one statement (got \(statements.count))", line: nil)
        }
        let statement = try connection.prepare(sql)
        guard statement.isReadOnly else { throw SandboxError(message: "this SQL may only read", line: nil) }
        try columns(statement.columnNames)
        while try statement.step() { try row(statement.row) }
    }

    /// Creates, on a scratch connection, an empty journal shaped like the real one (attached as
    /// `journal`), an empty corrections table and the analyst views: where declared projections are checked.
    static func installEmptyJournal(on connection: SandboxConnection, kinds: [String: String]) throws(SandboxError) {
        try connection.execute("""
            ATTACH DATABASE ':memory:' AS journal;
            CREATE TABLE journal.event (
                position INTEGER PRIMARY KEY, eventId TEXT NOT NULL, customerId TEXT NOT NULL, streamVersion INTEGER NOT NULL,
                type TEXT NOT NULL, schemaVersion INTEGER NOT NULL, occurredAt TEXT NOT NULL, occurredAtUs INTEGER NOT NULL,
                recordedAtUs INTEGER NOT NULL, caseId TEXT, assetId TEXT, siteId TEXT, actor TEXT, source TEXT, correlationId TEXT,
                causationId TEXT, payload TEXT NOT NULL, prevHash BLOB NOT NULL, hash BLOB NOT NULL, sourceRecordedAtUs INTEGER, importRef TEXT
            ) STRICT;
            CREATE TABLE main.\(ProjectionTables.view(Corrections().name, "revision")) (
                position INTEGER NOT NULL, revision INTEGER NOT NULL, knownAtUs INTEGER NOT NULL, voided INTEGER NOT NULL,
                payload TEXT, byPosition INTEGER NOT NULL, PRIMARY KEY (position, revision)
            ) STRICT;
            """)
        // An empty journal has nothing sealed.
        connection.addFunction(Disclosure.sqlFunctionName) { $0 }
        try connection.execute(AnalystSurface.installSQL(.init(journal: "journal", corrections: AnalystSurface.correctionsView("main"), kinds: kinds)))
    }

    private static func integer(_ connection: SandboxConnection, _ sql: String) throws(SandboxError) -> Int64 {
        let statement = try connection.prepare(sql)
        guard try statement.step(), case .integer(let value) = statement.value(0) else { return 0 }
        return value
    }

    private static func escaped(_ text: String) -> String { text.replacingOccurrences(of: "'", with: "''") }
}
