"""A program may declare more dynamic resources than Python's recursion limit (issue 14's
1,000-resource stack).

The Pulumi SDK's ``serialize_provider`` (3.259.0) wraps ``pickle._Pickler._batch_setitems`` in a
new sorting wrapper for every dynamic resource and never puts the original back, so the
wrappers nest one level per resource: at about 950 resources in one program, pickling the next
provider exceeds the recursion limit and the program fails. SpecResource undoes the nesting.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

PROGRAM = textwrap.dedent(
    """
    import pickle
    import sys

    import pulumi

    class Mocks(pulumi.runtime.Mocks):
        def new_resource(self, args):
            return [args.name + "-id", args.inputs]

        def call(self, args):
            return {}

    pulumi.runtime.set_mocks(Mocks(), preview=True)

    from pulumi_appstoreconnect import Device

    count = sys.getrecursionlimit() + 100
    for n in range(count):
        Device(f"device-{n}", udid=f"00008030-{n:016X}", platform="IOS", name=f"Device {n}")
    print(count, "declared")
    """
)


def test_a_program_declares_more_resources_than_the_recursion_limit() -> None:
    proc = subprocess.run([sys.executable, "-c", PROGRAM], capture_output=True, text=True, timeout=300)
    assert "RecursionError" not in proc.stderr, proc.stderr[-2000:]
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert proc.stdout.strip().endswith("declared")


def test_the_pickled_provider_is_the_same_for_the_first_and_the_thousandth_resource() -> None:
    """Undoing the SDK's nesting must not change the bytes stored in every resource's state
    (a change would show as an update on every resource)."""
    from pulumi.dynamic.dynamic import serialize_provider

    from pulumi_appstoreconnect.reconciler import SpecProvider, _undo_nested_pickler_patches

    first = serialize_provider(SpecProvider("Device"))
    for _ in range(50):
        _undo_nested_pickler_patches()
        serialize_provider(SpecProvider("Device"))
    _undo_nested_pickler_patches()
    assert serialize_provider(SpecProvider("Device")) == first
