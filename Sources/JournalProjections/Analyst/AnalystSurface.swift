import Foundation
import GRDB
import Journal

/// The analysts' SQL surface: stable views over the log with corrections and voids applied.
///
/// The views are created per connection (`TEMP`), over the journal's `event` table and the
/// ``Corrections`` projection, and read only what the connection's *scope* allows: events up to a
/// position and known by a time. `tpj query` sets the scope to the whole log (or to `--known-at`);
/// a declared projection's fold sets it to the end of its batch, so that what it reads does not
/// depend on when it runs. The view `batch` shows the events of the fold's batch as recorded.
///
/// Columns are only ever added to a view of a given ``version``; a change that removes or
/// redefines a column comes with a new version.
public enum AnalystSurface {
    /// The version of the views' columns.
    public static let version = 1

    /// One documented column of a view.
    public struct Column: Sendable, Hashable {
        public let name: String
        public let type: String
        public let summary: String
    }

    /// One view of the surface, documented column by column.
    public struct View: Sendable {
        public let name: String
        public let summary: String
        public let columns: [Column]
        /// The view's SELECT; `{journal}`, `{corrections}` and `{kinds}` are filled in by ``installSQL(_:)``.
        let select: String
    }

    /// Where a connection finds the journal's events and the corrections, and the event types' kinds.
    public struct Sources: Sendable {
        /// The schema of the journal's `event` table (`journal` on a projections' connection).
        public var journal: String
        /// The view of the active ``Corrections`` table, qualified (e.g. `main.corrections_revision`).
        public var corrections: String
        /// Event type → touchpoint kind (the schemas' `x-touchpoint`).
        public var kinds: [String: String]

        public init(journal: String, corrections: String, kinds: [String: String]) {
            self.journal = journal
            self.corrections = corrections
            self.kinds = kinds
        }

        public init(journal: String, corrections: String, registry: SchemaRegistry) {
            var kinds: [String: String] = [:]
            for type in registry.types {
                if let version = registry.latestVersion(of: type), let kind = registry.entry(type: type, version: version)?.touchpointKind {
                    kinds[type] = kind
                }
            }
            self.init(journal: journal, corrections: corrections, kinds: kinds)
        }
    }

    /// The one-row table that bounds what the views show: events after `after` (the `batch` view
    /// only) through `through`, known by `knownAtUs`.
    public static let scopeTable = "temp.analyst_scope"

    /// SQL that sets the scope: bind after, through and knownAtUs.
    public static let setScopeSQL = "UPDATE \(scopeTable) SET after = ?, through = ?, knownAtUs = ?"

    /// The customers of a declared projection's batch, one row each, filled once per fold by
    /// ``fillBatchCustomersSQL``: `customerId IN batch_customers` costs a lookup, not a pass over the batch.
    public static let batchCustomers = "batch_customers"

    /// SQL that fills ``batchCustomers`` from the batch of the current scope: its customers, not the
    /// journal's own streams (`journal:privacy`, `journal:config`).
    public static let fillBatchCustomersSQL = """
        DELETE FROM temp.\(batchCustomers);
        INSERT INTO temp.\(batchCustomers) SELECT DISTINCT customerId FROM temp.batch WHERE customerId NOT LIKE 'journal:%'
        """

    /// The customers in ``batchCustomers``.
    public static let batchCustomerListSQL = "SELECT customerId FROM temp.\(batchCustomers) ORDER BY customerId"

    /// How many events of the log belong to the customers in ``batchCustomers``: a fold reads that
    /// many rows when it looks the batch's customers up one by one.
    public static let batchReachSQL = "SELECT events FROM temp.analyst_batch_reach"

    /// The names of the analysts' views (the `batch` view is only for declared projections).
    public static var viewNames: [String] { views.map(\.name) }

