"""Unit tests of the policy, run natively after `componentize-py -d wit -w plugin bindings .` has
generated the bindings app.py imports: `python3 -m unittest test_app.py`."""

import unittest

from wit_world.imports import types

import app


def practice(**automation):
    settings = dict(bill_creation=types.BillCreation.DAILY, superbill_day=1, share_by_default=False,
                    share_delay_minutes=60, autopay=False)
    settings.update(automation)
    return types.PracticeContext(practice_id=1, timezone="America/New_York", currency="USD",
                                 automation=types.AutomationSettings(**settings), config="")


class PolicyTest(unittest.TestCase):
