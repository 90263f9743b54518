-- name: promisegap
-- description: The promise gap per dimension (SERVQUAL-style expectation minus perception, read from the log): technician arrival against the promised time, part delivery against the promised date, call-back by the promised time, complaint resolution within the 14 days customers expect; per quarter of the promise and technician (arrivals), with promises kept and the mean gap.
-- One row per promise, so that a correction or a late answer moves it.
CREATE TABLE promisegap_promise (
    position   INTEGER PRIMARY KEY,  -- the touchpoint that made or settled the promise
    customerId TEXT    NOT NULL,
    dimension  TEXT    NOT NULL,     -- arrival, delivery, callback, complaint
    quarter    TEXT    NOT NULL,
    technician TEXT    NOT NULL,     -- arrivals only, else ''
    gapHours   REAL,                 -- actual − promised, in hours (NULL while unsettled)
    kept       INTEGER               -- 1 when the actual time was within the promise
);
CREATE INDEX promisegap_promisecustomer ON promisegap_promise (customerId);
CREATE INDEX promisegap_promisegroup ON promisegap_promise (dimension, quarter, technician);
CREATE TABLE promisegap_dirty (dimension TEXT NOT NULL, quarter TEXT NOT NULL, technician TEXT NOT NULL,
                               PRIMARY KEY (dimension, quarter, technician));
CREATE TABLE promisegap_quarter (
    dimension   TEXT    NOT NULL,
    quarter     TEXT    NOT NULL,
    technician  TEXT    NOT NULL,
    promises    INTEGER NOT NULL,
    settled     INTEGER NOT NULL,
    kept        INTEGER NOT NULL,
    keptShare   REAL,              -- kept / settled
    meanGapHours REAL,             -- over settled promises; positive: later than promised
    PRIMARY KEY (dimension, quarter, technician)
);

INSERT OR IGNORE INTO promisegap_dirty
SELECT dimension, quarter, technician FROM promisegap_promise WHERE customerId IN batch_customers;
DELETE FROM promisegap_promise WHERE customerId IN batch_customers;

INSERT INTO promisegap_promise
SELECT position, customerId, 'arrival', occurredQuarter, coalesce(technician, '(unnamed)'),
       round(minutesLate / 60.0, 2), minutesLate <= 0
FROM analyst_visits WHERE customerId IN batch_customers AND minutesLate IS NOT NULL;

INSERT INTO promisegap_promise
SELECT position, customerId, 'delivery', occurredQuarter, '',
       24 * (julianday(payload ->> '$.actualDate') - julianday(payload ->> '$.promisedDate')),
       payload ->> '$.actualDate' <= payload ->> '$.promisedDate'
FROM analyst_touchpoints WHERE customerId IN batch_customers AND type = 'part.delivered';

-- A call-back is kept when the customer's next touchpoint after the call comes by the promised time.
INSERT INTO promisegap_promise
SELECT c.position, c.customerId, 'callback', c.occurredQuarter, '',
       round((n.nextUs - (julianday(c.payload ->> '$.callbackPromisedBy') - 2440587.5) * 86400000000.0) / 3600000000.0, 2),
       n.nextUs IS NOT NULL AND n.nextUs <= (julianday(c.payload ->> '$.callbackPromisedBy') - 2440587.5) * 86400000000.0 + 1
FROM analyst_touchpoints c
LEFT JOIN (SELECT a.position, (SELECT min(b.occurredAtUs) FROM analyst_touchpoints b
                               WHERE b.customerId = a.customerId AND b.occurredAtUs > a.occurredAtUs) AS nextUs
           FROM analyst_touchpoints a
           WHERE a.customerId IN batch_customers AND a.type = 'hotline.call.received'
             AND a.payload ->> '$.callbackPromisedBy' IS NOT NULL) n ON n.position = c.position
WHERE c.customerId IN batch_customers AND c.type = 'hotline.call.received'
  AND c.payload ->> '$.callbackPromisedBy' IS NOT NULL;

-- Customers expect a complaint resolved within 14 days.
INSERT INTO promisegap_promise
SELECT f.position, f.customerId, 'complaint', f.occurredQuarter, '',
       round((r.occurredAtUs - f.occurredAtUs) / 3600000000.0 - 14 * 24, 2),
       CASE WHEN r.occurredAtUs IS NULL THEN NULL ELSE r.occurredAtUs - f.occurredAtUs <= 14 * 86400000000 END
FROM analyst_touchpoints f
LEFT JOIN (SELECT customerId, payload ->> '$.complaintId' AS complaintId, min(occurredAtUs) AS occurredAtUs
           FROM analyst_touchpoints WHERE customerId IN batch_customers AND type = 'complaint.resolved'
           GROUP BY 1, 2) r ON r.customerId = f.customerId AND r.complaintId = f.payload ->> '$.complaintId'
WHERE f.customerId IN batch_customers AND f.type = 'complaint.filed';

INSERT OR IGNORE INTO promisegap_dirty
SELECT dimension, quarter, technician FROM promisegap_promise WHERE customerId IN batch_customers;

DELETE FROM promisegap_quarter WHERE (dimension, quarter, technician) IN (SELECT dimension, quarter, technician FROM promisegap_dirty);
INSERT INTO promisegap_quarter
SELECT dimension, quarter, technician, count(*), count(gapHours), sum(coalesce(kept, 0)),
       round(CAST(sum(coalesce(kept, 0)) AS REAL) / nullif(count(gapHours), 0), 4), round(avg(gapHours), 2)
FROM promisegap_promise
WHERE (dimension, quarter, technician) IN (SELECT dimension, quarter, technician FROM promisegap_dirty)
GROUP BY dimension, quarter, technician;
DELETE FROM promisegap_dirty;
