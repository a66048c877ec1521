"""lossviz — the entry point: page config and navigation over the pages in ``pages/``
(their sections, titles and icons: :data:`lossviz.ui.navigation.SECTIONS`)."""

from lossviz.ui.navigation import run_app

run_app()
