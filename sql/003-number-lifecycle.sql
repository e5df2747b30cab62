-- 003-number-lifecycle.sql -- schema version 3 (issue 10): the number's life
-- after the purchase.
--
-- numbers gains:
--   status       past_due beside active, release_scheduled, released
--                (DESIGN §3a); the API's status, kept in step with Stripe.
--   nickname     the customer's name for it (at most 50 characters).
--   region       the carrier's region of the number (Twilio's "region").
--   cancel_at_period_end  Stripe's flag: a release is scheduled.
--   release_reason, released_at  why and when it was released.
-- offers and purchases gain region, carried from the search to the number.
-- stripe_events: each webhook event id once (a duplicate does nothing), and
-- whether its work (re-fetch, apply) is done; a lease so that one worker
-- processes it.
-- SQLite cannot change a CHECK in place: numbers is rebuilt (foreign keys
-- are off while the migration runs, and checked before it commits).

CREATE TABLE numbers_v3 (
	id                    INTEGER PRIMARY KEY,
	account_id            INTEGER NOT NULL REFERENCES accounts(id),
	purchase_id           INTEGER NOT NULL UNIQUE REFERENCES purchases(id),
	phone_number          TEXT NOT NULL,
	country_code          TEXT NOT NULL,
	type                  TEXT NOT NULL,
	region                TEXT,
	sms_capable           INTEGER NOT NULL,
	price_cents           INTEGER NOT NULL,
	status                TEXT NOT NULL CHECK (status IN ('active', 'past_due',
	                          'release_scheduled', 'released')),
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
INSERT INTO numbers_v3 (id, account_id, purchase_id, phone_number, country_code, type, region,
	sms_capable, price_cents, status, nickname, subscription_id, number_sid, period_end,
	cancel_at_period_end, release_reason, released_at, created_at, updated_at)
	SELECT id, account_id, purchase_id, phone_number, country_code, type, NULL, sms_capable,
	price_cents, status, NULL, subscription_id, number_sid, period_end,
	status = 'release_scheduled', NULL, NULL, created_at, updated_at FROM numbers;
DROP TABLE numbers;
ALTER TABLE numbers_v3 RENAME TO numbers;
-- (No index on the phone number: a live number is its purchase's, and
-- purchases_live_number decides who holds one; none on the subscription:
-- a webhook names its purchase in the subscription's metadata. Each index
-- is a page written by every purchase.)
CREATE INDEX numbers_account ON numbers (account_id, id);
-- Recovery's two walks over live numbers: scheduled releases coming due,
-- and periods that have ended (a renewal or an end never heard of).
CREATE INDEX numbers_period_end ON numbers (period_end) WHERE status <> 'released';

ALTER TABLE offers ADD COLUMN region TEXT;
ALTER TABLE purchases ADD COLUMN region TEXT;

CREATE TABLE stripe_events (
	id           TEXT PRIMARY KEY,
	type         TEXT NOT NULL,
	object_id    TEXT,               -- the subscription or customer it is about
	created      INTEGER NOT NULL,   -- Stripe's time of the event
	received_at  INTEGER NOT NULL,
	done_at      INTEGER,            -- its work done; NULL: still to do
	lease_until  INTEGER NOT NULL DEFAULT 0,
	attempts     INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
CREATE INDEX stripe_events_todo ON stripe_events (received_at) WHERE done_at IS NULL;
CREATE INDEX stripe_events_created ON stripe_events (created);