    /// SQL that creates the scope table (scoped to the whole log) and the views on one connection.
    public static func installSQL(_ sources: Sources) -> String {
        let kinds = sources.kinds.isEmpty
            ? "NULL"
            : "CASE e.type " + sources.kinds.sorted { $0.key < $1.key }.map { "WHEN \(quoted($0.key)) THEN \(quoted($0.value))" }.joined(separator: " ")
                + " END"
        var sql = """
            CREATE TEMP TABLE IF NOT EXISTS analyst_scope (after INTEGER NOT NULL, through INTEGER NOT NULL, knownAtUs INTEGER NOT NULL);
            CREATE TEMP TABLE IF NOT EXISTS \(batchCustomers) (customerId TEXT PRIMARY KEY) WITHOUT ROWID;
            DELETE FROM \(scopeTable);
            INSERT INTO \(scopeTable) VALUES (0, \(Int64.max), \(Int64.max));

            """
        for view in views + [batch] {
            let select = view.select
                .replacingOccurrences(of: "{journal}", with: sources.journal)
                .replacingOccurrences(of: "{corrections}", with: sources.corrections)
                .replacingOccurrences(of: "{kinds}", with: kinds)
            sql += "DROP VIEW IF EXISTS temp.\(view.name);\nCREATE TEMP VIEW \(view.name) AS \(select);\n"
        }
        sql += """
            DROP VIEW IF EXISTS temp.analyst_batch_reach;
            CREATE TEMP VIEW analyst_batch_reach AS
            SELECT count(*) AS events FROM \(sources.journal).event WHERE customerId IN temp.\(batchCustomers);

            """
        return sql
    }

    /// Creates the views on a projections' connection, unless they are there (the journal attached as
    /// `journal`, or in the same database for a journal in memory).
    static func prepare(_ db: Database, kinds: [String: String]) throws {
        if try Bool.fetchOne(db, sql: "SELECT count(*) > 0 FROM temp.sqlite_master WHERE name = 'batch'") == true { return }
        let attached = try Row.fetchAll(db, sql: "PRAGMA database_list").contains { $0["name"] == "journal" }
        try db.execute(sql: installSQL(Sources(journal: attached ? "journal" : "main", corrections: correctionsView("main"), kinds: kinds)))
    }

    /// The view of the active corrections in the projections' schema `schema`.
    static func correctionsView(_ schema: String) -> String {
        "\(schema).\(ProjectionTables.view(Corrections().name, "revision"))"
    }

    /// A value of the scope, as a subquery SQLite evaluates once per statement (a join with the scope
    /// table would leave the planner guessing its size).
    private static func scope(_ column: String) -> String { "(SELECT \(column) FROM \(scopeTable))" }

