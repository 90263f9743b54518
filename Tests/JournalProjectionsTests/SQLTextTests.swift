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
