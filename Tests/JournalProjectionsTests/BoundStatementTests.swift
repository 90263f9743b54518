import GRDB
import Testing

@testable import JournalProjections

struct BoundStatementTests {
    @Test func runsWithTheValuesBoundAndNamesTheRuleARowBreaks() throws {
        let db = try DatabaseQueue()
        try db.write { db in
            try db.execute(sql: "CREATE TABLE item (id INTEGER NOT NULL, name TEXT NOT NULL, weight REAL, CHECK (id > 0)) STRICT")
            var insert = try BoundStatement(db, sql: "INSERT INTO item (id, name, weight) VALUES (?, ?, ?)")
            // A row with a NULL bound from nil,
            insert.bind(1)
            insert.bind("gear")
            insert.bind(Double?.none)
            try insert.run()
            // a row that breaks a rule, which names it and the statement,
            insert.bind(2)
            insert.bind(String?.none)
            insert.bind(1.5)
            let error = #expect(throws: DatabaseError.self) { try insert.run() }
            #expect(error?.message?.contains("NOT NULL constraint failed: item.name") == true)
            #expect(error?.sql?.contains("INSERT INTO item") == true)
            insert.bind(-3)
            insert.bind("shaft")
            insert.bind(2.0)
            #expect(throws: DatabaseError.self) { try insert.run() }
            // and the statement still runs the next row.
            insert.bind(4)
            insert.bind("belt")
            insert.bind(0.25)
            try insert.run()
            let rows = try Row.fetchAll(db, sql: "SELECT id, name, weight FROM item ORDER BY id")
            #expect(rows.map { $0[0] as Int64 } == [1, 4])
            #expect(rows.map { $0[1] as String } == ["gear", "belt"])
            #expect(rows.map { $0[2] as Double? } == [nil, 0.25])
        }
    }
}
