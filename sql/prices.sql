-- prices.sql -- the seed price list, loaded by `purchasectl prices load`.
-- Monthly price in USD cents and the Stripe recurring price that bills it,
-- per country (ISO 3166-1 alpha-2) and number type. Only INSERTs into
-- prices are allowed in this file; loading replaces the whole list.
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('US', 'local', 115, 'price_us_local_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('US', 'toll_free', 215, 'price_us_toll_free_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('US', 'mobile', 115, 'price_us_mobile_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('CA', 'local', 115, 'price_ca_local_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('CA', 'toll_free', 215, 'price_ca_toll_free_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('GB', 'local', 125, 'price_gb_local_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('GB', 'mobile', 125, 'price_gb_mobile_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('AU', 'local', 650, 'price_au_local_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('AU', 'mobile', 650, 'price_au_mobile_monthly');
