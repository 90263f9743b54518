-- name: csi
-- description: CSI (1–5) and recommend (0–10, NPS-style promoters − detractors) per ABC segment and quarter, with response counts. A customer's segment in a quarter ranks the invoiced revenue of that quarter and the three before it (A: the customers making the first 80 % of it, B: the next 15 %, C: the rest and customers without revenue).
-- Quarters are numbered year × 4 + quarter − 1, so that "the three before" is arithmetic.
CREATE TABLE csi_revenue (
    customerId TEXT    NOT NULL,
    q          INTEGER NOT NULL,
    revenue    REAL    NOT NULL,
    PRIMARY KEY (customerId, q)
);
CREATE TABLE csi_survey (
    position   INTEGER PRIMARY KEY,
    customerId TEXT    NOT NULL,
    q          INTEGER NOT NULL,
    csi        INTEGER,
    recommend  INTEGER
);
CREATE INDEX csi_surveycustomer ON csi_survey (customerId);
CREATE INDEX csi_surveyquarter ON csi_survey (q);
CREATE INDEX csi_revenuequarter ON csi_revenue (q);
-- The segment of each customer with revenue in the window, per quarter (others are C).
CREATE TABLE csi_segment (
    q               INTEGER NOT NULL,
    quarter         TEXT    NOT NULL,
    customerId      TEXT    NOT NULL,
    trailingRevenue REAL    NOT NULL,
    segment         TEXT    NOT NULL,
    PRIMARY KEY (q, customerId)
);
CREATE TABLE csi_dirty (q INTEGER PRIMARY KEY);
-- The batch's customers' revenue and answers before the fold, to find what it changed.
CREATE TABLE csi_before (kind TEXT NOT NULL, customerId TEXT NOT NULL, q INTEGER NOT NULL, value);
CREATE INDEX csi_beforecustomer ON csi_before (customerId, kind, q);
CREATE TABLE csi_quarter (
    segment            TEXT    NOT NULL,
    quarter            TEXT    NOT NULL,
    q                  INTEGER NOT NULL,
    responses          INTEGER NOT NULL,
    csiResponses       INTEGER NOT NULL,
    avgCsi             REAL,
    recommendResponses INTEGER NOT NULL,
    promoters          INTEGER NOT NULL,  -- recommend 9–10
    detractors         INTEGER NOT NULL,  -- recommend 0–6
    nps                REAL,              -- 100 × (promoters − detractors) / recommendResponses
    PRIMARY KEY (segment, q)
);

INSERT INTO csi_before
SELECT 'revenue', customerId, q, revenue FROM csi_revenue WHERE customerId IN batch_customers
UNION ALL
SELECT 'survey', customerId, q, position || ' ' || quote(csi) || ' ' || quote(recommend) FROM csi_survey WHERE customerId IN batch_customers;

DELETE FROM csi_revenue WHERE customerId IN batch_customers;
INSERT INTO csi_revenue
SELECT customerId, CAST(substr(occurredQuarter, 1, 4) AS INTEGER) * 4 + CAST(substr(occurredQuarter, 7, 1) AS INTEGER) - 1 AS q, total(amount)
FROM analyst_invoices WHERE customerId IN batch_customers
GROUP BY customerId, q;

DELETE FROM csi_survey WHERE customerId IN batch_customers;
INSERT INTO csi_survey
SELECT position, customerId, CAST(substr(occurredQuarter, 1, 4) AS INTEGER) * 4 + CAST(substr(occurredQuarter, 7, 1) AS INTEGER) - 1,
       csi, recommend
FROM analyst_surveys WHERE customerId IN batch_customers;

-- Quarters to recompute: those of the rows the batch changed — added, or gone since before it; a
-- changed revenue also counts in the three quarters after, whose segments rank it.
INSERT OR IGNORE INTO csi_dirty
SELECT s.q FROM csi_survey s
WHERE s.customerId IN batch_customers
  AND NOT EXISTS (SELECT 1 FROM csi_before b
                  WHERE b.customerId = s.customerId AND b.kind = 'survey' AND b.q = s.q
                    AND b.value = s.position || ' ' || quote(s.csi) || ' ' || quote(s.recommend))
UNION
SELECT b.q FROM csi_before b
WHERE b.kind = 'survey'
  AND NOT EXISTS (SELECT 1 FROM csi_survey s
                  WHERE s.customerId = b.customerId AND s.q = b.q
                    AND b.value = s.position || ' ' || quote(s.csi) || ' ' || quote(s.recommend))
UNION
SELECT r.q + k.value FROM csi_revenue r, json_each('[0,1,2,3]') k
WHERE r.customerId IN batch_customers
  AND NOT EXISTS (SELECT 1 FROM csi_before b WHERE b.customerId = r.customerId AND b.kind = 'revenue' AND b.q = r.q AND b.value = r.revenue)
UNION
SELECT b.q + k.value FROM csi_before b, json_each('[0,1,2,3]') k
WHERE b.kind = 'revenue'
  AND NOT EXISTS (SELECT 1 FROM csi_revenue r WHERE r.customerId = b.customerId AND r.q = b.q AND r.revenue = b.value);
DELETE FROM csi_before;

DELETE FROM csi_segment WHERE q IN (SELECT q FROM csi_dirty);
INSERT INTO csi_segment
SELECT q, (q / 4) || '-Q' || (q % 4 + 1), customerId, revenue,
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
          FROM csi_dirty d JOIN csi_revenue r ON r.q BETWEEN d.q - 3 AND d.q
          GROUP BY d.q, r.customerId)
);

DELETE FROM csi_quarter WHERE q IN (SELECT q FROM csi_dirty);
INSERT INTO csi_quarter
SELECT coalesce(g.segment, 'C'), (s.q / 4) || '-Q' || (s.q % 4 + 1), s.q, count(*), count(s.csi), round(avg(s.csi), 2),
       count(s.recommend), count(*) FILTER (WHERE s.recommend >= 9), count(*) FILTER (WHERE s.recommend <= 6),
       round(100.0 * (count(*) FILTER (WHERE s.recommend >= 9) - count(*) FILTER (WHERE s.recommend <= 6)) / nullif(count(s.recommend), 0), 1)
FROM csi_survey s LEFT JOIN csi_segment g ON g.q = s.q AND g.customerId = s.customerId
WHERE s.q IN (SELECT q FROM csi_dirty)
GROUP BY 1, s.q;

DELETE FROM csi_dirty;
