/*
 * error.h -- setting the optional caller-owned detail (struct purchase_detail).
 */
#ifndef PUR_ERROR_H
#define PUR_ERROR_H

#include "purchase.h"

/* Formats into detail->text when detail is not NULL; returns err, so that
 * "return pur_error_set(d, PURCHASE_EDB, "...")" reads naturally. */
enum purchase_err pur_error_set(struct purchase_detail *detail, enum purchase_err err,
    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
