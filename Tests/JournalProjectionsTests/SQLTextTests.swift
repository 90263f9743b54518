@testable import JournalProjections
import Testing

/// The token-level reading of declared projections' SQL.
@Suite struct SQLTextTests {
    static func scanning(_ sql: String) throws -> String {
        try #require(try SQLText(sql).statements.first).scanningBatchCustomers().text()
    }

    @Test(arguments: [
        ("SELECT 1 FROM t WHERE customerId IN batch_customers", "SELECT 1 FROM t WHERE +customerId IN batch_customers"),
        ("SELECT 1 FROM t v WHERE v.customerId IN temp.batch_customers", "SELECT 1 FROM t v WHERE +v.customerId IN temp.batch_customers"),
        ("SELECT 1 FROM t WHERE \"customerId\" in BATCH_CUSTOMERS", "SELECT 1 FROM t WHERE +\"customerId\" in BATCH_CUSTOMERS"),
        ("SELECT customerId, count(*) FROM t GROUP BY customerId, q", "SELECT customerId, count(*) FROM t GROUP BY +customerId, q"),
        ("SELECT sum(x) OVER (PARTITION BY t.customerId ORDER BY y) FROM t", "SELECT sum(x) OVER (PARTITION BY +t.customerId ORDER BY y) FROM t"),
        ("SELECT 1 FROM main.t WHERE main.t.customerId IN batch_customers GROUP BY main.t.customerId",
         "SELECT 1 FROM main.t WHERE +main.t.customerId IN batch_customers GROUP BY +main.t.customerId"),
        // Left as written: other columns and tables, NOT IN, a grouping led by another column, text and comments.
        ("SELECT 1 FROM t WHERE assetId IN batch_customers", "SELECT 1 FROM t WHERE assetId IN batch_customers"),
        ("SELECT 1 FROM t WHERE customerId IN other", "SELECT 1 FROM t WHERE customerId IN other"),
        ("SELECT 1 FROM t GROUP BY q, customerId", "SELECT 1 FROM t GROUP BY q, customerId"),
        ("SELECT 'customerId IN batch_customers' -- customerId IN batch_customers", "SELECT 'customerId IN batch_customers' -- customerId IN batch_customers"),
    ])
    func scanningReadsCustomerIdWithoutItsIndexWhereTheBatchIsTestedOrGrouped(sql: String, expected: String) throws {
        #expect(try Self.scanning(sql) == expected)
    }

    @Test func aFoldScansOnceTheBatchsCustomersOwnMoreThanHalfTheLog() {
        #expect(DeclaredProjection.scans(reach: 1_000, through: 1_000))
        #expect(DeclaredProjection.scans(reach: 501, through: 1_000))
        #expect(!DeclaredProjection.scans(reach: 500, through: 1_000))
        #expect(!DeclaredProjection.scans(reach: 3, through: 1_000_000))
    }
}

extension SQLTextTests {
    static func inlining(_ sql: String) throws -> String {
        try #require(try SQLText(sql).statements.first).inliningBatchCustomers("'C-1', 'C-2'").text()
    }

    @Test(arguments: [
        ("DELETE FROM t WHERE customerId IN batch_customers", "DELETE FROM t WHERE customerId IN ('C-1', 'C-2')"),
        ("SELECT 1 FROM v WHERE v.customerId in temp . batch_customers AND x", "SELECT 1 FROM v WHERE v.customerId in ('C-1', 'C-2') AND x"),
        ("SELECT 1 FROM main.t WHERE main.t.customerId IN batch_customers", "SELECT 1 FROM main.t WHERE main.t.customerId IN ('C-1', 'C-2')"),
        // Left as written: another column (its affinity may compare otherwise with a list), NOT IN.
        ("SELECT 1 FROM t WHERE a IN batch_customers OR customerId NOT IN batch_customers", "SELECT 1 FROM t WHERE a IN batch_customers OR customerId NOT IN batch_customers"),
        // Left as written: the table read as a table, and text.
        ("SELECT customerId FROM batch_customers", "SELECT customerId FROM batch_customers"),
        ("SELECT 1 FROM t JOIN temp.batch_customers b USING (customerId)", "SELECT 1 FROM t JOIN temp.batch_customers b USING (customerId)"),
        ("SELECT 'IN batch_customers'", "SELECT 'IN batch_customers'"),
    ])
    func aSmallBatchsCustomersAreWrittenAsAListOfValues(sql: String, expected: String) throws {
        #expect(try Self.inlining(sql) == expected)
    }

    @Test func onlyASmallBatchIsInlinedAndItsQuotesAreDoubled() {
        #expect(DeclaredProjection.literalList(["C-1", "O'Brien"]) == "'C-1', 'O''Brien'")
        #expect(DeclaredProjection.literalList([]) == nil)
        #expect(DeclaredProjection.literalList((0...DeclaredProjection.maximumInlinedCustomers).map { "C-\($0)" }) == nil)
    }
}
