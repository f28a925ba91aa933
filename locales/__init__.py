"""The gettext catalogs: `.po` sources here, the compiled `.mo` beside them.

A package so that an installed Somos carries its catalogs and finds them through
importlib.resources (bot/i18n.py); setup.py compiles them into the wheel.
"""
