"""`{{name}}`, an autobill policy plugin for the {{slot_list}} slot{{slots_plural}}, in Python.

Each slot starts as autobill's documented behaviour: change it into your policy, name the built-in
conformance cases that no longer hold in conformance/overrides.txt, and add cases of yours under
conformance/. README.md has the build, test, simulate and install commands.

componentize-py generates the `wit_world` module this file imports from the contract (wit/): a
class per slot to implement, the contract's records as dataclasses and enums as Python enums; an
error is `raise Err("reason")`.
"""

import calendar
import datetime
import json

from componentize_py_types import Err
from wit_world import exports
from wit_world.imports import types


def expect_empty(config: str) -> None:
    """Accepts only an empty configuration: "", whitespace or {}; raises Err(reason) otherwise."""
    text = config.strip()
    if not text:
        return
    try:
        value = json.loads(text)
    except ValueError as error:
        raise Err(f"the plugin configuration is not valid JSON: {error}")
    if value != {}:
        raise Err("this policy takes no configuration: leave it empty or {}")
