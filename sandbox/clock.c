/*
 * clock.c -- the sandbox clock, a stand-in for Stripe's test clocks: the
 * sandbox's "now" is real time plus an offset kept in the database, so
 * every process sees the same time.  Every timestamp the sandbox puts on
 * an object (created, periods, paid_at, canceled_at, bought_at ...) comes
 * from sb_clock_now(); webhook signatures use real time, as Stripe's test
 * clocks do.
 *
 *   GET  /_sandbox/clock                   200 {"now": unix, "offset": s}
 *   POST /_sandbox/clock {"advance": S}    moves the clock S seconds
 *        forward (0 <= S <= 20 years), then runs billing up to the new now
 *        (billing.c, sb_billing_run; the schedule is in control.c's
 *        header).  200 {"now", "offset", "steps"}; 400 bad body.
 *
 * The offset is read once per request (sb_clock_forget() at its start):
 * one SELECT, inside the request's transaction.
 */
#include <stdio.h>
#include <time.h>

#include <sqlite3.h>

#include "sandbox.h"

#define MAX_ADVANCE 631152000LL /* 20 years of 365.25 days */

static long long offset_cache;
static int offset_loaded;
static long long pinned;
static int is_pinned;

/* The stored offset; 0 when none (or on a read error, reported). */
static long long offset(void)
{
	sqlite3_stmt *st;
	int rc;

	if (offset_loaded)
		return offset_cache;
	st = sb_db_stmt(SB_ST_CLOCK_GET);
	if (st == NULL)
		return 0;
	rc = sqlite3_step(st);
	offset_cache = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	sqlite3_reset(st);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
		fprintf(stderr, "sandbox: cannot read the clock\n");
		return 0;
	}
	offset_loaded = 1;
	return offset_cache;
}

long long sb_clock_now(void)
{
	if (is_pinned)
		return pinned;
	return (long long)time(NULL) + offset();
}

void sb_clock_pin(long long t)
{
	pinned = t;
	is_pinned = 1;
}

void sb_clock_unpin(void)
{
	is_pinned = 0;
}

void sb_clock_forget(void)
{
	offset_loaded = 0;
	is_pinned = 0;
}

static int reply_clock(struct sb_ctx *c, long steps)
{
	c->json = json_object_new_object();
	if (c->json == NULL)
		return -1;
	json_object_object_add(c->json, "now", json_object_new_int64(sb_clock_now()));
	json_object_object_add(c->json, "offset", json_object_new_int64(offset()));
	if (steps >= 0)
		json_object_object_add(c->json, "steps", json_object_new_int64(steps));
	c->status = 200;
	return 0;
}

/* GET /_sandbox/clock: 200 {"now", "offset"}. */
int sb_control_clock_get(struct sb_ctx *c)
{
	return reply_clock(c, -1);
}

/* POST /_sandbox/clock {"advance": S}: 200 {"now", "offset", "steps"}
 * (steps: expiries, period ends and retries the billing run handled);
 * 400 when S is missing, not an integer, negative or over 20 years. */
int sb_control_clock_advance(struct sb_ctx *c)
{
	static const char *const keys[] = { "advance" };
	json_object *o = sb_control_parse_body(c), *v;
	long long adv, target;
	sqlite3_stmt *st;
	long steps = 0;
	int res = -1;

	if (o == NULL)
		return c->json != NULL ? 0 : -1;
	if (sb_control_only_keys(c, o, keys, 1) != 0) {
		res = 0;
		goto out;
	}
	if (!json_object_object_get_ex(o, "advance", &v) || !json_object_is_type(v, json_type_int) ||
	    (adv = json_object_get_int64(v)) < 0 || adv > MAX_ADVANCE) {
		sb_control_bad_request(c, 400,
				       "\"advance\" must be a whole number of seconds from 0 to "
				       "631152000 (the clock only moves forward)");
		res = 0;
		goto out;
	}
	target = sb_clock_now() + adv;
	st = sb_db_stmt(SB_ST_CLOCK_PUT);
	if (st == NULL)
		goto out;
	sqlite3_bind_int64(st, 1, offset() + adv);
	if (sb_db_done(st) != 0)
		goto out;
	offset_cache += adv;
	if (sb_billing_run(target, &steps) != 0)
		goto out;
	res = reply_clock(c, steps);
out:
	sb_clock_unpin();
	json_object_put(o);
	return res;
}
