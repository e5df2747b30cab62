-- prices.sql -- the seed price list, loaded by `purchasectl prices load`.
-- Monthly price in USD cents and the Stripe recurring price that bills it,
-- per country (ISO 3166-1 alpha-2) and number type. Only INSERTs into
-- prices are allowed in this file; loading replaces the whole list.
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('US', 'local', 115, 'price_us_local_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('US', 'toll_free', 215, 'price_us_toll_free_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('CA', 'local', 115, 'price_ca_local_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('CA', 'toll_free', 215, 'price_ca_toll_free_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('GB', 'local', 125, 'price_gb_local_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('GB', 'mobile', 125, 'price_gb_mobile_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('AU', 'local', 650, 'price_au_local_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('AU', 'mobile', 650, 'price_au_mobile_monthly');
-- Every further country and type the provider sandbox sells (issue 9,
-- item 14), in USD cents. GB toll_free stays unpriced for now: the search
-- tests use it as their "no price for this country and type" case.
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('AU', 'toll_free', 1650, 'price_au_toll_free_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('DE', 'local', 350, 'price_de_local_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('DE', 'mobile', 450, 'price_de_mobile_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('DE', 'toll_free', 2500, 'price_de_toll_free_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('IL', 'local', 650, 'price_il_local_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('IL', 'mobile', 1250, 'price_il_mobile_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('IL', 'toll_free', 2500, 'price_il_toll_free_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('PL', 'local', 450, 'price_pl_local_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('PL', 'mobile', 550, 'price_pl_mobile_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('PL', 'toll_free', 2500, 'price_pl_toll_free_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('FI', 'local', 550, 'price_fi_local_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('FI', 'mobile', 550, 'price_fi_mobile_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('FI', 'toll_free', 2500, 'price_fi_toll_free_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('NL', 'local', 250, 'price_nl_local_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('NL', 'mobile', 350, 'price_nl_mobile_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('NL', 'toll_free', 2500, 'price_nl_toll_free_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('DK', 'local', 550, 'price_dk_local_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('DK', 'mobile', 550, 'price_dk_mobile_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('DK', 'toll_free', 2500, 'price_dk_toll_free_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('IT', 'local', 350, 'price_it_local_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('IT', 'mobile', 550, 'price_it_mobile_monthly');
INSERT INTO prices (country_code, type, price_cents, stripe_price_id) VALUES ('IT', 'toll_free', 2500, 'price_it_toll_free_monthly');
