"""The import wizard ends on its summary whatever happens: an odd file or a dead database."""

from __future__ import annotations

import shutil

import mutagen
import pytest

from core.store.mongo import MongoStore
from player.wizard import ImportWizard
from tests.test_import_faults import ABSURD, private_db  # noqa: F401 (a fixture)


@pytest.fixture
def folder(generated_library, tmp_path):
    target = tmp_path / "music"
    shutil.copytree(generated_library / "kind1", target)
    return target


def _run_wizard(qtbot, store: MongoStore, folder, tmp_path) -> ImportWizard:
    wizard = ImportWizard(store, str(tmp_path / "managed"), folder=str(folder), jobs=2)
    qtbot.addWidget(wizard)
    wizard.show()
    wizard.next()  # options
    wizard.next()  # "Import": the progress page starts the import
    assert wizard.currentPage() is wizard.progress_page
    return wizard


def test_an_absurd_tag_does_not_leave_the_wizard_importing(qtbot, folder, store, tmp_path):
    flac = folder / "piece 1-1.flac"
    tags = mutagen.File(flac, easy=True)
    tags["tracknumber"] = ABSURD
    tags.save()
    wizard = _run_wizard(qtbot, store, folder, tmp_path)
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.summary_page, timeout=180_000)
    assert wizard.summary_page.headline.text().startswith("Import finished: 4 imported")


def test_a_database_killed_mid_import_shows_the_failure(qtbot, folder, private_db, tmp_path):  # noqa: F811
    store = MongoStore(private_db.uri, "wizard", timeout_ms=1000)
    watcher = MongoStore(private_db.uri, "wizard", timeout_ms=1000)
    wizard = _run_wizard(qtbot, store, folder, tmp_path)
    qtbot.waitUntil(lambda: watcher.count_tracks() >= 1, timeout=180_000)
    private_db.kill()
    qtbot.waitUntil(lambda: wizard.currentPage() is wizard.summary_page, timeout=120_000)
    assert "database error" in wizard.progress_page.current.text()
    assert wizard.summary_page.headline.text().startswith("Nothing was imported: ")
    watcher.close()
    store.close()
