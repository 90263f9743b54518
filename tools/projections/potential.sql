-- name: potential
-- description: Service-potential capture, as of the newest touchpoint in the log: parts and service revenue of the trailing 12 months per customer against the installed base's expected need (each machine's expected yearly spend by age, parameters below), and a pirate-suspect flag: machines active, parts orders falling against the 12 months before, quotes declined.
-- Parameters: expected yearly parts and service spend per machine by age in years (age unknown: the
-- machine was delivered before the log begins, and counts as mature).
CREATE TABLE potential_spend (fromYears REAL PRIMARY KEY, spend REAL NOT NULL);
INSERT OR REPLACE INTO potential_spend VALUES (0, 4000), (2, 10000), (5, 15000), (10, 12000);

-- The newest occurredAt folded: the date capture is measured at.
CREATE TABLE potential_asof (id INTEGER PRIMARY KEY CHECK (id = 1), atUs INTEGER NOT NULL);
-- Per customer: machines (first seen, delivered), revenue, parts orders and declined quotes with their times.
CREATE TABLE potential_machine (customerId TEXT NOT NULL, assetId TEXT NOT NULL, deliveredUs INTEGER, lastSeenUs INTEGER NOT NULL,
                                PRIMARY KEY (customerId, assetId));
CREATE TABLE potential_item (position INTEGER PRIMARY KEY, customerId TEXT NOT NULL, kind TEXT NOT NULL,
                             occurredAtUs INTEGER NOT NULL, amount REAL NOT NULL);
CREATE INDEX potential_itemcustomer ON potential_item (customerId, kind);
CREATE TABLE potential_customer (
    customerId     TEXT PRIMARY KEY,
    machines       INTEGER NOT NULL,
    activeMachines INTEGER NOT NULL,  -- with a touchpoint in the trailing 12 months
    expectedSpend  REAL    NOT NULL,  -- the machines' expected yearly spend
    revenue        REAL    NOT NULL,  -- parts and service invoiced in the trailing 12 months
    captureRatio   REAL,              -- revenue / expectedSpend
    partsOrders    INTEGER NOT NULL,  -- in the trailing 12 months
    partsOrdersBefore INTEGER NOT NULL, -- in the 12 months before
    quotesDeclined INTEGER NOT NULL,  -- quotes declined in the trailing 12 months (by the date of the answer)
    pirateSuspect  INTEGER NOT NULL   -- machines active, parts orders falling, a quote declined
);

-- "Now" is the latest touchpoint of a customer: the journal's own streams (journal:privacy, journal:config) record today's date.
INSERT INTO potential_asof (id, atUs) SELECT 1, max(occurredAtUs) FROM batch WHERE customerId NOT LIKE 'journal:%' HAVING count(*) > 0
ON CONFLICT (id) DO UPDATE SET atUs = max(atUs, excluded.atUs);

DELETE FROM potential_machine WHERE customerId IN batch_customers;
INSERT INTO potential_machine
SELECT customerId, assetId,
       min(CASE WHEN type IN ('delivery.completed', 'installation.completed') THEN occurredAtUs END), max(occurredAtUs)
FROM analyst_touchpoints WHERE customerId IN batch_customers AND assetId IS NOT NULL
GROUP BY customerId, assetId;

-- Parts and service invoices (not `other`), parts orders and declined quotes, in one pass.
DELETE FROM potential_item WHERE customerId IN batch_customers;
INSERT INTO potential_item
SELECT position, customerId,
       CASE type WHEN 'invoice.issued' THEN 'revenue' WHEN 'part.ordered' THEN 'order' ELSE 'declined' END,
       occurredAtUs, coalesce(payload ->> '$.amount', 0)
FROM analyst_touchpoints
WHERE customerId IN batch_customers
  AND (type IN ('part.ordered', 'quote.declined') OR (type = 'invoice.issued' AND payload ->> '$.category' <> 'other'));

-- The measuring date moves with every batch: every customer is measured again (one row each).
DELETE FROM potential_customer;
INSERT INTO potential_customer
SELECT customerId, machines, active, expected, revenue, round(revenue / nullif(expected, 0), 4), orders, ordersBefore, declined,
       active > 0 AND orders < ordersBefore AND declined > 0
FROM (
    SELECT m.customerId, count(*) AS machines,
           count(*) FILTER (WHERE m.lastSeenUs > a.atUs - 365 * 86400000000) AS active,
           total((SELECT s.spend FROM potential_spend s
                  WHERE s.fromYears <= coalesce((a.atUs - m.deliveredUs) / (365.25 * 86400000000), 10)
                  ORDER BY s.fromYears DESC LIMIT 1)) AS expected,
           (SELECT total(i.amount) FROM potential_item i WHERE i.customerId = m.customerId AND i.kind = 'revenue'
              AND i.occurredAtUs > a.atUs - 365 * 86400000000) AS revenue,
           (SELECT count(*) FROM potential_item i WHERE i.customerId = m.customerId AND i.kind = 'order'
              AND i.occurredAtUs > a.atUs - 365 * 86400000000) AS orders,
           (SELECT count(*) FROM potential_item i WHERE i.customerId = m.customerId AND i.kind = 'order'
              AND i.occurredAtUs > a.atUs - 730 * 86400000000 AND i.occurredAtUs <= a.atUs - 365 * 86400000000) AS ordersBefore,
           (SELECT count(*) FROM potential_item i WHERE i.customerId = m.customerId AND i.kind = 'declined'
              AND i.occurredAtUs > a.atUs - 365 * 86400000000) AS declined
    FROM potential_machine m JOIN potential_asof a
    GROUP BY m.customerId
);
