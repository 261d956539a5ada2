"""schemathesis hooks for Roster's run (.ci/schemathesis.py loads this file).

Each request drawn to be valid gets an Idempotency-Key of its own, if it has one. Hypothesis draws the
same few short keys for many requests, and the server would answer a reuse with a replay or
a 422: rules across requests that no schema states, and that the integration tests cover
(tests/it/idempotency). Requests drawn to be invalid, malformed keys among them, are sent
as drawn, so the header's rules are still checked against the document.
"""

import re
import uuid

import schemathesis

HEADER = "Idempotency-Key"
WELL_FORMED = re.compile(r"[!-~]{1,255}")


@schemathesis.hook
def before_call(context, case, kwargs):
    headers = case.headers
    # A negative case is left as drawn: an edit would make schemathesis check it again as a
    # whole, and send the header it means to leave out. Its answer is a 4xx either way.
    negative = case.meta is not None and case.meta.generation.mode.is_negative
    if not headers or negative:
        return
    for name in list(headers):
        value = headers[name]
        if name.lower() == HEADER.lower() and isinstance(value, str) \
                and WELL_FORMED.fullmatch(value):
            headers[name] = uuid.uuid4().hex
