"""Strategic merge patch cases ported from upstream's unit tests.

Source: ``staging/src/k8s.io/apimachinery/pkg/util/strategicpatch/patch_test.go``
(``customStrategicMergePatchTestCaseData``, ``customStrategicMergePatchRawTestCases``,
``createStrategicMergePatchTestCaseData`` and ``strategicMergePatchRawTestCases``). Each upstream
case yields up to two applications: ``twoWay`` applied to ``original`` gives ``modified`` (or
``twoWayResult``), and ``threeWay`` applied to ``current`` gives ``result``. The schema is upstream's
``MergeItem`` test struct, rewritten as kubeds schema data.
"""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from kubeds.apiserver.patch import PatchError, apply_strategic_patch
from kubeds.apiserver.patch.schema import MERGE, REPLACE, FieldMeta, Schema

_MERGE_ITEM = {
    "mergingList": FieldMeta(strategy=MERGE, merge_key="name", type="MergeItem"),
    "nonMergingList": FieldMeta(type="MergeItem"),
    "mergingIntList": FieldMeta(strategy=MERGE),
    "mergeItemPtr": FieldMeta(strategy=MERGE, merge_key="name", type="MergeItem"),
    "replacingItem": FieldMeta(strategy=REPLACE),
    "retainKeysMap": FieldMeta(retain_keys=True, type="RetainKeysMergeItem"),
    "retainKeysMergingList": FieldMeta(strategy=MERGE, merge_key="name", retain_keys=True, type="MergeItem"),
}
_RETAIN_KEYS_MERGE_ITEM = {
    "mergingIntList": FieldMeta(strategy=MERGE),
    "mergingList": FieldMeta(strategy=MERGE, merge_key="name", type="MergeItem"),
    "nonMergingList": FieldMeta(type="MergeItem"),
}
MERGE_ITEM_SCHEMA = Schema(
    {"MergeItem": _MERGE_ITEM, "RetainKeysMergeItem": _RETAIN_KEYS_MERGE_ITEM}, "MergeItem"
)

