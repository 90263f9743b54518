-- name: cadence
-- description: Contact cadence against the ABC policy, as of the newest touchpoint in the log: proactive contacts (maintenance, training, inspection and retrofit visits) per customer in the trailing 12 months; A customers are due two a year, B one; lost or silent C customers with past revenue are to be reactivated.
-- The newest occurredAt folded: the date the cadence is measured at.
CREATE TABLE cadence_asof (id INTEGER PRIMARY KEY CHECK (id = 1), atUs INTEGER NOT NULL);
CREATE TABLE cadence_contact (position INTEGER PRIMARY KEY, customerId TEXT NOT NULL, occurredAtUs INTEGER NOT NULL);
CREATE INDEX cadence_contactcustomer ON cadence_contact (customerId);
CREATE TABLE cadence_invoice (position INTEGER PRIMARY KEY, customerId TEXT NOT NULL, occurredAtUs INTEGER NOT NULL, amount REAL NOT NULL);
CREATE INDEX cadence_invoicecustomer ON cadence_invoice (customerId);
CREATE TABLE cadence_state (customerId TEXT PRIMARY KEY, lastTouchUs INTEGER NOT NULL, lost INTEGER NOT NULL);
CREATE TABLE cadence_customer (
    customerId        TEXT PRIMARY KEY,
    segment           TEXT    NOT NULL,  -- ABC by invoiced revenue of the trailing 12 months (80 % / 95 %)
    trailingRevenue   REAL    NOT NULL,
    pastRevenue       REAL    NOT NULL,  -- all invoiced revenue
    proactiveContacts INTEGER NOT NULL,  -- in the trailing 12 months
    due               INTEGER NOT NULL,  -- proactive contacts a year the segment calls for
    lastTouchpoint    TEXT    NOT NULL,  -- UTC
    status            TEXT    NOT NULL   -- ok, overdue, reactivate, lost
);

-- "Now" is the latest touchpoint of a customer: the journal's own streams (journal:privacy, journal:config) record today's date.
INSERT INTO cadence_asof (id, atUs) SELECT 1, max(occurredAtUs) FROM batch WHERE customerId NOT LIKE 'journal:%' HAVING count(*) > 0
ON CONFLICT (id) DO UPDATE SET atUs = max(atUs, excluded.atUs);

DELETE FROM cadence_contact WHERE customerId IN batch_customers;
INSERT INTO cadence_contact
SELECT position, customerId, occurredAtUs FROM analyst_touchpoints
WHERE customerId IN batch_customers
  AND (type IN ('maintenance.performed', 'training.completed')
       OR (type = 'technician.visit.scheduled' AND payload ->> '$.reason' IN ('inspection', 'retrofit')));

DELETE FROM cadence_invoice WHERE customerId IN batch_customers;
INSERT INTO cadence_invoice
SELECT position, customerId, occurredAtUs, coalesce(amount, 0) FROM analyst_invoices WHERE customerId IN batch_customers;

-- Lost: the latest of customer.lost / customer.reactivated (by time, then position) is a loss.
DELETE FROM cadence_state WHERE customerId IN batch_customers;
INSERT INTO cadence_state
SELECT customerId, max(occurredAtUs),
       coalesce(substr(max(CASE WHEN type IN ('customer.lost', 'customer.reactivated')
                                THEN printf('%020d %020d ', occurredAtUs, position) || type END), 43) = 'customer.lost', 0)
FROM analyst_touchpoints WHERE customerId IN batch_customers
GROUP BY customerId;

-- The measuring date moves with every batch: every customer is measured again (one row each).
DELETE FROM cadence_customer;
INSERT INTO cadence_customer
SELECT customerId,
       CASE WHEN trailing <= 0 THEN 'C' WHEN before < 0.8 * total THEN 'A' WHEN before < 0.95 * total THEN 'B' ELSE 'C' END AS segment,
       trailing, past, contacts,
       CASE WHEN trailing <= 0 THEN 0 WHEN before < 0.8 * total THEN 2 WHEN before < 0.95 * total THEN 1 ELSE 0 END AS due,
       strftime('%Y-%m-%dT%H:%M:%SZ', lastTouchUs / 1000000, 'unixepoch'),
       CASE WHEN lost = 1 AND past > 0 AND (trailing <= 0 OR before >= 0.95 * total) THEN 'reactivate'
            WHEN lost = 1 THEN 'lost'
            WHEN trailing <= 0 OR before >= 0.95 * total THEN
                 CASE WHEN past > 0 AND lastTouchUs <= atUs - 365 * 86400000000 THEN 'reactivate' ELSE 'ok' END
            WHEN contacts < (CASE WHEN before < 0.8 * total THEN 2 ELSE 1 END) THEN 'overdue'
            ELSE 'ok' END
FROM (
    SELECT s.customerId, s.lastTouchUs, s.lost, a.atUs, r.trailing, r.past,
           (SELECT count(*) FROM cadence_contact c WHERE c.customerId = s.customerId AND c.occurredAtUs > a.atUs - 365 * 86400000000) AS contacts,
           coalesce(sum(max(r.trailing, 0)) OVER (ORDER BY r.trailing DESC, s.customerId ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING), 0) AS before,
           sum(max(r.trailing, 0)) OVER () AS total
    FROM cadence_state s
    JOIN cadence_asof a
    JOIN (SELECT st.customerId,
                 (SELECT total(i.amount) FROM cadence_invoice i, cadence_asof x
                  WHERE i.customerId = st.customerId AND i.occurredAtUs > x.atUs - 365 * 86400000000 AND i.occurredAtUs <= x.atUs) AS trailing,
                 (SELECT total(i.amount) FROM cadence_invoice i WHERE i.customerId = st.customerId) AS past
          FROM cadence_state st) r ON r.customerId = s.customerId
);
