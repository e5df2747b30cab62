-- 004-check-lists.sql -- schema version 4 (issue 11): the same CHECKs,
-- spelled as comparisons joined by OR instead of IN lists.
--
-- SQLite evaluates `x IN (a, b, c, ...)` -- a list of more than two
-- constants -- by building a temporary b-tree of the list, every time the
-- statement runs: a CHECK on purchases.state and purchases.open, and one
-- on numbers.status, so built up to three of them for every row a
-- purchase writes (the claim, each step, the finish, the number). Measured
-- with SQLite 3.40: an UPDATE of purchases took 3.8 us against 0.5 us with
-- the comparisons. What the constraints allow is unchanged.
-- SQLite cannot change a CHECK in place: both tables are rebuilt (foreign
-- keys are off while the migration runs, and checked before it commits),
-- their indexes made again.

CREATE TABLE purchases_v4 (
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
	state            TEXT NOT NULL CHECK (state = 'pending' OR state = 'subscribed' OR
	                     state = 'provisioned' OR state = 'paid' OR state = 'complete' OR
	                     state = 'voiding' OR state = 'compensating' OR state = 'failed' OR
	                     state = 'releasing' OR state = 'released'),
	outcome          TEXT,
	subscription_id  TEXT,
	invoice_id       TEXT,
	number_sid       TEXT,
	period_end       INTEGER,
	lease_token      INTEGER NOT NULL DEFAULT 0,
	lease_until      INTEGER NOT NULL DEFAULT 0,
	settle_at        INTEGER NOT NULL DEFAULT 0,
	open             INTEGER NOT NULL DEFAULT 1 CHECK (open = (state = 'pending' OR
	                     state = 'subscribed' OR state = 'provisioned' OR state = 'paid' OR
	                     state = 'voiding' OR state = 'compensating' OR state = 'releasing')),
	live             INTEGER NOT NULL DEFAULT 1 CHECK (live = (state <> 'failed' AND
	                     state <> 'released')),
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL,
	region           TEXT
);
INSERT INTO purchases_v4 (id, account_id, nonce, phone_number, country_code, type, price_cents,
	stripe_price_id, sms_capable, stripe_customer, payment_method, state, outcome,
	subscription_id, invoice_id, number_sid, period_end, lease_token, lease_until, settle_at,
	open, live, created_at, updated_at, region)
	SELECT id, account_id, nonce, phone_number, country_code, type, price_cents,
	stripe_price_id, sms_capable, stripe_customer, payment_method, state, outcome,
	subscription_id, invoice_id, number_sid, period_end, lease_token, lease_until, settle_at,
	open, live, created_at, updated_at, region FROM purchases;
DROP TABLE purchases;
ALTER TABLE purchases_v4 RENAME TO purchases;
CREATE UNIQUE INDEX purchases_live_number ON purchases (phone_number) WHERE live = 1;
CREATE INDEX purchases_unfinished ON purchases (lease_until) WHERE open = 1;
CREATE INDEX purchases_account ON purchases (account_id, created_at);

CREATE TABLE numbers_v4 (
	id                    INTEGER PRIMARY KEY,
	account_id            INTEGER NOT NULL REFERENCES accounts(id),
	purchase_id           INTEGER NOT NULL UNIQUE REFERENCES purchases(id),
	phone_number          TEXT NOT NULL,
	country_code          TEXT NOT NULL,
	type                  TEXT NOT NULL,
	region                TEXT,
	sms_capable           INTEGER NOT NULL,
	price_cents           INTEGER NOT NULL,
	status                TEXT NOT NULL CHECK (status = 'active' OR status = 'past_due' OR
	                          status = 'release_scheduled' OR status = 'released'),
	nickname              TEXT CHECK (nickname IS NULL OR length(nickname) BETWEEN 1 AND 50),
	subscription_id       TEXT NOT NULL,
	number_sid            TEXT NOT NULL,
	period_end            INTEGER,
	cancel_at_period_end  INTEGER NOT NULL DEFAULT 0,
	release_reason        TEXT,
	released_at           INTEGER,
	created_at            INTEGER NOT NULL,
	updated_at            INTEGER NOT NULL
);
INSERT INTO numbers_v4 (id, account_id, purchase_id, phone_number, country_code, type, region,
	sms_capable, price_cents, status, nickname, subscription_id, number_sid, period_end,
	cancel_at_period_end, release_reason, released_at, created_at, updated_at)
	SELECT id, account_id, purchase_id, phone_number, country_code, type, region,
	sms_capable, price_cents, status, nickname, subscription_id, number_sid, period_end,
	cancel_at_period_end, release_reason, released_at, created_at, updated_at FROM numbers;
DROP TABLE numbers;
ALTER TABLE numbers_v4 RENAME TO numbers;
CREATE INDEX numbers_account ON numbers (account_id, id);
CREATE INDEX numbers_period_end ON numbers (period_end) WHERE status <> 'released';
