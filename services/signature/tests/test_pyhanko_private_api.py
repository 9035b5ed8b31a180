"""The one private pyHanko function the trust lists use is still there, with the arguments we pass.

`trust/lists.py` calls `eutl_parse._validate_and_extract_tl_data_multiple_certs` to get the signed
content of a trusted list (what its XAdES signature covers); pyHanko has no public equivalent in 0.38.
pyproject pins pyhanko to 0.38.x; this test names the function the day an upgrade moves it.
"""

from __future__ import annotations

import inspect

from pyhanko.sign.validation.qualified import eutl_parse


def test_private_trusted_list_extraction_is_where_trust_lists_call_it():
    function = getattr(eutl_parse, "_validate_and_extract_tl_data_multiple_certs", None)
    assert callable(function), "pyHanko moved _validate_and_extract_tl_data_multiple_certs: see trust/lists.py"
    assert list(inspect.signature(function).parameters) == ["tl_xml", "tlso_cert_candidates", "validation_time"]


def test_public_helpers_used_beside_it_exist():
    for name in ("latest_known_lotl_tlso_certs", "parse_lotl_unsafe", "trust_list_to_registry_unsafe",
                 "LOTL_RULE", "ETSI_TSL_MIME_TYPE"):
        assert hasattr(eutl_parse, name), name
