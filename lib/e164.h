/*
 * e164.h -- phone numbers in ITU-T E.164 form: "+", a country calling code,
 * the national number; at most 15 digits in all, no leading zero.
 */
#ifndef PUR_E164_H
#define PUR_E164_H

#include <stddef.h>

#define PUR_E164_MAX 17 /* "+" 15 digits NUL */

/* Checks that s[0..len) is a strict E.164 number ("+" then 8 to 15 digits,
 * the first 1-9, the calling code assigned by the ITU) and copies it to out.
 * No spaces, punctuation or national formats are accepted: the API promises
 * exactly E.164. Returns 0, or -1 when it is not valid. */
int pur_e164_parse(const char *s, size_t len, char out[PUR_E164_MAX]);

/* Length (1-3) of the country calling code of a valid E.164 number, or 0. */
int pur_e164_cc_len(const char *e164);

/* The country calling code (digits, no "+") of an ISO 3166-1 alpha-2
 * country, for the countries the service is known to sell in; NULL for
 * any other (the caller then cannot check it). */
const char *pur_e164_country_cc(const char *iso);

/* 1 when a valid E.164 number belongs to the country (its calling code is
 * the country's), 0 when it does not, -1 when the country is not known. */
int pur_e164_in_country(const char *e164, const char *iso);

/* Formats a valid E.164 number for people: "(415) 555-0123" for NANP,
 * "+44 20 7946 0123"-style groups elsewhere. */
void pur_e164_format(const char *e164, char *out, size_t outlen);

#endif
