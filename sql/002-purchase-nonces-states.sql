-- 002-purchase-nonces-states.sql -- schema version 2 (issue 9).
--
-- purchases gains:
--   nonce      128 random bits (hex) drawn at the claim: the purchase's
--              Stripe Idempotency-Keys are purchase-<nonce>-<step>, unique
--              for ever across databases, restored backups and reused row
--              ids. NULL for purchases made before this version, whose keys
--              name the row id (purchase-<id>-<step>) and keep doing so.
--   settle_at  the time after which no provider request of an earlier
--              worker (one that died, or timed out waiting) can still land:
--              a number is only concluded "not bought" from a lookup made
--              after it.
--   states     voiding (refused; the invoice is being voided so that no
--              payment can land while the rest is undone), releasing and
--              released (the number's life after the purchase).
--   open, live what the partial indexes are on, instead of state: 1 while
--              the purchase needs work (recovery's index), 1 while it holds
--              its number (the race's index). SQLite rewrites an index
--              entry whenever an UPDATE sets a column of its WHERE clause,
--              so a state change in the middle of a purchase (pending ->
--              provisioned) would rewrite both; these two change only at
--              the ends. CHECKs keep them equal to what the state says.
-- SQLite cannot change a CHECK in place: the table is rebuilt (the
-- documented procedure: foreign keys are off while the migration runs,
-- and checked before it commits).

CREATE TABLE purchases_v2 (
	id               INTEGER PRIMARY KEY,
	account_id       INTEGER NOT NULL REFERENCES accounts(id),
	nonce            TEXT CHECK (nonce IS NULL OR length(nonce) = 32),
	phone_number     TEXT NOT NULL,
	country_code     TEXT NOT NULL,
	type             TEXT NOT NULL,
	price_cents      INTEGER NOT NULL,
	stripe_price_id  TEXT NOT NULL,
	sms_capable      INTEGER NOT NULL,
	stripe_customer  TEXT NOT NULL,
	payment_method   TEXT NOT NULL,
	state            TEXT NOT NULL CHECK (state IN ('pending', 'subscribed', 'provisioned',
	                     'paid', 'complete', 'voiding', 'compensating', 'failed',
	                     'releasing', 'released')),
	outcome          TEXT,
	subscription_id  TEXT,
	invoice_id       TEXT,
	number_sid       TEXT,
	period_end       INTEGER,
	lease_token      INTEGER NOT NULL DEFAULT 0,
	lease_until      INTEGER NOT NULL DEFAULT 0,
	settle_at        INTEGER NOT NULL DEFAULT 0,
	open             INTEGER NOT NULL DEFAULT 1 CHECK (open = (state IN ('pending',
	                     'subscribed', 'provisioned', 'paid', 'voiding', 'compensating',
	                     'releasing'))),
	live             INTEGER NOT NULL DEFAULT 1 CHECK (live = (state NOT IN ('failed',
	                     'released'))),
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
);
INSERT INTO purchases_v2 (id, account_id, nonce, phone_number, country_code, type, price_cents,
	stripe_price_id, sms_capable, stripe_customer, payment_method, state, outcome,
	subscription_id, invoice_id, number_sid, period_end, lease_token, lease_until, settle_at,
	open, live, created_at, updated_at)
	SELECT id, account_id, NULL, phone_number, country_code, type, price_cents,
	stripe_price_id, sms_capable, stripe_customer, payment_method, state, outcome,
	subscription_id, invoice_id, number_sid, period_end, lease_token, lease_until, 0,
	state IN ('pending', 'subscribed', 'provisioned', 'paid', 'compensating'),
	state NOT IN ('failed', 'released'), created_at, updated_at FROM purchases;
DROP TABLE purchases;
ALTER TABLE purchases_v2 RENAME TO purchases;
CREATE UNIQUE INDEX purchases_live_number ON purchases (phone_number) WHERE live = 1;
CREATE INDEX purchases_unfinished ON purchases (lease_until) WHERE open = 1;
CREATE INDEX purchases_account ON purchases (account_id, created_at);
