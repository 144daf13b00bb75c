"""Shared fixtures: a real local MongoDB (SecantusDB over TCP), isolated data dirs, audio."""

from __future__ import annotations

import os
import tempfile
import uuid
from pathlib import Path

import pytest

# Set before anything imports Qt or sounddevice: no screen, and an ALSA default device that
# writes what PortAudio plays to a file (float32, after some leading silence).
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ALSA_DIR = Path(tempfile.gettempdir()) / f"encore-alsa-{os.getpid()}"
ALSA_DIR.mkdir(exist_ok=True)
CAPTURE = ALSA_DIR / "played.raw"
#: A second device, listed like any other; ``held_device`` makes it refuse to open.
HELD = "encore_held"
ASOUND_CONF = ALSA_DIR / "asound.conf"
ASOUND_CONF.write_text(
    f'pcm.!default {{ type file slave.pcm "null" file "{CAPTURE}" format "raw" }}\n'
    f'pcm.{HELD} {{ type plug slave.pcm "null" hint.description "Encore test device" }}\n')
os.environ["ALSA_CONFIG_PATH"] = f"/usr/share/alsa/alsa.conf:{ASOUND_CONF}"


@pytest.fixture(scope="session")
def stack_config(tmp_path_factory):
    """A Config whose data dir is private to this test session."""
    from core.config import Config

    data = tmp_path_factory.mktemp("encore-data")
    return Config(data_dir=data, kafka_bootstrap=None, mongo_uri=None)


@pytest.fixture(scope="session")
def mongo_uri(stack_config):
    """URI of a real SecantusDB server started for the session (stopped at the end)."""
    from core.services import LocalStack, mongo_uri

    stack = LocalStack(stack_config)
    info = stack.ensure("mongo")
    yield mongo_uri(info.port)
    stack.stop("mongo")


@pytest.fixture(scope="session")
def kafka(stack_config):
    """Address of a real tansu broker started for the session (stopped at the end)."""
    from core.services import LocalStack

    stack = LocalStack(stack_config)
    info = stack.ensure("kafka")
    yield info.address
    stack.stop("kafka")


@pytest.fixture
def store(mongo_uri):
    """A MongoStore on a fresh database, dropped afterwards."""
    from core.store.mongo import MongoStore

    name = f"encore_test_{uuid.uuid4().hex[:8]}"
    store = MongoStore(mongo_uri, name)
    store.ensure_schema()
    yield store
    store.client.drop_database(name)
    store.close()


@pytest.fixture
def env_for_cli(mongo_uri, tmp_path, monkeypatch):
    """Environment for running ``encore`` against the session's database."""
    db = f"encore_cli_{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("ENCORE_MONGO_URI", mongo_uri)
    monkeypatch.setenv("ENCORE_DB", db)
    monkeypatch.setenv("ENCORE_DATA_DIR", str(tmp_path / "data"))
    return {**os.environ}


@pytest.fixture(scope="session")
def generated_library(tmp_path_factory) -> Path:
    """A folder of 16 short generated pieces in four timbres, some tagged, in mixed formats."""
    import mutagen

    from tests.audio import music_like, write

    root = tmp_path_factory.mktemp("library")
    for kind in range(4):
        for i in range(4):
            ext = ["wav", "flac", "ogg", "wav"][i]
            path = write(root / f"kind{kind}" / f"piece {kind}-{i}.{ext}",
                         music_like(kind, seed=10 * kind + i), 22050)
            if ext in ("flac", "ogg"):
                audio = mutagen.File(path, easy=True)
                audio["title"], audio["artist"] = f"Piece {kind}-{i}", f"Artist {kind}"
                audio["album"] = f"Album {kind}"
                audio.save()
    return root


@pytest.fixture
def held_device():
    """``(name, release)``: a device that stays listed but refuses to open, as one another
    program holds does, until ``release()``.

    PortAudio lists devices once, when it starts; ALSA reads its configuration again whenever it
    changed, at each open: the device is redefined as a card that does not exist.
    """
    from core.playback.outputs import device_rate

    device_rate(HELD)  # PortAudio has started and lists it (raises otherwise)
    original = ASOUND_CONF.read_text()

    def rewrite(text: str, when: float) -> None:
        ASOUND_CONF.write_text(text)
        os.utime(ASOUND_CONF, (when, when))  # a new mtime even within the same second

    rewrite(original + f"pcm.{HELD} {{ type hw card 99 }}\n", ASOUND_CONF.stat().st_mtime + 2)
    yield HELD, lambda: rewrite(original, ASOUND_CONF.stat().st_mtime + 2)
    rewrite(original, ASOUND_CONF.stat().st_mtime + 2)


@pytest.fixture
def capture():
    """The file the ALSA default device writes played frames to (emptied first)."""
    CAPTURE.unlink(missing_ok=True)
    return CAPTURE