# Each entry: description, original, patch, expected (or `error`, a substring of the message).
CASES_YAML = r"""
# --- customStrategicMergePatchTestCaseData (twoWay applied to original == modified) ---
- description: unique scalars when merging lists
  original: {mergingIntList: [1, 2]}
  patch: {mergingIntList: [2, 3]}
  expected: {mergingIntList: [1, 2, 3]}
- description: delete map from nested map
  original: {simpleMap: {key1: 1, key2: 1}}
  patch: {simpleMap: {$patch: delete}}
  expected: {simpleMap: {}}
- description: delete all items from merging list
  original: {mergingList: [{name: 1}, {name: 2}]}
  patch: {mergingList: [{$patch: replace}]}
  expected: {mergingList: []}
- description: merge empty merging lists
  original: {mergingList: []}
  patch: {mergingList: []}
  expected: {mergingList: []}
- description: delete all keys from map
  original: {name: 1, value: 1}
  patch: {$patch: replace}
  expected: {}
- description: add key and delete all keys from map
  original: {name: 1, value: 1}
  patch: {other: a, $patch: replace}
  expected: {other: a}
# upstream's older table expected one survivor of each duplicate; deleteMatchingEntries (current
# patch.go) removes every entry matching the merge key, which "delete all duplicate entries" also shows
- description: de-duplicate entries in a merging list
  original: {mergingList: [{name: 1}, {name: 1}, {name: 2, value: a}, {name: 3}, {name: 3}]}
  patch: {mergingList: [{name: 1, $patch: delete}, {name: 3, $patch: delete}]}
  expected: {mergingList: [{name: 2, value: a}]}
- description: retainKeys map can add a field when no retainKeys directive present
  original: {retainKeysMap: {name: foo}}
  patch: {retainKeysMap: {value: bar}}
  expected: {retainKeysMap: {name: foo, value: bar}}
- description: retainKeys map can delete a field when no retainKeys directive present
  original: {retainKeysMap: {name: foo, value: a}}
  patch: {retainKeysMap: {value: null}}
  expected: {retainKeysMap: {name: foo}}
- description: retainKeys map merge an empty map
  original: {retainKeysMap: {name: foo, value: a}}
  patch: {retainKeysMap: {}}
  expected: {retainKeysMap: {name: foo, value: a}}
- description: retainKeys list can add a field when no retainKeys directive present
  original: {retainKeysMergingList: [{name: bar}, {name: foo}]}
  patch: {retainKeysMergingList: [{name: foo, value: a}]}
  expected: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
- description: retainKeys list can delete a field when no retainKeys directive present
  original: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
  patch: {retainKeysMergingList: [{name: foo, value: null}]}
  expected: {retainKeysMergingList: [{name: bar}, {name: foo}]}
- description: preserve the order from the patch in a merging list
  original: {mergingList: [{name: 1}, {name: 2, value: b}, {name: 3}]}
  patch: {mergingList: [{name: 3, value: c}, {name: 1, value: a}, {name: 2, other: x}]}
  expected: {mergingList: [{name: 3, value: c}, {name: 1, value: a}, {name: 2, value: b, other: x}]}
- description: preserve the order from the patch in a merging list 2
  original: {mergingList: [{name: 1}, {name: 2, value: b}, {name: 3}]}
  patch: {mergingList: [{name: 3, value: c}, {name: 1, value: a}]}
  expected: {mergingList: [{name: 2, value: b}, {name: 3, value: c}, {name: 1, value: a}]}
- description: preserve the order from the patch in a merging int list
  original: {mergingIntList: [1, 2, 3]}
  patch: {mergingIntList: [3, 1, 2]}
  expected: {mergingIntList: [3, 1, 2]}
- description: preserve the order from the patch in a merging int list (partial)
  original: {mergingIntList: [1, 2, 3]}
  patch: {mergingIntList: [3, 1]}
  expected: {mergingIntList: [2, 3, 1]}
# --- customStrategicMergePatchRawTestCases ---
- description: $setElementOrder contains item that is not present in the list to be merged
  original: {mergingList: [{name: 1}, {name: 3}]}
  patch:
    $setElementOrder/mergingList: [{name: 3}, {name: 2}, {name: 1}]
    mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]
  expected: {mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]}
- description: $setElementOrder contains item that is not present in the int list to be merged
  original: {mergingIntList: [1, 3]}
  patch: {$setElementOrder/mergingIntList: [3, 2, 1]}
  expected: {mergingIntList: [3, 1]}
- description: should check if order in $setElementOrder and patch list match
  original: {mergingList: [{name: 1}, {name: 3}, {name: 2}]}
  patch:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]
  error: doesn't match
- description: should check if order in $setElementOrder and patch int list match
  original: {mergingIntList: [1, 3, 2]}
  patch: {$setElementOrder/mergingIntList: [1, 2, 3], mergingIntList: [3, 1]}
  error: doesn't match
- description: missing merge key should error out
  original: {mergingList: [{name: 1, value: a}]}
  patch: {mergingList: [{value: b}]}
  error: does not contain declared merge key
# --- createStrategicMergePatchTestCaseData (threeWay applied to current == result) ---
- description: nil original (three-way)
  original: {name: 1, other: a}
  patch: {value: 1}
  expected: {name: 1, value: 1, other: a}
- description: add field and delete field from map (three-way)
  original: {name: 1, other: a}
  patch: {name: null, value: 1}
  expected: {value: 1, other: a}
- description: delete field from nested map (three-way)
  original: {simpleMap: {key1: 1, key2: 1, other: a}}
  patch: {simpleMap: {key2: null}}
  expected: {simpleMap: {key1: 1, other: a}}
- description: delete all fields from map (three-way)
  original: {name: 1, value: 1, other: a}
  patch: {name: null, value: null}
  expected: {other: a}
- description: replace list of scalars with conflict (three-way)
  original: {nonMergingIntList: [1, 4]}
  patch: {nonMergingIntList: [2, 3]}
  expected: {nonMergingIntList: [2, 3]}
- description: delete all maps from merging list with conflict (three-way)
  original: {mergingList: [{name: 1, other: a}, {name: 2, other: b}]}
  patch: {mergingList: [{name: 1, $patch: delete}, {name: 2, $patch: delete}]}
  expected: {mergingList: []}
- description: delete all maps from empty merging list (three-way)
  original: {mergingList: []}
  patch: {mergingList: [{name: 1, $patch: delete}, {name: 2, $patch: delete}]}
  expected: {mergingList: []}
- description: defined null values should propagate overwrite current fields (two-way result)
  original: {name: 2}
  patch: {name: 1, value: 1, other: null}
  expected: {name: 1, value: 1}
- description: defined null values should propagate removing original fields (three-way)
  original: {name: original-name, value: original-value, other: current-other}
  patch: {name: modified-name, value: null}
  expected: {name: modified-name, other: current-other}
# --- strategicMergePatchRawTestCases ---
- description: delete items in lists of scalars (three-way)
  original: {mergingIntList: [1, 2, 3, 4]}
  patch: {$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}
  expected: {mergingIntList: [1, 2, 4]}
- description: delete all duplicate items in lists of scalars (three-way)
  original: {mergingIntList: [1, 2, 3, 3, 4]}
  patch: {$setElementOrder/mergingIntList: [1, 2], $deleteFromPrimitiveList/mergingIntList: [3]}
  expected: {mergingIntList: [1, 2, 4]}
- description: add and delete items in lists of scalars (two-way)
  original: {mergingIntList: [1, 2, 3]}
  patch:
    $setElementOrder/mergingIntList: [1, 2, 4]
    $deleteFromPrimitiveList/mergingIntList: [3]
    mergingIntList: [4]
  expected: {mergingIntList: [1, 2, 4]}
- description: merge lists of maps (two-way)
  original: {mergingList: [{name: 1}, {name: 2, value: 2}]}
  patch:
    $setElementOrder/mergingList: [{name: 4}, {name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]
  expected: {mergingList: [{name: 4, value: 4}, {name: 1}, {name: 2, value: 2}, {name: 3, value: 3}]}
- description: merge lists of maps (three-way)
  original: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]}
  patch:
    $setElementOrder/mergingList: [{name: 4}, {name: 1}, {name: 2}, {name: 3}]
    mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]
  expected:
    mergingList:
      [{name: 4, value: 4}, {name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]
- description: add field to map in merging list with conflict (three-way)
  original: {mergingList: [{name: 1, other: a}, {name: 3, value: 2, other: b}]}
  patch:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]
  expected: {mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2}, {name: 3, value: 2, other: b}]}
- description: de-duplicate field in merging list
  original: {mergingList: [{name: 1}, {name: 1}]}
  patch: {$setElementOrder/mergingList: [{name: 1}], mergingList: [{$patch: delete, name: 1}]}
  expected: {mergingList: []}
- description: delete duplicate field in merging list (type change replaces)
  original: {mergingList: [{name: 1}, {name: 1}]}
  patch: {mergingList: {}}
  expected: {mergingList: {}}
- description: delete map from merging list (three-way)
  original: {mergingList: [{name: 1}, {name: 2, other: b}]}
  patch: {$setElementOrder/mergingList: [{name: 2}], mergingList: [{name: 1, $patch: delete}]}
  expected: {mergingList: [{name: 2, other: b}]}
- description: delete missing map from merging list with conflict (three-way)
  original: {mergingList: [{name: 3, other: a}]}
  patch:
    $setElementOrder/mergingList: [{name: 2}]
    mergingList: [{name: 2}, {name: 1, $patch: delete}]
  expected: {mergingList: [{name: 2}, {name: 3, other: a}]}
- description: add map and delete map from merging list (three-way)
  original: {mergingList: [{name: 1}, {name: 2, other: b}, {name: 4, other: c}]}
  patch:
    $setElementOrder/mergingList: [{name: 2}, {name: 3}]
    mergingList: [{name: 3}, {name: 1, $patch: delete}]
  expected: {mergingList: [{name: 2, other: b}, {name: 4, other: c}, {name: 3}]}
- description: add map and delete map from merging list with conflict (three-way)
  original: {mergingList: [{name: 1, other: a}, {name: 4, other: c}]}
  patch:
    $setElementOrder/mergingList: [{name: 2}, {name: 3}]
    mergingList: [{name: 2}, {name: 3}, {name: 1, $patch: delete}]
  expected: {mergingList: [{name: 4, other: c}, {name: 2}, {name: 3}]}
- description: delete field from map in merging list (three-way)
  original: {mergingList: [{name: 1, value: 1, other: a}, {name: 2, value: 2, other: b}]}
  patch: {$setElementOrder/mergingList: [{name: 1}, {name: 2}], mergingList: [{name: 1, value: null}]}
  expected: {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]}
- description: replace non merging list nested in merging list (three-way)
  original:
    mergingList:
      - {name: 1, other: a, nonMergingList: [{name: 1}, {name: 2, value: 2}]}
      - {name: 2, other: b}
  patch:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList: [{name: 1, nonMergingList: [{name: 1, value: 1}]}]
  expected:
    mergingList:
      - {name: 1, other: a, nonMergingList: [{name: 1, value: 1}]}
      - {name: 2, other: b}
- description: add field to map in merging list nested in merging list (two-way)
  original: {mergingList: [{name: 1, mergingList: [{name: 1}, {name: 2, value: 2}]}, {name: 2}]}
  patch:
    $setElementOrder/mergingList: [{name: 1}, {name: 2}]
    mergingList:
      - $setElementOrder/mergingList: [{name: 1}, {name: 2}]
        name: 1
        mergingList: [{name: 1, value: 1}]
  expected: {mergingList: [{name: 1, mergingList: [{name: 1, value: 1}, {name: 2, value: 2}]}, {name: 2}]}
- description: retainKeys map deletes nested merging int list
  original: {retainKeysMap: {name: foo, mergingIntList: [1, 2, 3]}}
  patch: {retainKeysMap: {$retainKeys: [name], mergingIntList: null}}
  expected: {retainKeysMap: {name: foo}}
- description: retainKeys map nested merging list with no change (three-way)
  original: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: c}]}}
  patch:
    retainKeysMap:
      $retainKeys: [mergingList, name, value]
      $setElementOrder/mergingList: [{name: a}, {name: b}]
      value: bar
  expected: {retainKeysMap: {name: foo, value: bar, mergingList: [{name: a}, {name: b}, {name: c}]}}
- description: retainKeys map adds an item in nested merging list (three-way)
  original: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: x}]}}
  patch:
    retainKeysMap:
      $retainKeys: [mergingList, name]
      $setElementOrder/mergingList: [{name: a}, {name: b}, {name: c}]
      mergingList: [{name: c}]
  expected: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: c}, {name: x}]}}
- description: retainKeys map deletes nested merging list
  original: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}]}}
  patch: {retainKeysMap: {$retainKeys: [name, value], value: bar, mergingList: null}}
  expected: {retainKeysMap: {name: foo, value: bar}}
- description: retainKeys map deletes an item in nested merging list (three-way)
  original: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: b}, {name: x}]}}
  patch:
    retainKeysMap:
      $retainKeys: [mergingList, name]
      $setElementOrder/mergingList: [{name: a}]
      mergingList: [{name: b, $patch: delete}]
  expected: {retainKeysMap: {name: foo, mergingList: [{name: a}, {name: x}]}}
- description: retainKeys list of maps clears a field (three-way)
  original: {retainKeysMergingList: [{name: bar}, {name: foo, value: a, other: x}]}
  patch:
    $setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]
    retainKeysMergingList: [{$retainKeys: [name, value], name: foo}]
  expected: {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}
- description: retainKeys list of maps changes a field and clear a field (three-way)
  original: {retainKeysMergingList: [{name: bar}, {name: foo, value: old, other: x}]}
  patch:
    $setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]
    retainKeysMergingList: [{$retainKeys: [name, value], name: foo, value: new}]
  expected: {retainKeysMergingList: [{name: bar}, {name: foo, value: new}]}
- description: retainKeys list of maps deletes a field and clear a field (three-way)
  original: {retainKeysMergingList: [{name: bar}, {name: foo, value: a, other: x}]}
  patch:
    $setElementOrder/retainKeysMergingList: [{name: bar}, {name: foo}]
    retainKeysMergingList: [{$retainKeys: [name], name: foo, value: null}]
  expected: {retainKeysMergingList: [{name: bar}, {name: foo}]}
- description: delete and reorder in one list, reorder in another
  original:
    mergingList: [{name: a, value: a}, {name: b, value: b}]
    mergeItemPtr: [{name: c, value: c}, {name: d, value: d}]
  patch:
    $setElementOrder/mergingList: [{name: b}]
    $setElementOrder/mergeItemPtr: [{name: d}, {name: c}]
    mergingList: [{$patch: delete, name: a}]
  expected:
    mergingList: [{name: b, value: b}]
    mergeItemPtr: [{name: d, value: d}, {name: c, value: c}]
"""

CASES: list[dict[str, Any]] = yaml.safe_load(CASES_YAML)


@pytest.mark.parametrize("case", CASES, ids=[case["description"] for case in CASES])
def test_upstream_strategic_merge_case(case: dict[str, Any]) -> None:
    if "error" in case:
        with pytest.raises(PatchError) as info:
            apply_strategic_patch(case["original"], case["patch"], schema=MERGE_ITEM_SCHEMA)
        assert case["error"] in info.value.message
        return
    result = apply_strategic_patch(case["original"], case["patch"], schema=MERGE_ITEM_SCHEMA)
    assert result == case["expected"]


def test_upstream_case_count() -> None:
    assert len(CASES) >= 30


def test_inputs_are_not_mutated() -> None:
    original = {"mergingList": [{"name": 1, "value": 1}], "simpleMap": {"a": 1}}
    patch = {"mergingList": [{"name": 1, "value": None}], "simpleMap": {"a": None}}
    before = (repr(original), repr(patch))
    apply_strategic_patch(original, patch, schema=MERGE_ITEM_SCHEMA)
    assert (repr(original), repr(patch)) == before
