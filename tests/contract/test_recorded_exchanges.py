"""Every exchange the session's emulators served, validated against Apple's OpenAPI 4.4.1.

Moved to the end of the run (marker ``contract_final``, see ``tests/conftest.py``) so that it
sees what the emulator, fault, engine and contract tiers recorded, whatever order they ran in.
The counts appear in the terminal summary.
"""

from __future__ import annotations

import pytest

from tests.conftest import record_report
from tests.contract.contract import PROVIDER_OPERATIONS, Contract
from tests.contract.recording import RECORDER


@pytest.mark.contract_final
def test_every_recorded_exchange_conforms() -> None:
    exchanges = RECORDER.unchecked()
    contract = Contract()
    report = contract.check_all(exchanges)
    record_report(report)
    problems = [str(v) for v in report.violations]
    assert not problems, f"{len(problems)} contract violations:\n" + "\n".join(problems[:40])
    # Whatever the provider sent during the run is an operation the contract scenario covers.
    used = {contract.operation(e.method, e.path) for e in exchanges if e.origin == "provider"}
    outside = sorted(op for op in used if op is not None and op not in PROVIDER_OPERATIONS)
    assert not outside, f"the provider used operations missing from PROVIDER_OPERATIONS: {outside}"
