/*
 * twilio.h -- the Twilio client (REST API 2010-04-01, see
 * ../shared/specs/twilio_api_v2010.json): pure request building and reply
 * parsing, and the calls the service makes. Twilio has no idempotency keys:
 * after an unknown outcome the flow looks the number up before buying again.
 */
#ifndef PUR_TWILIO_H
#define PUR_TWILIO_H

#include "buf.h"
#include "config.h"
#include "http.h"
#include "purchase.h"

#define PUR_TWILIO_SID 40

/* One available number as Twilio lists it. */
struct pur_twilio_avail {
	char phone_number[17];
	char friendly_name[64];
	char iso_country[3];
	char address_requirements[8];
	char region[64];             /* the number's region ("CA", "ON"...); "" none */
	int sms;
};

struct pur_twilio_avail_list {
	size_t n;
	struct pur_twilio_avail *v; /* malloc'd */
	size_t skipped;             /* entries dropped: no phone_number, or not E.164 */
};

void pur_twilio_avail_list_free(struct pur_twilio_avail_list *l);

/* --- pure --- */
/* URL of AvailablePhoneNumbers/{cc}/{Local|TollFree|Mobile}.json with the
 * filters (area_code, contains may be NULL or empty). */
int pur_twilio_build_available_url(struct pur_buf *url, const char *base, const char *sid,
    const char *country, const char *type, const char *area_code, const char *contains,
    int page_size);
/* Parses the list; entries with a phone number that is not E.164 are
 * skipped (never offered) and counted in out->skipped. -1 when malformed
 * or out of memory. */
int pur_twilio_parse_available(const char *body, size_t len, struct pur_twilio_avail_list *out);
/* The "sid" of an IncomingPhoneNumber resource. */
int pur_twilio_parse_incoming(const char *body, size_t len, char sid[PUR_TWILIO_SID]);
/* The incoming_phone_numbers list: sid of the entry whose phone_number is
 * e164 (sid[0] '\0' when none). */
int pur_twilio_parse_incoming_list(const char *body, size_t len, const char *e164,
    char sid[PUR_TWILIO_SID]);
/* Twilio's error "code" (0 when absent). */
int pur_twilio_parse_error(const char *body, size_t len, long *code);

/* One page of this account's numbers. */
struct pur_twilio_owned {
	char sid[PUR_TWILIO_SID];
	char phone_number[17];
	char friendly_name[65]; /* Twilio allows 64 characters; "" when absent */
};
struct pur_twilio_owned_page {
	size_t n;
	struct pur_twilio_owned *v; /* malloc'd */
	char next[1024];            /* next_page_uri, "" on the last page */
};
void pur_twilio_owned_page_free(struct pur_twilio_owned_page *p);
/* Parses an incoming_phone_numbers list page. next_page_uri is kept only
 * when it is a path under /2010-04-01/Accounts/ (never another host). */
int pur_twilio_parse_owned_page(const char *body, size_t len, struct pur_twilio_owned_page *out);

/* --- calls --- */
struct pur_twilio {
	struct pur_http *http;
	const struct pur_config *cfg;
};

/* GET AvailablePhoneNumbers: OK with *out filled (caller frees); GONE for
 * an unknown country. */
enum pur_call pur_twilio_available(const struct pur_twilio *t, const char *country,
    const char *type, const char *area_code, const char *contains, int page_size,
    struct pur_twilio_avail_list *out, struct pur_call_info *info);

/* The FriendlyName a purchase gives the number it buys,
 * "purchase:<nonce>:<unix time of the buy>": should the purchase's row be
 * lost (a power cut before its first synced commit), reconcile --repair
 * can still tell the number was bought by a purchase of this service, which
 * one and when. pur_twilio_tag_parse returns 0 and fills nonce (33 bytes)
 * and *at for a tag of that form, -1 for anything else. */
#define PUR_TWILIO_TAG_MAX 64
int pur_twilio_tag(char *out, size_t n, const char *nonce, int64_t at);
int pur_twilio_tag_parse(const char *s, char nonce[33], int64_t *at);

/* POST IncomingPhoneNumbers.json PhoneNumber=e164[&FriendlyName=tag]: OK
 * with sid, GONE when the carrier says it is not available (21422) or
 * invalid (21421). tag may be NULL or "" (Twilio's default name). */
enum pur_call pur_twilio_buy(const struct pur_twilio *t, const char *e164, const char *tag,
    char sid[PUR_TWILIO_SID], struct pur_call_info *info);

/* GET IncomingPhoneNumbers.json?PhoneNumber=e164: OK with sid when this
 * account owns it, GONE when it does not. */
enum pur_call pur_twilio_find(const struct pur_twilio *t, const char *e164,
    char sid[PUR_TWILIO_SID], struct pur_call_info *info);

/* DELETE IncomingPhoneNumbers/{sid}.json: OK when released now or before
 * (404 means it is no longer ours). */
enum pur_call pur_twilio_release(const struct pur_twilio *t, const char *sid,
    struct pur_call_info *info);

/* GET IncomingPhoneNumbers.json?PageSize=1000, or the page at next (a
 * next_page_uri): for reconciliation. */
enum pur_call pur_twilio_list(const struct pur_twilio *t, const char *next,
    struct pur_twilio_owned_page *out, struct pur_call_info *info);

#endif
