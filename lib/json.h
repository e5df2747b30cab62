/*
 * json.h -- the one place that parses JSON (json-c), with limits: strict
 * grammar, bounded depth, whole input, valid UTF-8, and type-checked getters
 * (json-c coerces silently; these never do).
 */
#ifndef PUR_JSON_H
#define PUR_JSON_H

#include <json-c/json.h>
#include <stdint.h>

#include "purchase.h"

/* Parses a client request body: must be one JSON object with no duplicate
 * member names, depth <= 8, nothing after it but white space.
 * On success *out is the caller's (json_object_put). Errors: EBODY, ENOMEM. */
enum purchase_err pur_json_parse_request(const char *buf, size_t len, json_object **out);

/* Parses a provider reply (depth <= 32, strict, must be an object).
 * Returns NULL when malformed; the caller owns the result. */
json_object *pur_json_parse_reply(const char *buf, size_t len);

/* The same, building only the top-level members named in keep (a
 * NULL-terminated list of at most 24): the others are skipped unbuilt, their
 * strings, nesting and depth followed but their contents not checked. The
 * result has only the kept members that were there. */
json_object *pur_json_parse_reply_only(const char *buf, size_t len, const char *const *keep);

/* A member of the expected type, or NULL when absent or of another type. */
const char *pur_json_str(json_object *o, const char *key);
json_object *pur_json_obj(json_object *o, const char *key);
json_object *pur_json_arr(json_object *o, const char *key);
/* 0 and *out set when key is a boolean (resp. integer); -1 otherwise. */
int pur_json_bool(json_object *o, const char *key, int *out);
int pur_json_int(json_object *o, const char *key, int64_t *out);

/* Copies a string member into dst (size dstlen) when present, of string type
 * and short enough; returns 0, else -1 (dst then empty). */
int pur_json_copy(json_object *o, const char *key, char *dst, size_t dstlen);

/* Building: adds v under key to the object o, taking v -- also when it
 * fails: v NULL (its allocation failed) or the add failing puts v and
 * returns -1, so that a chain of adds can be checked once. 0 on success. */
int pur_json_add(json_object *o, const char *key, json_object *v);
/* Adds a JSON null under key. 0, or -1 on allocation failure. */
int pur_json_add_null(json_object *o, const char *key);
/* Appends v to the array a, taking v as pur_json_add does. */
int pur_json_push(json_object *a, json_object *v);

/* Serialises o compactly (no slash escaping); the result is the caller's
 * (malloc'd) and *len its length. NULL on allocation failure. */
char *pur_json_dump(json_object *o, size_t *len);

/* --- Request validation: a declarative table of accepted fields --------- */

enum pur_field_type {
	PUR_FIELD_STRING, /* a string (else EFIELD) */
	PUR_FIELD_ANY,    /* any JSON value: the caller checks it */
};

struct pur_field {
	const char *name;
	enum pur_field_type type;
	int required;
};

/* Checks obj against the table: every member must be listed (else EBODY),
 * every required one present and every present one of its type (else EFIELD).
 * Field values are then read with the getters above. */
enum purchase_err pur_json_check_fields(json_object *obj, const struct pur_field *fields,
    size_t nfields);

#endif