    private static func quoted(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "''") + "'" }

    /// UTC text of a column of microseconds since 1970.
    private static func utc(_ microseconds: String) -> String {
        "strftime('%Y-%m-%dT%H:%M:%fZ', \(microseconds) / 1000000.0, 'unixepoch')"
    }

    // MARK: The views

    private static let envelopeColumns: [Column] = [
        Column(name: "position", type: "INTEGER", summary: "position in the log (unique, gap-free)"),
        Column(name: "eventId", type: "TEXT", summary: "the event's UUID"),
        Column(name: "customerId", type: "TEXT", summary: "the customer's stream"),
        Column(name: "streamVersion", type: "INTEGER", summary: "1, 2, … within the customer's stream"),
        Column(name: "type", type: "TEXT", summary: "event type, e.g. `hotline.call.received`"),
        Column(name: "kind", type: "TEXT", summary: "touchpoint kind of the type (`hotline`, `visit`, `quote`, …; its schema's `x-touchpoint`)"),
        Column(name: "schemaVersion", type: "INTEGER", summary: "version of the payload's schema"),
        Column(name: "occurredAt", type: "TEXT", summary: "when it happened, RFC 3339 with the offset it was recorded with"),
        Column(name: "occurredDate", type: "TEXT", summary: "the local date of `occurredAt` (`YYYY-MM-DD`), for grouping by day, month, quarter"),
        Column(name: "occurredMonth", type: "TEXT", summary: "its month, `YYYY-MM`"),
        Column(name: "occurredQuarter", type: "TEXT", summary: "its quarter, `YYYY-Qn`"),
        Column(name: "occurredAtUs", type: "INTEGER", summary: "`occurredAt` in microseconds since 1970 (UTC), for ordering and ranges"),
        Column(name: "knownAt", type: "TEXT", summary: "when it became known: the source's recording time for imported history, else `recordedAt` (UTC)"),
        Column(name: "knownAtUs", type: "INTEGER", summary: "`knownAt` in microseconds"),
        Column(name: "recordedAtUs", type: "INTEGER", summary: "when the journal stored it, in microseconds"),
        Column(name: "caseId", type: "TEXT", summary: "the case it belongs to, if any"),
        Column(name: "assetId", type: "TEXT", summary: "the machine, if any"),
        Column(name: "siteId", type: "TEXT", summary: "the site, if any"),
        Column(name: "actor", type: "TEXT", summary: "who acted (technician, agent), if recorded"),
        Column(name: "source", type: "TEXT", summary: "the producing system, if recorded"),
        Column(name: "correlationId", type: "TEXT", summary: "correlation id, if any"),
        Column(name: "causationId", type: "TEXT", summary: "the event that caused it, if any"),
        Column(name: "importRef", type: "TEXT", summary: "`<import>/<file>:<line>` for imported history, else NULL"),
    ]

    private static let envelopeSelect = """
        e.position, e.eventId, e.customerId, e.streamVersion, e.type, {kinds} AS kind, e.schemaVersion, e.occurredAt,
        substr(e.occurredAt, 1, 10) AS occurredDate, substr(e.occurredAt, 1, 7) AS occurredMonth,
        substr(e.occurredAt, 1, 4) || '-Q' || ((substr(e.occurredAt, 6, 2) + 2) / 3) AS occurredQuarter, e.occurredAtUs, \(utc("coalesce(e.sourceRecordedAtUs, e.recordedAtUs)")) AS knownAt,
        coalesce(e.sourceRecordedAtUs, e.recordedAtUs) AS knownAtUs, e.recordedAtUs, e.caseId, e.assetId, e.siteId, tpj_disclose(e.actor) AS actor, e.source,
        e.correlationId, e.causationId, e.importRef
        """

    /// Every touchpoint, corrected, without the voided ones and without the correction events themselves.
    /// (`+c.revision`: corrections are looked up by position alone, so the latest revision is only
    /// searched for the few touchpoints that have one.)
    static let touchpoints = View(
        name: "analyst_touchpoints",
        summary: "one row per touchpoint as known now (or at the scope's time): corrections merged into the payload, voided touchpoints and the correction events left out",
        columns: envelopeColumns + [
            Column(name: "payload", type: "TEXT", summary: "the payload as JSON, with every correction known merged in; read fields with `payload ->> '$.field'`"),
            Column(name: "corrected", type: "INTEGER", summary: "1 when a correction changed the payload, else 0"),
        ],
        select: """
            SELECT \(envelopeSelect), tpj_disclose(coalesce(c.payload, e.payload)) AS payload, c.position IS NOT NULL AS corrected
            FROM {journal}.event e
            LEFT JOIN {corrections} c ON c.position = e.position AND +c.revision = (
                SELECT max(r.revision) FROM {corrections} r WHERE r.position = e.position AND r.byPosition <= \(scope("through")) AND r.knownAtUs <= \(scope("knownAtUs")))
            WHERE e.position <= \(scope("through")) AND e.type NOT IN ('touchpoint.corrected', 'touchpoint.voided')
              AND coalesce(e.sourceRecordedAtUs, e.recordedAtUs) <= \(scope("knownAtUs"))
              AND c.voided IS NOT 1
            """)

    /// The events of a declared projection's batch, as recorded.
    static let batch = View(
        name: "batch",
        summary: "the events of a declared projection's batch as recorded, corrections and voids included (only while it folds); the table `batch_customers` holds the batch's customers, one row each (`customerId`; the journal's own streams `journal:…` are not customers)",
        columns: envelopeColumns + [Column(name: "payload", type: "TEXT", summary: "the payload as recorded")],
        select: """
            SELECT \(envelopeSelect), tpj_disclose(e.payload) AS payload
            FROM {journal}.event e
            WHERE e.position > \(scope("after")) AND e.position <= \(scope("through"))
              AND coalesce(e.sourceRecordedAtUs, e.recordedAtUs) <= \(scope("knownAtUs"))
            """)

    private static let factColumns: [Column] = [
        Column(name: "position", type: "INTEGER", summary: "the touchpoint's position"),
        Column(name: "customerId", type: "TEXT", summary: "the customer"),
        Column(name: "occurredAt", type: "TEXT", summary: "when it happened (RFC 3339)"),
        Column(name: "occurredDate", type: "TEXT", summary: "its local date"),
        Column(name: "occurredQuarter", type: "TEXT", summary: "its quarter, `YYYY-Qn`"),
        Column(name: "occurredAtUs", type: "INTEGER", summary: "`occurredAt` in microseconds"),
        Column(name: "knownAtUs", type: "INTEGER", summary: "when it became known, in microseconds"),
        Column(name: "caseId", type: "TEXT", summary: "its case, if any"),
        Column(name: "assetId", type: "TEXT", summary: "its machine, if any"),
    ]
    private static let factColumnNames = "position, customerId, occurredAt, occurredDate, occurredQuarter, occurredAtUs, knownAtUs, caseId, assetId"
    private static let factSelect = factColumnNames.split(separator: ", ").map { "t.\($0)" }.joined(separator: ", ")

    static let customers = View(
        name: "analyst_customers",
        summary: "one row per customer with touchpoints: the latest registration's master data, whether lost, first and last touchpoint",
        columns: [
            Column(name: "customerId", type: "TEXT", summary: "the customer"),
            Column(name: "name", type: "TEXT", summary: "name from the latest `customer.registered` (NULL if never registered)"),
            Column(name: "country", type: "TEXT", summary: "ISO country code"),
            Column(name: "industry", type: "TEXT", summary: "industry, if given"),
            Column(name: "keyAccountManager", type: "TEXT", summary: "key account manager, if given"),
            Column(name: "customerSince", type: "TEXT", summary: "customer since (date), if given"),
            Column(name: "registeredAt", type: "TEXT", summary: "`occurredAt` of the latest registration"),
            Column(name: "status", type: "TEXT", summary: "`lost` when the latest of `customer.lost` / `customer.reactivated` is a loss, else `active`"),
            Column(name: "lostAt", type: "TEXT", summary: "when lost (status `lost` only)"),
            Column(name: "lostReason", type: "TEXT", summary: "the loss's reason (status `lost` only)"),
            Column(name: "touchpoints", type: "INTEGER", summary: "number of touchpoints"),
            Column(name: "firstOccurredAt", type: "TEXT", summary: "the first touchpoint's time (UTC)"),
            Column(name: "lastOccurredAt", type: "TEXT", summary: "the last touchpoint's time (UTC)"),
        ],
        select: """
            SELECT customerId, registration ->> '$.name' AS name, registration ->> '$.country' AS country,
              registration ->> '$.industry' AS industry, registration ->> '$.keyAccountManager' AS keyAccountManager,
              registration ->> '$.customerSince' AS customerSince, registeredAt,
              CASE WHEN lossType = 'customer.lost' THEN 'lost' ELSE 'active' END AS status,
              CASE WHEN lossType = 'customer.lost' THEN lossAt END AS lostAt,
              CASE WHEN lossType = 'customer.lost' THEN lossReason END AS lostReason,
              touchpoints, \(utc("firstUs")) AS firstOccurredAt, \(utc("lastUs")) AS lastOccurredAt
            FROM (SELECT customerId, position, min(position) OVER whole AS firstPosition, count(*) OVER whole AS touchpoints,
                    min(occurredAtUs) OVER whole AS firstUs, max(occurredAtUs) OVER whole AS lastUs,
                    last_value(registration) OVER registrations AS registration, last_value(registeredAt) OVER registrations AS registeredAt,
                    last_value(lossType) OVER losses AS lossType, last_value(lossAt) OVER losses AS lossAt,
                    last_value(lossReason) OVER losses AS lossReason
                  FROM (SELECT customerId, position, occurredAtUs,
                          type = 'customer.registered' AS isRegistration, type IN ('customer.lost', 'customer.reactivated') AS isLoss,
                          CASE WHEN type = 'customer.registered' THEN payload END AS registration,
                          CASE WHEN type = 'customer.registered' THEN occurredAt END AS registeredAt,
                          CASE WHEN type IN ('customer.lost', 'customer.reactivated') THEN type END AS lossType,
                          CASE WHEN type IN ('customer.lost', 'customer.reactivated') THEN occurredAt END AS lossAt,
                          CASE WHEN type = 'customer.lost' THEN payload ->> '$.reason' END AS lossReason
                        FROM analyst_touchpoints)
                  -- One window per customer (so that a filter on customerId reaches the log's index); the
                  -- latest registration and the latest loss or reactivation sort last in theirs.
                  WINDOW whole AS (PARTITION BY customerId),
                         registrations AS (PARTITION BY customerId ORDER BY isRegistration, position
                                           ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
                         losses AS (PARTITION BY customerId ORDER BY isLoss, occurredAtUs, position
                                    ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING))
            WHERE position = firstPosition
            """)

    static let cases = View(
        name: "analyst_cases",
        summary: "one row per case: its touchpoints, when opened, and whether closed (by `case.closed`, a visit that fixed the machine or a call that solved it)",
        columns: [
            Column(name: "customerId", type: "TEXT", summary: "the customer"),
            Column(name: "caseId", type: "TEXT", summary: "the case"),
            Column(name: "touchpoints", type: "INTEGER", summary: "number of touchpoints of the case"),
            Column(name: "firstType", type: "TEXT", summary: "type of its first touchpoint"),
            Column(name: "openedAt", type: "TEXT", summary: "`occurredAt` of its first touchpoint"),
            Column(name: "openedAtUs", type: "INTEGER", summary: "the same in microseconds"),
            Column(name: "lastAt", type: "TEXT", summary: "`occurredAt` of its last touchpoint"),
            Column(name: "status", type: "TEXT", summary: "`closed` or `open`"),
            Column(name: "closedAt", type: "TEXT", summary: "`occurredAt` of the first touchpoint that closed it"),
            Column(name: "closedAtUs", type: "INTEGER", summary: "the same in microseconds"),
            Column(name: "resolution", type: "TEXT", summary: "the `case.closed` resolution, if closed by one"),
        ],
        select: """
            SELECT customerId, caseId, touchpoints, firstType, openedAt, openedAtUs, lastAt,
              CASE WHEN closedAtUs IS NULL THEN 'open' ELSE 'closed' END AS status, closedAt, closedAtUs, resolution
            FROM (
              SELECT customerId, caseId, occurredAt AS lastAt,
                row_number() OVER latest AS n, count(*) OVER whole AS touchpoints,
                first_value(type) OVER earliest AS firstType, first_value(occurredAt) OVER earliest AS openedAt,
                first_value(occurredAtUs) OVER earliest AS openedAtUs,
                min(CASE WHEN closes THEN occurredAtUs END) OVER whole AS closedAtUs,
                first_value(CASE WHEN closes THEN occurredAt END) OVER closing AS closedAt,
                first_value(CASE WHEN type = 'case.closed' THEN payload ->> '$.resolution' END) OVER closing AS resolution
              FROM (SELECT *, (type = 'case.closed' OR (type = 'technician.visit.completed' AND payload ->> '$.fixed' = 1)
                                 OR (type = 'hotline.call.received' AND payload ->> '$.solvedOnCall' = 1)) AS closes
                    FROM analyst_touchpoints WHERE caseId IS NOT NULL)
              WINDOW whole AS (PARTITION BY customerId, caseId),
                     latest AS (PARTITION BY customerId, caseId ORDER BY occurredAtUs DESC, position DESC),
                     earliest AS (PARTITION BY customerId, caseId ORDER BY occurredAtUs, position
                                  ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING),
                     closing AS (PARTITION BY customerId, caseId ORDER BY closes DESC, occurredAtUs, position
                                 ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)
            )
            WHERE n = 1
            """)

    static let invoices = View(
        name: "analyst_invoices",
        summary: "one row per `invoice.issued`",
        columns: factColumns + [
            Column(name: "invoiceId", type: "TEXT", summary: "the invoice number"),
            Column(name: "amount", type: "REAL", summary: "net amount"),
            Column(name: "currency", type: "TEXT", summary: "ISO currency code"),
            Column(name: "category", type: "TEXT", summary: "`parts`, `service`, `contract`, …"),
            Column(name: "orderId", type: "TEXT", summary: "the order invoiced, if any"),
            Column(name: "dueDate", type: "TEXT", summary: "payment due date, if given"),
        ],
        select: """
            SELECT \(factSelect), t.payload ->> '$.invoiceId' AS invoiceId, t.payload ->> '$.amount' AS amount,
              t.payload ->> '$.currency' AS currency, t.payload ->> '$.category' AS category, t.payload ->> '$.orderId' AS orderId,
              t.payload ->> '$.dueDate' AS dueDate
            FROM analyst_touchpoints t WHERE t.type = 'invoice.issued'
            """)

    static let orders = View(
        name: "analyst_orders",
        summary: "one row per `part.ordered`, with its delivery when one is recorded",
        columns: factColumns + [
            Column(name: "orderId", type: "TEXT", summary: "the order"),
            Column(name: "quoteId", type: "TEXT", summary: "the quote it answers, if any"),
            Column(name: "express", type: "INTEGER", summary: "1 for an express order"),
            Column(name: "promisedDeliveryDate", type: "TEXT", summary: "the date promised"),
            Column(name: "amount", type: "REAL", summary: "order value, if given"),
            Column(name: "currency", type: "TEXT", summary: "its currency"),
            Column(name: "lines", type: "INTEGER", summary: "number of order lines"),
            Column(name: "deliveredDate", type: "TEXT", summary: "`actualDate` of the latest `part.delivered` of the order, if any"),
            Column(name: "daysLate", type: "INTEGER", summary: "days the delivery came after the promised date (negative: early); NULL if not delivered"),
        ],
        select: """
            SELECT \(factSelect), t.payload ->> '$.orderId' AS orderId, t.payload ->> '$.quoteId' AS quoteId,
              t.payload ->> '$.express' AS express, t.payload ->> '$.promisedDeliveryDate' AS promisedDeliveryDate,
              t.payload ->> '$.amount' AS amount, t.payload ->> '$.currency' AS currency, json_array_length(t.payload, '$.lines') AS lines,
              t.deliveredDate, CAST(julianday(t.deliveredDate) - julianday(t.payload ->> '$.promisedDeliveryDate') AS INTEGER) AS daysLate
            FROM (SELECT \(factColumnNames), type, payload,
                    -- The order's rows first, then its deliveries by position: the last row is the latest delivery
                    -- (a row without an order id is a partition of its own: it matches nothing).
                    last_value(CASE WHEN type = 'part.delivered' THEN payload ->> '$.actualDate' END) OVER (
                      PARTITION BY customerId, payload ->> '$.orderId', CASE WHEN payload ->> '$.orderId' IS NULL THEN position END
                      ORDER BY type = 'part.delivered', position
                      ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS deliveredDate
                  FROM analyst_touchpoints WHERE type IN ('part.ordered', 'part.delivered')) t
            WHERE t.type = 'part.ordered'
            """)

    static let quotes = View(
        name: "analyst_quotes",
        summary: "one row per `quote.sent`, with its answer (the latest `quote.accepted` or `quote.declined` of the quote)",
        columns: factColumns + [
            Column(name: "quoteId", type: "TEXT", summary: "the quote"),
            Column(name: "subject", type: "TEXT", summary: "what was quoted"),
            Column(name: "amount", type: "REAL", summary: "quoted value"),
            Column(name: "currency", type: "TEXT", summary: "its currency"),
            Column(name: "validUntil", type: "TEXT", summary: "valid until, if given"),
            Column(name: "outcome", type: "TEXT", summary: "`accepted`, `declined`, or NULL while unanswered"),
            Column(name: "answeredAt", type: "TEXT", summary: "`occurredAt` of the answer"),
            Column(name: "acceptedAmount", type: "REAL", summary: "the accepted amount (the quoted one unless the answer names another)"),
            Column(name: "declineReason", type: "TEXT", summary: "why declined"),
            Column(name: "competitor", type: "TEXT", summary: "the competitor chosen, if named"),
        ],
        select: """
            SELECT \(factSelect), t.payload ->> '$.quoteId' AS quoteId, t.payload ->> '$.subject' AS subject,
              t.payload ->> '$.amount' AS amount, t.payload ->> '$.currency' AS currency, t.payload ->> '$.validUntil' AS validUntil,
              CASE t.answerType WHEN 'quote.accepted' THEN 'accepted' WHEN 'quote.declined' THEN 'declined' END AS outcome,
              t.answeredAt,
              CASE WHEN t.answerType = 'quote.accepted' THEN coalesce(t.answer ->> '$.amount', t.payload ->> '$.amount') END AS acceptedAmount,
              CASE WHEN t.answerType = 'quote.declined' THEN t.answer ->> '$.reason' END AS declineReason,
              CASE WHEN t.answerType = 'quote.declined' THEN t.answer ->> '$.competitor' END AS competitor
            FROM (SELECT \(factColumnNames), type, payload,
                    -- The quote's rows first, then its answers by position: the last row is the latest answer
                    -- (a row without a quote id is a partition of its own: it matches nothing).
                    last_value(CASE WHEN type <> 'quote.sent' THEN type END) OVER answers AS answerType,
                    last_value(CASE WHEN type <> 'quote.sent' THEN occurredAt END) OVER answers AS answeredAt,
                    last_value(CASE WHEN type <> 'quote.sent' THEN payload END) OVER answers AS answer
                  FROM analyst_touchpoints WHERE type IN ('quote.sent', 'quote.accepted', 'quote.declined')
                  WINDOW answers AS (PARTITION BY customerId, payload ->> '$.quoteId', CASE WHEN payload ->> '$.quoteId' IS NULL THEN position END
                                     ORDER BY type <> 'quote.sent', position
                                     ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING)) t
            WHERE t.type = 'quote.sent'
            """)

    static let surveys = View(
        name: "analyst_surveys",
        summary: "one row per `survey.answered`",
        columns: factColumns + [
            Column(name: "surveyId", type: "TEXT", summary: "the survey"),
            Column(name: "csi", type: "INTEGER", summary: "satisfaction 1–5, if answered"),
            Column(name: "ces", type: "INTEGER", summary: "customer effort score, if answered"),
            Column(name: "recommend", type: "INTEGER", summary: "would recommend, 0–10, if answered"),
            Column(name: "relatedEventId", type: "TEXT", summary: "the touchpoint the survey asked about, if any"),
        ],
        select: """
            SELECT \(factSelect), t.payload ->> '$.surveyId' AS surveyId, t.payload ->> '$.csi' AS csi, t.payload ->> '$.ces' AS ces,
              t.payload ->> '$.recommend' AS recommend, t.payload ->> '$.relatedEventId' AS relatedEventId
            FROM analyst_touchpoints t WHERE t.type = 'survey.answered'
            """)

    static let contracts = View(
        name: "analyst_contracts",
        summary: "one row per contract event (`contract.signed`, `.renewed`, `.cancelled`)",
        columns: factColumns + [
            Column(name: "change", type: "TEXT", summary: "`signed`, `renewed` or `cancelled`"),
            Column(name: "contractId", type: "TEXT", summary: "the contract"),
            Column(name: "level", type: "TEXT", summary: "service level (signed only)"),
            Column(name: "startDate", type: "TEXT", summary: "start (signed only)"),
            Column(name: "endDate", type: "TEXT", summary: "end: `endDate` when signed, `newEndDate` when renewed"),
            Column(name: "effectiveDate", type: "TEXT", summary: "when a cancellation takes effect"),
            Column(name: "annualValue", type: "REAL", summary: "annual value, if given"),
            Column(name: "currency", type: "TEXT", summary: "its currency"),
        ],
        select: """
            SELECT \(factSelect), substr(t.type, 10) AS change, t.payload ->> '$.contractId' AS contractId, t.payload ->> '$.level' AS level,
              t.payload ->> '$.startDate' AS startDate, coalesce(t.payload ->> '$.endDate', t.payload ->> '$.newEndDate') AS endDate,
              t.payload ->> '$.effectiveDate' AS effectiveDate, t.payload ->> '$.annualValue' AS annualValue,
              t.payload ->> '$.currency' AS currency
            FROM analyst_touchpoints t WHERE t.type IN ('contract.signed', 'contract.renewed', 'contract.cancelled')
            """)

    static let visits = View(
        name: "analyst_visits",
        summary: "one row per `technician.visit.completed`, with its lateness",
        columns: factColumns + [
            Column(name: "visitNumber", type: "TEXT", summary: "the visit"),
            Column(name: "technician", type: "TEXT", summary: "the technician, if named"),
            Column(name: "promisedArrival", type: "TEXT", summary: "arrival promised"),
            Column(name: "actualArrival", type: "TEXT", summary: "actual arrival"),
            Column(name: "minutesLate", type: "INTEGER", summary: "minutes after the promised arrival (negative: early)"),
            Column(name: "fixed", type: "INTEGER", summary: "1 when the visit fixed the machine"),
            Column(name: "revisitRequired", type: "INTEGER", summary: "1 when another visit is needed, if recorded"),
            Column(name: "workHours", type: "REAL", summary: "hours worked, if recorded"),
        ],
        select: """
            SELECT \(factSelect), t.payload ->> '$.visitNumber' AS visitNumber, t.payload ->> '$.technician' AS technician,
              t.payload ->> '$.promisedArrival' AS promisedArrival, t.payload ->> '$.actualArrival' AS actualArrival,
              CAST(round((julianday(t.payload ->> '$.actualArrival') - julianday(t.payload ->> '$.promisedArrival')) * 1440) AS INTEGER) AS minutesLate,
              t.payload ->> '$.fixed' AS fixed, t.payload ->> '$.revisitRequired' AS revisitRequired, t.payload ->> '$.workHours' AS workHours
            FROM analyst_touchpoints t WHERE t.type = 'technician.visit.completed'
            """)

    static let segments = View(
        name: "analyst_segments",
        summary: "one row per month and customer with invoiced revenue in the 12 months up to and including that month: the customer's ABC segment at the end of the month (Pareto: A make the first 80 % of the portfolio's revenue, B the next 15 %, C the rest; customers without revenue in the window are C and not listed). Months run from the first invoice to the newest",
        columns: [
            Column(name: "month", type: "TEXT", summary: "`YYYY-MM`; the segment holds at the end of it"),
            Column(name: "customerId", type: "TEXT", summary: "the customer"),
            Column(name: "trailingRevenue", type: "REAL", summary: "invoiced in that month and the 11 before it"),
            Column(name: "revenueBefore", type: "REAL", summary: "the revenue of the customers ranked before it that month (ties by customer id)"),
            Column(name: "segment", type: "TEXT", summary: "`A`, `B` or `C`"),
        ],
        select: """
            WITH RECURSIVE lag(k) AS (SELECT 0 UNION ALL SELECT k + 1 FROM lag WHERE k < 11),
            revenue AS (
                SELECT customerId, CAST(substr(occurredDate, 1, 4) AS INTEGER) * 12 + CAST(substr(occurredDate, 6, 2) AS INTEGER) - 1 AS m,
                       total(amount) AS amount
                FROM analyst_invoices GROUP BY 1, 2),
            months AS (SELECT DISTINCT r.m + lag.k AS m FROM revenue r, lag WHERE r.m + lag.k <= (SELECT max(m) FROM revenue)),
            trailing AS (
                SELECT months.m, r.customerId, total(r.amount) AS revenue
                FROM months JOIN revenue r ON r.m BETWEEN months.m - 11 AND months.m GROUP BY 1, 2),
            ranked AS (
                SELECT m, customerId, revenue,
                       coalesce(sum(max(revenue, 0)) OVER (PARTITION BY m ORDER BY revenue DESC, customerId
                                                            ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
                       sum(max(revenue, 0)) OVER (PARTITION BY m) AS total
                FROM trailing)
            SELECT printf('%04d-%02d', m / 12, m % 12 + 1) AS month, customerId, revenue AS trailingRevenue, before AS revenueBefore,
                   CASE WHEN revenue <= 0 THEN 'C' WHEN before < 0.8 * total THEN 'A' WHEN before < 0.95 * total THEN 'B' ELSE 'C' END AS segment
            FROM ranked
            """)

    /// The views, in the order they are documented.
    public static let views: [View] = [touchpoints, customers, segments, cases, invoices, orders, quotes, surveys, contracts, visits]

    /// The views' documentation as Markdown (kept in `Schemas/analyst-views.md`, checked by a test).
    public static var markdown: String {
        var text = "<!-- generated from AnalystSurface.swift: edit there; a test checks this file -->\n"
        text += "# Analyst views (version \(version))\n\n"
        for view in views + [batch] {
            text += "## `\(view.name)`\n\n\(view.summary.prefix(1).uppercased() + view.summary.dropFirst()).\n\n"
            text += "| column | type | meaning |\n|---|---|---|\n"
            for column in view.columns { text += "| `\(column.name)` | \(column.type) | \(column.summary) |\n" }
            text += "\n"
        }
        return text
    }
}
