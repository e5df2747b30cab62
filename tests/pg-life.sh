#!/bin/bash
# pg-life.sh -- the store on PostgreSQL (issue 14), part 2: the number's
# life -- numbers, search, webhooks, life, lifecycle faults, the API's
# shape, the sandbox's lifecycle -- with H_DB=pg (see pg.sh).
PG_PART=2 exec bash "$(dirname "$0")/pg.sh"
