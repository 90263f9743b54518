import Foundation
import GRDB
import Journal
import JournalStore

/// The declared projections of a journal: those added with `tpj projection add` (kept in the
/// journal's file) and those of a directory of `.sql` files given at run time.
public enum DeclaredProjections {
    /// Names the built-in projections use, which declared ones cannot take.
    public static let reservedNames: Set<String> = ["timeline", "facts", "corrections", "analyst", "batch", "projection"]

    /// The projections added to the journal, then those of `directory` (each file `<name>.sql`),
    /// each checked in the sandbox.
    ///
    /// - Throws: ``DeclaredProjectionError`` naming the file and line of a projection that does not load.
    public static func load(_ store: EventStore, directory: String?) throws -> [DeclaredProjection] {
        let registry = store.validator.registry
        var projections: [DeclaredProjection] = []
        let stored = try store.writer.read { db in
            try Row.fetchAll(db, sql: "SELECT name, sql FROM declared_projection ORDER BY name").map { ($0["name"] as String, $0["sql"] as String) }
        }
        for (name, text) in stored {
            projections.append(try checked(text: text, fallbackName: name, origin: "projection \(name) (stored)", registry: registry))
        }
        if let directory {
            for file in try files(in: directory) {
                let text: String
                do {
                    text = try String(contentsOfFile: file, encoding: .utf8)
                } catch {
                    throw DeclaredProjectionError(origin: file, error: SandboxError(message: "cannot read the file: \(error.localizedDescription)", line: nil))
                }
                let projection = try checked(
                    text: text, fallbackName: URL(fileURLWithPath: file).deletingPathExtension().lastPathComponent, origin: file, registry: registry)
                if projections.contains(where: { $0.name == projection.name }) {
                    throw DeclaredProjectionError(origin: file, error: SandboxError(
                        message: "a projection named \(projection.name) is already declared (added to the journal, or another file)", line: nil))
                }
                projections.append(projection)
            }
        }
        return projections
    }

    /// Reads and checks one projection's text.
    public static func checked(text: String, fallbackName: String?, origin: String, registry: SchemaRegistry) throws(DeclaredProjectionError) -> DeclaredProjection {
        do throws(SandboxError) {
            let projection = try DeclaredProjection(text: text, fallbackName: fallbackName, registry: registry)
            guard !reservedNames.contains(projection.name) else {
                throw SandboxError(message: "the name \(projection.name) is taken by a built-in projection", line: 1)
            }
            try projection.check()
            return projection
        } catch {
            throw DeclaredProjectionError(origin: origin, error: error)
        }
    }

    /// Adds `projection` to the journal, replacing one of the same name; returns the replaced one's hash.
    @discardableResult
    public static func add(_ projection: DeclaredProjection, to store: EventStore) throws -> String? {
        try store.writer.write { db in
            let previous = try String.fetchOne(db, sql: "SELECT sha256 FROM declared_projection WHERE name = ?", arguments: [projection.name])
            try db.execute(
                sql: """
                    INSERT INTO declared_projection (name, sql, sha256, addedAtUs) VALUES (?, ?, ?, ?)
                    ON CONFLICT (name) DO UPDATE SET sql = excluded.sql, sha256 = excluded.sha256, addedAtUs = excluded.addedAtUs
                    """,
                arguments: [projection.name, projection.text, projection.sha256, store.clock.now().microseconds])
            return previous
        }
    }

    /// Removes the projection `name` from the journal, with its tables, views and checkpoint.
    /// Returns false when the journal has no such projection.
    @discardableResult
    public static func drop(_ name: String, from store: EventStore) throws -> Bool {
        let removed = try store.writer.write { db in
            try db.execute(sql: "DELETE FROM declared_projection WHERE name = ?", arguments: [name])
            return db.changesCount > 0
        }
        try store.projectionWriter.write { db in
            let prefix = ProjectionTables.prefix(of: name)
            let tables = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, ?) = ?", arguments: [prefix.count, prefix])
            let views = try String.fetchAll(
                db, sql: "SELECT name FROM sqlite_master WHERE type = 'view' AND substr(name, 1, ?) = ?", arguments: [name.count + 1, name + "_"])
            for view in views { try db.execute(sql: "DROP VIEW \"\(view)\"") }
            for table in tables { try db.execute(sql: "DROP TABLE \"\(table)\"") }
            try db.execute(sql: "DELETE FROM projection WHERE name = ?", arguments: [name])
        }
        return removed
    }

    /// The number of rows of each of the projection's tables (by view), nil for one not built yet.
    public static func rowCounts(of projection: DeclaredProjection, in store: EventStore) throws -> [Int64?] {
        try store.projectionWriter.read { db in
            try projection.views.map { view in
                try db.viewExists(view) ? Int64.fetchOne(db, sql: "SELECT count(*) FROM \(view)") : nil
            }
        }
    }

    /// A page of the rows of `view` (a declared projection's table), ordered by all its columns: its
    /// column names and at most `limit` rows after the first `offset`.
    public static func rows(
        of view: String, journalPath: String, declared: [DeclaredProjection], registry: SchemaRegistry, offset: Int64, limit: Int
    ) throws -> (columns: [String], rows: [[SQLValue]]) {
        let connection = try AnalystConnection(journalPath: journalPath, declared: declared, registry: registry)
        var columns: [String] = []
        try connection.query("SELECT * FROM \(view) LIMIT 0", columns: { columns = $0 }, row: { _ in })
        var rows: [[SQLValue]] = []
        let order = (1...max(1, columns.count)).map(String.init).joined(separator: ", ")
        try connection.query("SELECT * FROM \(view) ORDER BY \(order) LIMIT \(limit) OFFSET \(offset)", columns: { _ in }, row: { rows.append($0) })
        return (columns, rows)
    }

    /// The `.sql` files of `directory`, sorted.
    static func files(in directory: String) throws(DeclaredProjectionError) -> [String] {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory), isDirectory.boolValue else {
            throw DeclaredProjectionError(origin: directory, error: SandboxError(message: "no such directory", line: nil))
        }
        let names = (try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []
        return names.filter { $0.hasSuffix(".sql") }.sorted().map { (directory as NSString).appendingPathComponent($0) }
    }
}

/// A declared projection that does not load: where it comes from and what is wrong, at which line.
public struct DeclaredProjectionError: Error, Sendable, CustomStringConvertible {
    public var origin: String
    public var error: SandboxError

    public var description: String {
        "\(origin)\(error.line.map { ":\($0)" } ?? ""): \(error.message)"
    }
}
