"""apps/areas/tree.py: pure ancestor / subtree arithmetic on a parent map."""

from apps.areas.tree import ancestors, subtree_ids

#        b ─ c ─ d
#  a ─┤      └ e
#        f
#  g (another root)
PARENT_OF = {"a": None, "b": "a", "c": "b", "d": "c", "e": "c", "f": "a", "g": None}


def test_ancestors_are_nearest_first():
    assert ancestors(PARENT_OF, "d") == ["c", "b", "a"]
    assert ancestors(PARENT_OF, "f") == ["a"]


def test_a_root_has_no_ancestors():
    assert ancestors(PARENT_OF, "a") == []
    assert ancestors(PARENT_OF, "g") == []


def test_unknown_node_has_no_ancestors():
    assert ancestors(PARENT_OF, "zz") == []


def test_subtree_is_the_node_and_everything_below_parents_first():
    order = subtree_ids(PARENT_OF, "b")
    assert set(order) == {"b", "c", "d", "e"}
    for node in order:
        parent = PARENT_OF[node]
        if parent in order:
            assert order.index(parent) < order.index(node)
    assert order[0] == "b"


def test_subtree_of_the_root_covers_its_tree_only():
    assert set(subtree_ids(PARENT_OF, "a")) == {"a", "b", "c", "d", "e", "f"}


def test_subtree_of_a_leaf_is_itself():
    assert subtree_ids(PARENT_OF, "d") == ["d"]
    assert subtree_ids(PARENT_OF, "g") == ["g"]


def test_subtree_follows_a_changed_parent_map():
    moved = {**PARENT_OF, "c": "g"}  # what the move service computes before writing
    assert set(subtree_ids(moved, "g")) == {"g", "c", "d", "e"}
    assert set(subtree_ids(moved, "b")) == {"b"}
    assert ancestors(moved, "d") == ["c", "g"]


def test_deep_chain_has_no_recursion_limit():
    chain = {0: None, **{i: i - 1 for i in range(1, 3000)}}
    assert ancestors(chain, 2999) == list(range(2998, -1, -1))
    assert len(subtree_ids(chain, 0)) == 3000
