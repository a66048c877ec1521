"""Exceptions raised by lossviz. Every one is a ``ValueError`` with a message meant for a person."""

from __future__ import annotations


class ParameterError(ValueError):
    """A loss parameter (or a pred/target argument) is unknown, of the wrong type, or out of range."""


class DomainError(ParameterError):
    """``pred`` or ``target`` holds values outside the loss's domain (a probability above 1 for ``bce``)."""


class UnknownLossError(KeyError, ValueError):
    """No loss is registered under that name; the message lists the closest names."""

    def __str__(self) -> str:  # KeyError would otherwise quote the message
        return str(self.args[0]) if self.args else ""


class FormulaError(ValueError):
    """A typed custom formula was rejected; the message says where and what is allowed instead."""
