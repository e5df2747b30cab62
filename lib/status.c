/*
 * status.c -- the status table: every outcome's HTTP status, stable code and
 * exact client message (DESIGN §2; the messages are read by existing
 * clients and must not change). The bodies are rendered by render.c.
 */
#include "autoconfig.h"

#include <stdlib.h>
#include <string.h>

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
	[PURCHASE_ENOT_SCHEDULED] = {400, "release_not_scheduled",
	    "Phone number is not scheduled for release."},
	[PURCHASE_ERELEASED] = {400, "number_released", "Phone number has already been released."},
	[PURCHASE_ERESTORE] = {500, "restore_failed",
	    "Failed to restore phone number. Please try again or contact support."},
	[PURCHASE_ENICKNAME_TYPE] = {422, "invalid_nickname", "The nickname must be a string."},
	[PURCHASE_ENICKNAME_LONG] = {422, "nickname_too_long",
	    "The nickname may not be greater than 50 characters."},
	[PURCHASE_EPAGE] = {422, "invalid_pagination",
	    "The page and per_page parameters must be whole numbers (per_page 1 to 100)."},
	[PURCHASE_ESIGNATURE] = {400, "invalid_signature", "Invalid signature."},
	[PURCHASE_EOVERLOAD] = {503, "purchases_busy", "Service is busy. Please retry shortly."},
};

const struct purchase_status *
purchase_status_of(enum purchase_err err)
{
	if ((unsigned)err >= PURCHASE_ERR__MAX || table[err].message == NULL)
		err = PURCHASE_EINTERNAL;
	return &table[err];
}
