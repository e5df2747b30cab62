/*
 * error.c -- names of the library's error codes and the detail setter.
 */
#include "autoconfig.h"

#include <stdarg.h>
#include <stdio.h>

#include "error.h"

static const char *const names[PURCHASE_ERR__MAX] = {
	[PURCHASE_OK] = "success",
	[PURCHASE_ENOMEM] = "out of memory",
	[PURCHASE_EINVAL] = "invalid argument",
	[PURCHASE_ECONFIG] = "configuration error",
	[PURCHASE_EDB] = "database error",
	[PURCHASE_EBUSY] = "database busy",
	[PURCHASE_ESCHEMA] = "database schema not current",
	[PURCHASE_EAUTH] = "authentication failed",
	[PURCHASE_EBODY] = "malformed request body",
	[PURCHASE_EFIELD] = "missing or mistyped field",
	[PURCHASE_EPHONE] = "not an E.164 phone number",
	[PURCHASE_EPARAM] = "invalid query parameter",
	[PURCHASE_ENOPRICE] = "no price for country and type",
	[PURCHASE_EIDEMKEY] = "malformed idempotency key",
	[PURCHASE_EIDEM_BUSY] = "idempotency key in progress",
	[PURCHASE_EIDEM_MISMATCH] = "idempotency key reused with another request",
	[PURCHASE_ERATE] = "rate limited",
	[PURCHASE_EIN_USE] = "number in use",
	[PURCHASE_ENOT_AVAILABLE] = "number not available",
	[PURCHASE_ENO_PAYMENT_METHOD] = "no payment method",
	[PURCHASE_EDECLINED] = "payment declined",
	[PURCHASE_EPROVIDER] = "provider failure",
	[PURCHASE_ESEARCH] = "carrier search failed",
	[PURCHASE_ENOT_FOUND] = "not found",
	[PURCHASE_ERELEASE_PENDING] = "release already scheduled",
	[PURCHASE_ERELEASE] = "release failed",
	[PURCHASE_ENO_ROUTE] = "no such route",
	[PURCHASE_EMETHOD] = "method not allowed",
	[PURCHASE_ELENGTH] = "length required",
	[PURCHASE_ETOO_LARGE] = "body too large",
	[PURCHASE_EMEDIA] = "unsupported media type",
	[PURCHASE_ELEASE] = "lease lost to a newer worker",
	[PURCHASE_EINTERNAL] = "internal error",
	[PURCHASE_ENOT_SCHEDULED] = "release not scheduled",
	[PURCHASE_ERELEASED] = "number released",
	[PURCHASE_ERESTORE] = "restore failed",
	[PURCHASE_ENICKNAME_TYPE] = "nickname not a string",
	[PURCHASE_ENICKNAME_LONG] = "nickname too long",
	[PURCHASE_EPAGE] = "bad page parameters",
	[PURCHASE_ESIGNATURE] = "bad webhook signature",
	[PURCHASE_EOVERLOAD] = "every purchase slot is taken",
};

const char *
purchase_strerror(enum purchase_err err)
{
	if ((unsigned)err >= PURCHASE_ERR__MAX || names[err] == NULL)
		return "unknown error";
	return names[err];
}

enum purchase_err
pur_error_set(struct purchase_detail *detail, enum purchase_err err, const char *fmt, ...)
{
	va_list ap;

	if (detail == NULL)
		return err;
	va_start(ap, fmt);
	vsnprintf(detail->text, sizeof(detail->text), fmt, ap);
	va_end(ap);
	return err;
}
