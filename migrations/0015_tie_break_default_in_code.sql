-- The default tie-break chain is defined once, in competitions/rules.py, and the service always
-- writes a competition's chain; the column's own default ('median' alone) disagreed with it.
ALTER TABLE competition ALTER COLUMN tie_break DROP DEFAULT;
