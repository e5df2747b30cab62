-- schema.sql -- the purchase service's database, version 1.
--
-- Applied by `purchasectl init` (the library embeds this file at build
-- time). Later versions add numbered migrations (sql/NNN-*.sql) and bump
-- PRAGMA user_version; never edit a released version in place.

-- Customers of the platform. stripe_customer is their Stripe customer id.
CREATE TABLE accounts (
	id              INTEGER PRIMARY KEY,
	name            TEXT NOT NULL CHECK (length(name) BETWEEN 1 AND 200),
	stripe_customer TEXT NOT NULL CHECK (stripe_customer LIKE 'cus\_%' ESCAPE '\'),
	created_at      INTEGER NOT NULL
);

-- API keys: only a public prefix and the SHA-256 of the whole key are kept.
CREATE TABLE api_keys (
	id          INTEGER PRIMARY KEY,
	account_id  INTEGER NOT NULL REFERENCES accounts(id),
	prefix      TEXT NOT NULL UNIQUE,
	hash        TEXT NOT NULL CHECK (length(hash) = 64),
	created_at  INTEGER NOT NULL,
	revoked_at  INTEGER
);

-- The price list: monthly price per country and number type.
CREATE TABLE prices (
	country_code    TEXT NOT NULL CHECK (length(country_code) = 2),
	type            TEXT NOT NULL CHECK (type IN ('local', 'toll_free', 'mobile')),
	price_cents     INTEGER NOT NULL CHECK (price_cents > 0),
	stripe_price_id TEXT NOT NULL CHECK (stripe_price_id LIKE 'price\_%' ESCAPE '\'),
	PRIMARY KEY (country_code, type)
) WITHOUT ROWID;

-- Numbers a search showed an account, with the price it was shown.
CREATE TABLE offers (
	account_id           INTEGER NOT NULL,
	phone_number         TEXT NOT NULL,
	country_code         TEXT NOT NULL,
	type                 TEXT NOT NULL,
	price_cents          INTEGER NOT NULL,
	stripe_price_id      TEXT NOT NULL,
	sms_capable          INTEGER NOT NULL,
	expires_at           INTEGER NOT NULL,
	PRIMARY KEY (account_id, phone_number)
) WITHOUT ROWID;
CREATE INDEX offers_expiry ON offers (expires_at);

-- Per-account search rate window.
CREATE TABLE search_rate (
	account_id   INTEGER PRIMARY KEY,
	window_start INTEGER NOT NULL,
	count        INTEGER NOT NULL
);

-- One row per purchase attempt that got past the checks: the state machine
-- of DESIGN §3. lease_token fences writers: every update names the token it
-- holds, and taking over a purchase (recovery, a retried request) bumps it.
CREATE TABLE purchases (
	id               INTEGER PRIMARY KEY,
	account_id       INTEGER NOT NULL REFERENCES accounts(id),
	phone_number     TEXT NOT NULL,
	country_code     TEXT NOT NULL,
	type             TEXT NOT NULL,
	price_cents      INTEGER NOT NULL,
	stripe_price_id  TEXT NOT NULL,
	sms_capable      INTEGER NOT NULL,
	stripe_customer  TEXT NOT NULL,
	payment_method   TEXT NOT NULL,
	state            TEXT NOT NULL CHECK (state IN ('pending', 'subscribed', 'provisioned',
	                     'paid', 'complete', 'compensating', 'failed', 'released')),
	outcome          TEXT,           -- why a failed one failed
	subscription_id  TEXT,
	invoice_id       TEXT,
	number_sid       TEXT,
	period_end       INTEGER,
	lease_token      INTEGER NOT NULL DEFAULT 0,
	lease_until      INTEGER NOT NULL DEFAULT 0,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
);
-- The database decides a race for a number: at most one live purchase each.
CREATE UNIQUE INDEX purchases_live_number ON purchases (phone_number)
	WHERE state NOT IN ('failed', 'released');
CREATE INDEX purchases_unfinished ON purchases (lease_until)
	WHERE state IN ('pending', 'subscribed', 'provisioned', 'paid', 'compensating');
CREATE INDEX purchases_account ON purchases (account_id, created_at);

-- Numbers delivered to accounts (the API's phone-number resources).
CREATE TABLE numbers (
	id               INTEGER PRIMARY KEY,
	account_id       INTEGER NOT NULL REFERENCES accounts(id),
	purchase_id      INTEGER NOT NULL UNIQUE REFERENCES purchases(id),
	phone_number     TEXT NOT NULL,
	country_code     TEXT NOT NULL,
	type             TEXT NOT NULL,
	sms_capable      INTEGER NOT NULL,
	price_cents      INTEGER NOT NULL,
	status           TEXT NOT NULL CHECK (status IN ('active', 'release_scheduled', 'released')),
	subscription_id  TEXT NOT NULL,
	number_sid       TEXT NOT NULL,
	period_end       INTEGER,
	created_at       INTEGER NOT NULL,
	updated_at       INTEGER NOT NULL
);
CREATE UNIQUE INDEX numbers_live ON numbers (phone_number) WHERE status <> 'released';
CREATE INDEX numbers_account ON numbers (account_id, id);

-- Idempotency-Key records: the request's hash, its purchase, and once the
-- purchase ended, the exact status and body the client was given.
CREATE TABLE idempotency (
	account_id    INTEGER NOT NULL,
	key           TEXT NOT NULL,
	request_hash  TEXT NOT NULL,
	purchase_id   INTEGER NOT NULL REFERENCES purchases(id),
	status        INTEGER,
	body          TEXT,
	created_at    INTEGER NOT NULL,
	PRIMARY KEY (account_id, key)
) WITHOUT ROWID;
CREATE INDEX idempotency_purchase ON idempotency (purchase_id);
