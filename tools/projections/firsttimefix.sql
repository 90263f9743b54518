-- name: firsttimefix
-- description: Technician first-time-fix rate and lateness per technician, region (the customer's country) and quarter.
-- One row per completed visit, kept so that a correction moves a visit between groups.
CREATE TABLE firsttimefix_visit (
    position    INTEGER PRIMARY KEY,
    customerId  TEXT    NOT NULL,
    technician  TEXT    NOT NULL,
    region      TEXT    NOT NULL,
    quarter     TEXT    NOT NULL,
    firstVisit  INTEGER NOT NULL,  -- 1 for the first completed visit of its case (or a visit without a case)
    fixed       INTEGER NOT NULL,
    minutesLate INTEGER
);
CREATE INDEX firsttimefix_bycustomer ON firsttimefix_visit (customerId);
CREATE INDEX firsttimefix_bygroup ON firsttimefix_visit (technician, region, quarter);
-- Groups to recompute: where the batch's customers' visits were, and where they are now.
CREATE TABLE firsttimefix_dirty (technician TEXT NOT NULL, region TEXT NOT NULL, quarter TEXT NOT NULL,
                                 PRIMARY KEY (technician, region, quarter));
CREATE TABLE firsttimefix_technician (
    technician     TEXT    NOT NULL,
    region         TEXT    NOT NULL,
    quarter        TEXT    NOT NULL,
    visits         INTEGER NOT NULL,
    firstVisits    INTEGER NOT NULL,
    firstTimeFixes INTEGER NOT NULL,  -- first visits that fixed the machine
    ftfRate        REAL,              -- firstTimeFixes / firstVisits
    lateVisits     INTEGER NOT NULL,  -- arrived after the promised time
    avgMinutesLate REAL,              -- over the visits with both times
    PRIMARY KEY (technician, region, quarter)
);

INSERT OR IGNORE INTO firsttimefix_dirty
SELECT technician, region, quarter FROM firsttimefix_visit WHERE customerId IN batch_customers;

DELETE FROM firsttimefix_visit WHERE customerId IN batch_customers;

INSERT INTO firsttimefix_visit
SELECT v.position, v.customerId, coalesce(v.technician, '(unnamed)'), coalesce(r.country, '(unknown)'), v.occurredQuarter,
       v.caseId IS NULL OR v.position = min(v.position) OVER (PARTITION BY v.customerId, v.caseId),
       coalesce(v.fixed, 0), v.minutesLate
FROM analyst_visits v
LEFT JOIN (SELECT customerId, payload ->> '$.country' AS country,
                  row_number() OVER (PARTITION BY customerId ORDER BY position DESC) AS n
           FROM analyst_touchpoints WHERE customerId IN batch_customers AND type = 'customer.registered') r
  ON r.customerId = v.customerId AND r.n = 1
WHERE v.customerId IN batch_customers;

INSERT OR IGNORE INTO firsttimefix_dirty
SELECT technician, region, quarter FROM firsttimefix_visit WHERE customerId IN batch_customers;

DELETE FROM firsttimefix_technician WHERE (technician, region, quarter) IN (SELECT technician, region, quarter FROM firsttimefix_dirty);

INSERT INTO firsttimefix_technician
SELECT technician, region, quarter, count(*), sum(firstVisit), sum(firstVisit AND fixed),
       round(CAST(sum(firstVisit AND fixed) AS REAL) / nullif(sum(firstVisit), 0), 4),
       count(*) FILTER (WHERE minutesLate > 0), round(avg(minutesLate), 1)
FROM firsttimefix_visit
WHERE (technician, region, quarter) IN (SELECT technician, region, quarter FROM firsttimefix_dirty)
GROUP BY technician, region, quarter;

DELETE FROM firsttimefix_dirty;
