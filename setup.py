"""The one build step pyproject.toml cannot state: compiling the gettext catalogs.

The `.po` sources live in `locales/` and the compiled `.mo` files are not committed
(.gitignore), so the wheel compiles them as it builds: `locales/<lang>/LC_MESSAGES/messages.mo`
inside the installed `locales` package, where bot/i18n.py finds them through
importlib.resources. An editable install (`pip install -e .`) compiles them in place, as
`make compile-catalogs` does. Needs Babel at build time (pyproject.toml's build-system).
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from setuptools import setup
from setuptools.command.build_py import build_py

SOURCE = Path(__file__).resolve().parent / "locales"
DOMAIN = "messages"


def compile_catalogs(target: Path) -> list[str]:
    """Each `locales/<lang>/LC_MESSAGES/messages.po` as a `.mo` under `target`."""
    written = []
    for po in sorted(SOURCE.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        locale = po.parent.parent.name
        with po.open("rb") as source:
            catalog = read_po(source, locale=locale, domain=DOMAIN)
        mo = target / locale / "LC_MESSAGES" / f"{DOMAIN}.mo"
        mo.parent.mkdir(parents=True, exist_ok=True)
        with mo.open("wb") as compiled:
            write_mo(compiled, catalog, use_fuzzy=False)
        written.append(str(mo))
    if not written:
        raise SystemExit(f"No catalogs in {SOURCE}: the package would have no English.")
    return written


class BuildWithCatalogs(build_py):
    """build_py, then the compiled catalogs into the build (or, editable, into locales/)."""

    def run(self) -> None:
        super().run()
        target = SOURCE if self.editable_mode else Path(self.build_lib) / "locales"
        self.compiled = compile_catalogs(target)

    def get_outputs(self, include_bytecode: bool = True) -> list[str]:
        return [*super().get_outputs(include_bytecode), *getattr(self, "compiled", [])]


setup(cmdclass={"build_py": BuildWithCatalogs})
