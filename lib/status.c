/*
 * status.c -- the status table: every outcome's HTTP status, stable code and
 * exact client message (DESIGN §2; the messages are read by existing
 * clients and must not change), and the one renderer of API bodies.
 */
#include "autoconfig.h"

#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "purchase.h"

static const char IN_USE[] = "This phone number is already in use.";
static const char NOT_AVAILABLE[] =
    "This phone number is not available for purchase. Please search for available numbers first.";
static const char PROVIDER[] = "Failed to purchase phone number from provider. Please contact support.";

static const struct purchase_status table[PURCHASE_ERR__MAX] = {
	[PURCHASE_OK] = {201, "purchased", "Phone number purchased successfully."},
	[PURCHASE_ENOMEM] = {500, "internal_error", "Internal server error."},
	[PURCHASE_EINVAL] = {500, "internal_error", "Internal server error."},
	[PURCHASE_ECONFIG] = {500, "configuration_error", "Service is not configured."},
	[PURCHASE_EDB] = {500, "database_error", "Internal server error."},
	[PURCHASE_EBUSY] = {503, "database_busy", "Service is busy. Please retry shortly."},
	[PURCHASE_ESCHEMA] = {503, "database_not_ready", "Service database is not ready."},
	[PURCHASE_EAUTH] = {401, "unauthenticated", "Unauthenticated."},
	[PURCHASE_EBODY] = {400, "invalid_body",
	    "Request body must be a JSON object with only the documented fields."},
	[PURCHASE_EFIELD] = {422, "phone_number_required",
	    "Unable to parse phone number. Please provide a valid E.164 format number."},
	[PURCHASE_EPHONE] = {422, "invalid_phone_number",
	    "Unable to parse phone number. Please provide a valid E.164 format number."},
	[PURCHASE_EPARAM] = {422, "invalid_parameter", "Invalid search parameters."},
	[PURCHASE_ENOPRICE] = {422, "unsupported_country",
	    "Phone numbers are not available for this country and type."},
	[PURCHASE_EIDEMKEY] = {400, "invalid_idempotency_key",
	    "Idempotency-Key must be 1 to 255 printable ASCII characters."},
	[PURCHASE_EIDEM_BUSY] = {409, "idempotency_key_in_progress",
	    "A request with this Idempotency-Key is still in progress."},
	[PURCHASE_EIDEM_MISMATCH] = {422, "idempotency_key_reused",
	    "This Idempotency-Key was used with a different request."},
	[PURCHASE_ERATE] = {429, "rate_limited", "Too many requests. Please retry later."},
	[PURCHASE_EIN_USE] = {400, "number_in_use", IN_USE},
	[PURCHASE_ENOT_AVAILABLE] = {400, "number_not_available", NOT_AVAILABLE},
	[PURCHASE_ENO_PAYMENT_METHOD] = {402, "no_payment_method",
	    "No payment method found. Please add a payment method to your account."},
	[PURCHASE_EDECLINED] = {402, "payment_failed",
	    "Payment failed. Please update your payment method."},
	[PURCHASE_EPROVIDER] = {500, "provider_error", PROVIDER},
	[PURCHASE_ESEARCH] = {500, "provider_error",
	    "Failed to search for phone numbers. Please try again later."},
	[PURCHASE_ENOT_FOUND] = {404, "not_found", "Phone number not found."},
	[PURCHASE_ERELEASE_PENDING] = {400, "release_already_scheduled",
	    "Phone number is already scheduled for release."},
	[PURCHASE_ERELEASE] = {500, "release_failed",
	    "Failed to release phone number. Please try again or contact support."},
	[PURCHASE_ENO_ROUTE] = {404, "no_route", "Not found."},
	[PURCHASE_EMETHOD] = {405, "method_not_allowed", "Method not allowed."},
	[PURCHASE_ELENGTH] = {411, "length_required", "Content-Length is required."},
	[PURCHASE_ETOO_LARGE] = {413, "body_too_large", "Request body is too large."},
	[PURCHASE_EMEDIA] = {415, "unsupported_media_type",
	    "Content-Type must be application/json."},
	[PURCHASE_ELEASE] = {409, "idempotency_key_in_progress",
	    "A request with this Idempotency-Key is still in progress."},
	[PURCHASE_EINTERNAL] = {500, "internal_error", "Internal server error."},
};

const struct purchase_status *
purchase_status_of(enum purchase_err err)
{
	if ((unsigned)err >= PURCHASE_ERR__MAX || table[err].message == NULL)
		err = PURCHASE_EINTERNAL;
	return &table[err];
}

/*
 * The body of every answer: a purchase's 201 {"message", "data"}, or a
 * business error {"error", "message", "code"} (DESIGN §2: "error" for the
 * existing clients, "message" -- the same text -- for those that read only
 * that one, "code" ours). Every json-c allocation is checked: a reply is
 * stored and replayed forever, so a half-built body must be an error,
 * never an answer.
 */
enum purchase_err
purchase_render(enum purchase_err outcome, const struct purchase_number *num,
    struct purchase_reply *out)
{
	const struct purchase_status *st = purchase_status_of(outcome);
	json_object *o, *data;
	int bad = 0;

	out->body = NULL;
	out->len = 0;
	out->status = st->http;
	if ((o = json_object_new_object()) == NULL)
		return PURCHASE_ENOMEM;
	if (outcome == PURCHASE_OK && num != NULL) {
		bad |= pur_json_add(o, "message", json_object_new_string(st->message));
		if ((data = json_object_new_object()) == NULL || pur_json_add(o, "data", data) != 0)
			goto fail;
		bad |= pur_json_add(data, "id", json_object_new_int64(num->id));
		bad |= pur_json_add(data, "phone_number", json_object_new_string(num->phone_number));
		bad |= pur_json_add(data, "country_code", json_object_new_string(num->country_code));
		bad |= pur_json_add(data, "type", json_object_new_string(num->type));
		bad |= pur_json_add(data, "sms_capable", json_object_new_boolean(num->sms_capable));
	} else {
		bad |= pur_json_add(o, "error", json_object_new_string(st->message));
		bad |= pur_json_add(o, "message", json_object_new_string(st->message));
		bad |= pur_json_add(o, "code", json_object_new_string(st->code));
	}
	if (bad || (out->body = pur_json_dump(o, &out->len)) == NULL)
		goto fail;
	json_object_put(o);
	return PURCHASE_OK;
fail:
	json_object_put(o);
	out->len = 0;
	return PURCHASE_ENOMEM;
}
