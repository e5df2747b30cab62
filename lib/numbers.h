/*
 * numbers.h -- the numbers as the API shows them (numbers.c): what the
 * release flow and the webhooks share of it.
 */
#ifndef PUR_NUMBERS_H
#define PUR_NUMBERS_H

#include <stdint.h>

#include "purchase.h"
#include "store.h"

/* The API's number id: a positive integer, digits only, no sign, no
 * leading zero, at most 18 digits; 0 when it is not one (answered as not
 * found). */
int64_t pur_number_id(const char *s);

/* The public form of a stored number. */
void pur_number_public(const struct pur_number *n, struct purchase_number *out);

#endif
