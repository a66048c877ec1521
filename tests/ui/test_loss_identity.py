"""Caches shared by all sessions key custom losses by their formula, not only their name."""

import lossviz
from lossviz.ui.session import loss_identity


def test_same_custom_name_with_different_formulas_has_different_identities():
    with lossviz.user_scope({}):
        lossviz.define("my_loss", "(p - y)**2")
        first = loss_identity("my_loss")
    with lossviz.user_scope({}):
        lossviz.define("my_loss", "abs(p - y)")
        second = loss_identity("my_loss")
    with lossviz.user_scope({}):
        lossviz.define("my_loss", "(p - y)**2")
        again = loss_identity("my_loss")
    assert first != second
    assert first == again
    assert loss_identity("huber") == ("huber",)
