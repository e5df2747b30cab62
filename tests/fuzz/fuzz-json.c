/*
 * fuzz-json.c -- libFuzzer target: the client request parser
 * (pur_json_parse_request, over bytes that are not NUL-terminated), then
 * pur_json_check_fields with the purchase request's field table
 * (lib/purchase.c: one required string, "phone_number").
 *
 * Properties: what parses is an object; what passes the table has a string
 * phone_number; what parses serialises to a text that parses again, passes
 * the table the same way and serialises to the same bytes.
 */
#include "autoconfig.h"

#include "fuzz.h"
#include "json.h"

static const struct pur_field purchase_fields[] = {
	{"phone_number", PUR_FIELD_STRING, 1},
};
#define NFIELDS (sizeof(purchase_fields) / sizeof(purchase_fields[0]))

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = fuzz_exact(data, size), *d1 = NULL, *d2 = NULL, *e = NULL;
	json_object *o = NULL, *o2 = NULL;
	enum purchase_err err, err2;
	size_t n1, n2;

	if (pur_json_parse_request(s, size, &o) != PURCHASE_OK) {
		FUZZ_CHECK(o == NULL);
		goto done;
	}
	FUZZ_CHECK(o != NULL && json_object_is_type(o, json_type_object));
	err = pur_json_check_fields(o, purchase_fields, NFIELDS);
	FUZZ_CHECK(err == PURCHASE_OK || err == PURCHASE_EBODY || err == PURCHASE_EFIELD);
	if (err == PURCHASE_OK)
		FUZZ_CHECK(pur_json_str(o, "phone_number") != NULL);

	/* Round trip through the serialiser. */
	FUZZ_CHECK((d1 = pur_json_dump(o, &n1)) != NULL && strlen(d1) == n1);
	e = fuzz_exact((const uint8_t *)d1, n1);
	FUZZ_CHECK(pur_json_parse_request(e, n1, &o2) == PURCHASE_OK);
	FUZZ_CHECK(json_object_object_length(o2) == json_object_object_length(o));
	err2 = pur_json_check_fields(o2, purchase_fields, NFIELDS);
	FUZZ_CHECK(err2 == err);
	FUZZ_CHECK((d2 = pur_json_dump(o2, &n2)) != NULL && n2 == n1 && memcmp(d1, d2, n1) == 0);
done:
	free(d2);
	free(d1);
	free(e);
	json_object_put(o2);
	json_object_put(o);
	free(s);
	return 0;
}
