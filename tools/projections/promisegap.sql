-- name: promisegap
-- description: The promise gap per dimension (SERVQUAL-style expectation minus perception, read from the log): technician arrival against the promised time, part delivery against the promised date, call-back by the promised time (the next touchpoint of the call's case), complaint resolution within the 14 days customers expect; per quarter of the promise, the customer's ABC segment in that quarter (as in csi: invoiced revenue of the quarter and the three before it, A the first 80 %, B the next 15 %, C the rest and customers without revenue) and technician (arrivals), with promises kept and the mean gap.
-- Quarters are numbered year × 4 + quarter − 1, so that "the three before" is arithmetic.
-- One row per promise, so that a correction or a late answer moves it.
CREATE TABLE promisegap_promise (
    position   INTEGER PRIMARY KEY,  -- the touchpoint that made or settled the promise
    customerId TEXT    NOT NULL,
    dimension  TEXT    NOT NULL,     -- arrival, delivery, callback, complaint
    q          INTEGER NOT NULL,
    technician TEXT    NOT NULL,     -- arrivals only, else ''
    gapHours   REAL,                 -- actual − promised, in hours (NULL while unsettled)
    kept       INTEGER               -- 1 when the actual time was within the promise
);
CREATE INDEX promisegap_promisecustomer ON promisegap_promise (customerId);
CREATE INDEX promisegap_promisequarter ON promisegap_promise (q);
CREATE TABLE promisegap_revenue (customerId TEXT NOT NULL, q INTEGER NOT NULL, revenue REAL NOT NULL, PRIMARY KEY (customerId, q));
CREATE INDEX promisegap_revenuequarter ON promisegap_revenue (q);
-- The segment of each customer with revenue in the window, per quarter (others are C).
CREATE TABLE promisegap_segment (q INTEGER NOT NULL, customerId TEXT NOT NULL, segment TEXT NOT NULL, PRIMARY KEY (q, customerId));
CREATE TABLE promisegap_dirty (q INTEGER PRIMARY KEY);
-- The batch's customers' promises and revenue before the fold, to find what it changed.
CREATE TABLE promisegap_before (kind TEXT NOT NULL, customerId TEXT NOT NULL, q INTEGER NOT NULL, value);
CREATE INDEX promisegap_beforecustomer ON promisegap_before (customerId, kind, q);
CREATE TABLE promisegap_quarter (
    dimension    TEXT    NOT NULL,
    quarter      TEXT    NOT NULL,
    q            INTEGER NOT NULL,
    segment      TEXT    NOT NULL,
    technician   TEXT    NOT NULL,
    promises     INTEGER NOT NULL,
    settled      INTEGER NOT NULL,
    kept         INTEGER NOT NULL,
    keptShare    REAL,              -- kept / settled
    meanGapHours REAL,              -- over settled promises; positive: later than promised
    PRIMARY KEY (dimension, q, segment, technician)
);

INSERT INTO promisegap_before
SELECT 'promise', customerId, q, position || ' ' || dimension || ' ' || technician || ' ' || quote(gapHours) || ' ' || quote(kept)
FROM promisegap_promise WHERE customerId IN batch_customers
UNION ALL
SELECT 'revenue', customerId, q, revenue FROM promisegap_revenue WHERE customerId IN batch_customers;
DELETE FROM promisegap_promise WHERE customerId IN batch_customers;
DELETE FROM promisegap_revenue WHERE customerId IN batch_customers;

INSERT INTO promisegap_revenue
SELECT customerId, CAST(substr(occurredQuarter, 1, 4) AS INTEGER) * 4 + CAST(substr(occurredQuarter, 7, 1) AS INTEGER) - 1 AS q, total(amount)
FROM analyst_invoices WHERE customerId IN batch_customers
GROUP BY customerId, q;

-- Arrivals against the promised time (to the minute), part deliveries against the promised date,
-- complaints against the 14 days customers expect for a resolution (unsettled while unresolved).
INSERT INTO promisegap_promise
SELECT position, customerId, dimension, q, technician, round(gapHours, 2), gapHours <= 0
FROM (SELECT position, customerId, type,
             CASE type WHEN 'part.delivered' THEN 'delivery' WHEN 'technician.visit.completed' THEN 'arrival' ELSE 'complaint' END AS dimension,
             CAST(substr(occurredQuarter, 1, 4) AS INTEGER) * 4 + CAST(substr(occurredQuarter, 7, 1) AS INTEGER) - 1 AS q,
             CASE type WHEN 'technician.visit.completed' THEN coalesce(payload ->> '$.technician', '(unnamed)') ELSE '' END AS technician,
             CASE type
                  WHEN 'part.delivered' THEN 24 * (julianday(payload ->> '$.actualDate') - julianday(payload ->> '$.promisedDate'))
                  WHEN 'technician.visit.completed'
                  THEN round((julianday(payload ->> '$.actualArrival') - julianday(payload ->> '$.promisedArrival')) * 1440) / 60.0
                  WHEN 'complaint.filed' THEN CASE WHEN payload ->> '$.complaintId' IS NOT NULL THEN
                       (min(CASE WHEN type = 'complaint.resolved' THEN occurredAtUs END) OVER complaint - occurredAtUs) / 3600000000.0 - 14 * 24 END
             END AS gapHours
      FROM analyst_touchpoints
      WHERE customerId IN batch_customers
        AND type IN ('technician.visit.completed', 'part.delivered', 'complaint.filed', 'complaint.resolved')
      WINDOW complaint AS (PARTITION BY customerId, CASE WHEN type LIKE 'complaint.%' THEN payload ->> '$.complaintId' END))
WHERE type <> 'complaint.resolved' AND (type <> 'technician.visit.completed' OR gapHours IS NOT NULL);

-- A call-back is kept when the next touchpoint of the call's case comes by the promised time (a call
-- without a case: the customer's next touchpoint).
INSERT INTO promisegap_promise
SELECT position, customerId, 'callback', q, '',
       round((nextUs - promisedUs) / 3600000000.0, 2), nextUs IS NOT NULL AND nextUs <= promisedUs + 1
FROM (SELECT c.position, c.customerId,
             CAST(substr(c.occurredQuarter, 1, 4) AS INTEGER) * 4 + CAST(substr(c.occurredQuarter, 7, 1) AS INTEGER) - 1 AS q,
             (julianday(c.payload ->> '$.callbackPromisedBy') - 2440587.5) * 86400000000.0 AS promisedUs,
             CASE WHEN c.caseId IS NOT NULL THEN n.nextUs
                  ELSE (SELECT min(b.occurredAtUs) FROM analyst_touchpoints b
                        WHERE b.customerId = c.customerId AND b.occurredAtUs > c.occurredAtUs) END AS nextUs
      FROM (SELECT position, type = 'hotline.call.received' AS isCall,
                   first_value(occurredAtUs) OVER (PARTITION BY customerId, caseId ORDER BY occurredAtUs
                                                   RANGE BETWEEN 1 FOLLOWING AND UNBOUNDED FOLLOWING) AS nextUs
            FROM analyst_touchpoints
            WHERE customerId IN batch_customers AND (caseId IS NOT NULL OR type = 'hotline.call.received')) n
      JOIN analyst_touchpoints c ON c.position = n.position
      WHERE n.isCall AND c.payload ->> '$.callbackPromisedBy' IS NOT NULL);

-- Quarters to recompute: those of the rows the batch changed — added, or gone since before it; a
-- changed revenue also counts in the three quarters after, whose segments rank it.
INSERT OR IGNORE INTO promisegap_dirty
SELECT p.q FROM promisegap_promise p
WHERE p.customerId IN batch_customers
  AND NOT EXISTS (SELECT 1 FROM promisegap_before b
                  WHERE b.customerId = p.customerId AND b.kind = 'promise' AND b.q = p.q
                    AND b.value = p.position || ' ' || p.dimension || ' ' || p.technician || ' ' || quote(p.gapHours) || ' ' || quote(p.kept))
UNION
SELECT b.q FROM promisegap_before b
WHERE b.kind = 'promise'
  AND NOT EXISTS (SELECT 1 FROM promisegap_promise p
                  WHERE p.customerId = b.customerId AND p.q = b.q
                    AND b.value = p.position || ' ' || p.dimension || ' ' || p.technician || ' ' || quote(p.gapHours) || ' ' || quote(p.kept))
UNION
SELECT r.q + k.value FROM promisegap_revenue r, json_each('[0,1,2,3]') k
WHERE r.customerId IN batch_customers
  AND NOT EXISTS (SELECT 1 FROM promisegap_before b WHERE b.customerId = r.customerId AND b.kind = 'revenue' AND b.q = r.q AND b.value = r.revenue)
UNION
SELECT b.q + k.value FROM promisegap_before b, json_each('[0,1,2,3]') k
WHERE b.kind = 'revenue'
  AND NOT EXISTS (SELECT 1 FROM promisegap_revenue r WHERE r.customerId = b.customerId AND r.q = b.q AND r.revenue = b.value);
DELETE FROM promisegap_before;

DELETE FROM promisegap_segment WHERE q IN (SELECT q FROM promisegap_dirty);
INSERT INTO promisegap_segment
SELECT q, customerId,
       CASE WHEN revenue <= 0 THEN 'C'
            WHEN coalesce(before, 0) < 0.8 * total THEN 'A'
            WHEN coalesce(before, 0) < 0.95 * total THEN 'B'
            ELSE 'C' END
FROM (
    SELECT q, customerId, revenue,
           sum(max(revenue, 0)) OVER (PARTITION BY q ORDER BY revenue DESC, customerId
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS before,
           sum(max(revenue, 0)) OVER (PARTITION BY q) AS total
    FROM (SELECT d.q, r.customerId, total(r.revenue) AS revenue
          FROM promisegap_dirty d JOIN promisegap_revenue r ON r.q BETWEEN d.q - 3 AND d.q
          GROUP BY d.q, r.customerId)
);

DELETE FROM promisegap_quarter WHERE q IN (SELECT q FROM promisegap_dirty);
INSERT INTO promisegap_quarter
SELECT p.dimension, (p.q / 4) || '-Q' || (p.q % 4 + 1), p.q, coalesce(g.segment, 'C'), p.technician,
       count(*), count(p.gapHours), sum(coalesce(p.kept, 0)),
       round(CAST(sum(coalesce(p.kept, 0)) AS REAL) / nullif(count(p.gapHours), 0), 4), round(avg(p.gapHours), 2)
FROM promisegap_promise p LEFT JOIN promisegap_segment g ON g.q = p.q AND g.customerId = p.customerId
WHERE p.q IN (SELECT q FROM promisegap_dirty)
GROUP BY p.dimension, p.q, 4, p.technician;
DELETE FROM promisegap_dirty;
