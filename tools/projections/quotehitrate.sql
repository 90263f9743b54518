-- name: quotehitrate
-- description: Quote hit rate (Angebots-Trefferquote) per customer and quarter the quote was sent, by count and by value; open quotes are counted as sent but not in the rates.
CREATE TABLE quotehitrate_quarter (
    customerId    TEXT    NOT NULL,
    quarter       TEXT    NOT NULL,
    sent          INTEGER NOT NULL,  -- quotes sent in the quarter
    answered      INTEGER NOT NULL,  -- of those, accepted or declined by now
    accepted      INTEGER NOT NULL,
    sentValue     REAL    NOT NULL,
    answeredValue REAL    NOT NULL,  -- quoted value of the answered quotes
    acceptedValue REAL    NOT NULL,  -- value accepted (the answer's amount where it names one)
    hitRate       REAL,              -- accepted / answered
    valueHitRate  REAL,              -- acceptedValue / answeredValue
    PRIMARY KEY (customerId, quarter)
);

-- Each batch recomputes the customers it touches from the corrected quotes: a late answer, a
-- correction of an amount and a void all land on the quarter the quote was sent in.
DELETE FROM quotehitrate_quarter WHERE customerId IN batch_customers;

INSERT INTO quotehitrate_quarter
SELECT customerId, occurredQuarter,
       count(*), count(outcome), count(*) FILTER (WHERE outcome = 'accepted'),
       round(total(amount), 2), round(total(amount) FILTER (WHERE outcome IS NOT NULL), 2), round(total(acceptedAmount), 2),
       round(CAST(count(*) FILTER (WHERE outcome = 'accepted') AS REAL) / nullif(count(outcome), 0), 4),
       round(total(acceptedAmount) / nullif(total(amount) FILTER (WHERE outcome IS NOT NULL), 0), 4)
FROM analyst_quotes
WHERE customerId IN batch_customers
GROUP BY customerId, occurredQuarter;
