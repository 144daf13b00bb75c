"""The window's playlists: the Playlists tab wired to the engine's playlist store, "Add to playlist"
menus, "Save queue as playlist", import and export (with what was missing reported), the Playlist
menu. Store failures become a plain message; a file import runs off the UI thread."""

from __future__ import annotations

import contextlib
import os
import threading
from collections.abc import Callable, Sequence

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QCheckBox, QFileDialog, QMenu, QMenuBar, QMessageBox

from core.errors import EncoreError
from core.library.catalog import TrackRow
from core.playback.playqueue import CONTINUE, QUEUED
from core.playlists.files import Missing
from core.playlists.formats import export_playlist, import_playlist
from core.playlists.store import Playlist, Playlists
from player.models.playlists import tr, track_count
from player.widgets.playlists import PlaylistsPane, TrackDragSource
from player.window_browse import PLAYLISTS
from player.window_menus import add_action

#: Failures a user can meet (the database, a name taken, an unreadable or malformed file).
EXPECTED = (EncoreError, ValueError, OSError)
FILTERS = ";;".join((tr("Playlists (*.m3u8 *.m3u *.xspf)"), tr("M3U8 (*.m3u8)"), tr("M3U (*.m3u)"),
                     tr("XSPF (*.xspf)")))
#: Missing entries listed in a message (the rest are counted).
LISTED = 30
#: Upcoming tracks a saved queue can hold (the rest of a list being played through included).
QUEUE_LIMIT = 100_000


def missing_text(missing: Sequence[Missing]) -> str:
    """One line per missing entry, with its reason (the first ``LISTED``, then a count)."""
    lines = [f"{m.entry} — {m.reason}" for m in missing[:LISTED]]
    if len(missing) > LISTED:
        lines.append(tr("… and %n more").replace("%n", str(len(missing) - LISTED)))
    return "\n".join(lines)


class Background(QObject):
    """Runs one call in a thread; its result (or failure) comes back on the UI thread."""

    _finished = Signal(object, object)  # the callback, and what it gets

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self._finished.connect(lambda callback, value: callback(value))
        self.running = False

    def run(self, work: Callable[[], object], done: Callable[[object], None],
            failed: Callable[[Exception], None]) -> None:
        """``done(work())`` or ``failed(error)`` on the UI thread, ``work`` on another."""
        self.running = True

        def call() -> None:
            try:
                value, callback = work(), done
            except Exception as error:  # reported in plain words; and the thread must report
                value, callback = error, failed
            with contextlib.suppress(RuntimeError):  # the window closed meanwhile: nobody to tell
                self._finished.emit(lambda v: (self._stop(), callback(v)), value)

        threading.Thread(target=call, name="encore-playlist", daemon=True).start()

    def _stop(self) -> None:
        self.running = False


class WindowPlaylists(QObject):
    """The Playlists tab and every playlist action of ``window`` (a ``MainWindow``).

    Parameters
    ----------
    window : MainWindow
    pane : PlaylistsPane
        The tab (``LibraryPages.playlists``).
    """

    def __init__(self, window, pane: PlaylistsPane):
        super().__init__(window)
        self.window, self.pane = window, pane
        self._store: Playlists | None = None
        self.message: QMessageBox | None = None
        self.background = Background(self)
        self._connect()
        #: Library rows dragged from the Tracks and Browse tabs.
        self.drag_sources = (TrackDragSource(window.library_view.table, window.library_view.selected),
                             TrackDragSource(window.browser.table, window.browser.selected))

    def _connect(self) -> None:
        p = self.pane
        p.newRequested.connect(lambda: self.create())
        p.importRequested.connect(self.choose_import)
        p.exportRequested.connect(self.choose_export)
        p.chosen.connect(self.show)
        p.deleteRequested.connect(self.confirm_delete)
        p.playRequested.connect(self.play)
        p.removeRequested.connect(lambda positions: self._edit("remove", positions))
        p.playNextRequested.connect(self.window.play_next)
        p.queueRequested.connect(self.window.add_to_queue)
        p.playlists.renameRequested.connect(self.rename)
        p.list.tracksDropped.connect(lambda key, ids: self.add(key, ids))
        p.tracks.moveRequested.connect(lambda positions, to: self._edit("move", positions, to))
        p.tracks.tracksDropped.connect(lambda ids, at: self._edit("add", ids, at))
        # Playlists made elsewhere (``encore playlist``) show when the tab opens.
        self.window.pages.tabs.currentChanged.connect(lambda i: i == PLAYLISTS and self.refresh())
        self.window.bridge.trackStarted.connect(lambda item: p.tracks.set_playing(item.track_id))
        self.window.bridge.stateChanged.connect(
            lambda state: state == "stopped" and p.tracks.set_playing(None))

    # -- the store, and its failures ------------------------------------------------------------
    def _call(self, what: str, work: Callable | None, *args):
        """``work(playlists, *args)`` (``work=None``: the ``Playlists`` store itself), or ``None``
        after telling the user why it failed (``what``: "rename the playlist"...)."""
        try:
            if self._store is None:
                self._store = Playlists(self.window.backend.store)
            return work(self._store, *args) if work is not None else self._store
        except EXPECTED as error:
            self.tell(tr("Could not %s.").replace("%s", what), str(error))
            return None

    def tell(self, text: str, detail: str = "", *, details: str = "",
             icon: QMessageBox.Icon = QMessageBox.Icon.Warning) -> QMessageBox:
        """A plain message over the window (not modal to the app: playback goes on)."""
        if self.message is not None:
            self.message.close()
        box = QMessageBox(icon, tr("Playlists"), text, QMessageBox.StandardButton.Ok, self.window)
        box.setInformativeText(detail)
        box.setDetailedText(details)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _result: self._closed(box))
        self.message = box
        box.open()
        return box

    def _closed(self, box: QMessageBox) -> None:
        if self.message is box:
            self.message = None

    # -- the tab ---------------------------------------------------------------------------------
    def refresh(self, select: str | None = None) -> None:
        """Read the playlists again and show ``select`` (default: the one shown)."""
        playlists = self._call(tr("read the playlists"), Playlists.list)
        if playlists is None:
            return
        keep = select or self.pane.current_id()
        self.pane.playlists.set_playlists(playlists)
        self.pane.select(keep)

    def library_loaded(self) -> None:
        """The library (re)loaded: entries find their tracks again."""
        self.refresh()

    def current(self) -> Playlist | None:
        """The playlist shown."""
        key = self.pane.current_id()
        row = self.pane.playlists.row_of(key) if key else None
        return self.pane.playlists.playlists[row] if row is not None else None

    def show(self, playlist_id: str) -> None:
        """Show the entries of a playlist (``""``: none)."""
        playlist = self.current() if playlist_id else None
        self.pane.tracks.set_entries(playlist.tracks if playlist else (), self.window.library.find)
        self.pane.show_entries()

    def _shown(self, playlist: Playlist | None) -> Playlist | None:
        if playlist is not None:
            self.refresh(playlist.id)
        return playlist

    # -- editing ---------------------------------------------------------------------------------
    def create(self, tracks: Sequence[str] = (), name: str = "", *, edit: bool = True) -> Playlist | None:
        """A new playlist (``"New playlist"``, ``"New playlist (2)"``…) holding ``tracks``; its
        name is then edited in place."""
        playlist = self._shown(self._call(
            tr("create the playlist"),
            lambda store: store.create(store.free_name(name or tr("New playlist")), tracks)))
        if playlist is not None and edit:
            self.window.pages.show_playlists()
            self.pane.rename_current()
        return playlist

    def rename(self, playlist_id: str, name: str) -> Playlist | None:
        """Rename (the list's in-place editor)."""
        return self._shown(self._call(tr("rename the playlist"), Playlists.rename, playlist_id, name))

    def confirm_delete(self, playlist_id: str) -> QMessageBox:
        """Ask, then delete (the tracks stay in the library)."""
        row = self.pane.playlists.row_of(playlist_id)
        name = self.pane.playlists.playlists[row].name if row is not None else playlist_id
        box = self.tell(tr("Delete the playlist “%s”?").replace("%s", name),
                        tr("Its tracks stay in the library."), icon=QMessageBox.Icon.Question)
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        box.button(QMessageBox.StandardButton.Yes).setText(tr("Delete"))
        box.button(QMessageBox.StandardButton.Yes).clicked.connect(lambda: self.delete(playlist_id))
        return box

    def delete(self, playlist_id: str) -> None:
        """Delete without asking."""
        self._call(tr("delete the playlist"), Playlists.delete, playlist_id)
        self.refresh()

    def add(self, playlist_id: str, track_ids: Sequence[str]) -> Playlist | None:
        """Append library tracks to a playlist (the status bar says so)."""
        playlist = self._shown(self._call(tr("add to the playlist"), Playlists.add, playlist_id,
                                          list(track_ids)))
        if playlist is not None:
            self.window.statusBar().showMessage(
                tr("Added %n to “%p”").replace("%n", track_count(len(track_ids)))
                .replace("%p", playlist.name), 4000)
        return playlist

    def _edit(self, method: str, *args) -> Playlist | None:
        """``Playlists.<method>(shown playlist, *args)``: remove, move or add (a drop) entries."""
        playlist = self.current()
        if playlist is None:
            return None
        return self._shown(self._call(tr("change the playlist"), getattr(Playlists, method),
                                      playlist.id, *args))

    # -- playing ---------------------------------------------------------------------------------
    def play(self, row: int) -> None:
        """Play the shown playlist from the entry at ``row`` and continue through it (entries whose
        track left the library are passed over)."""
        rows, positions = self.pane.tracks.playable()
        start = next((i for i, p in enumerate(positions) if p >= row), None)
        if start is None:
            self.window.statusBar().showMessage(tr("Nothing to play: these tracks are no longer "
                                                   "in the library"), 5000)
            return
        self.window.play_tracks(rows, start)

    # -- menus -----------------------------------------------------------------------------------
    def add_menu(self, menu: QMenu, tracks: Sequence[TrackRow | str]) -> QMenu:
        """Append *Add to playlist ▸* (every playlist, then *New playlist…*) to ``menu``."""
        ids = [t if isinstance(t, str) else t.id for t in tracks]
        sub = menu.addMenu(tr("Add to playlist"))
        for playlist in self.pane.playlists.playlists:
            sub.addAction(playlist.name.replace("&", "&&"),
                          lambda key=playlist.id: self.add(key, ids))
        if self.pane.playlists.playlists:
            sub.addSeparator()
        sub.addAction(tr("New playlist…"), lambda: self.create(ids))
        return sub

    def add_menu_bar(self, bar: QMenuBar) -> QMenu:
        """The Playlist menu."""
        menu = bar.addMenu(tr("Pla&ylist"))
        window = self.window
        add_action(window, menu, tr("&Playlists"), window.pages.show_playlists)
        add_action(window, menu, tr("&New playlist"), lambda: self.create())
        add_action(window, menu, tr("&Save queue as playlist…"), self.save_queue)
        menu.addSeparator()
        add_action(window, menu, tr("&Import playlist…"), self.choose_import)
        add_action(window, menu, tr("&Export playlist…"), self.choose_export)
        return menu

    def queue_ids(self) -> list[str]:
        """What plays from now on: the track playing, the queued tracks, then the rest of the list
        being played through (the radio's pick is not the listener's)."""
        current = self.window.bridge.current
        upcoming = self.window.queue.upcoming(QUEUE_LIMIT)
        return ([current.track_id] if current is not None else []) + \
            [item.track_id for origin, item in upcoming if origin in (QUEUED, CONTINUE)]

    def save_queue(self) -> Playlist | None:
        """*Save queue as playlist…*: a new playlist, named in place."""
        ids = self.queue_ids()
        if not ids:
            self.tell(tr("The queue is empty."), tr("Queue some tracks first."),
                      icon=QMessageBox.Icon.Information)
            return None
        return self.create(ids, tr("Saved queue"))

    # -- files -----------------------------------------------------------------------------------
    def choose_import(self) -> QFileDialog:
        """*Import playlist…*: pick an M3U8, M3U or XSPF file."""
        dialog = QFileDialog(self.window, tr("Import playlist"), os.path.expanduser("~"), FILTERS)
        dialog.setFileMode(QFileDialog.FileMode.ExistingFile)
        dialog.fileSelected.connect(self.import_file)
        dialog.open()
        return dialog

    def _in_background(self, what: str, status: str, work: Callable[[Playlists], object],
                       done: Callable[[object], None]) -> None:
        """``work(store)`` off the UI thread (one file at a time): a 5,000-entry playlist takes
        tens of seconds to match or to write on a loaded machine."""
        store = self._call(what, None)
        if store is None:
            return
        if self.background.running:
            self.tell(tr("Another playlist file is still being read or written."),
                      tr("Try again once it is done."), icon=QMessageBox.Icon.Information)
            return
        self.window.statusBar().showMessage(status)
        self.background.run(lambda: work(store), done,
                            lambda error: self.tell(tr("Could not %s.").replace("%s", what), str(error)))

    def import_file(self, path: str) -> None:
        """Import ``path`` in the background; a message says what could not be matched."""
        self._in_background(tr("import the playlist"),
                            tr("Importing %s…").replace("%s", os.path.basename(path)),
                            lambda store: import_playlist(store, path), self._imported)

    def _imported(self, result: tuple[Playlist, list[Missing]]) -> None:
        playlist, missing = result
        self._shown(playlist)
        self.window.pages.show_playlists()
        text = tr("Imported “%p”: %n.").replace("%p", playlist.name) \
            .replace("%n", track_count(len(playlist.tracks)))
        self.window.statusBar().showMessage(text, 5000)
        if missing:
            self.tell(text, tr("%n could not be added (see the details):")
                      .replace("%n", _entries(len(missing))), details=missing_text(missing))

    def choose_export(self) -> QFileDialog | None:
        """*Export playlist…*: the format follows the extension; a check box asks for paths
        relative to the playlist file."""
        playlist = self.current()
        if playlist is None:
            self.tell(tr("Choose a playlist to export first."), icon=QMessageBox.Icon.Information)
            return None
        dialog = QFileDialog(self.window, tr("Export playlist"),
                             os.path.join(os.path.expanduser("~"), f"{playlist.name}.m3u8"), FILTERS)
        dialog.setAcceptMode(QFileDialog.AcceptMode.AcceptSave)
        dialog.setOption(QFileDialog.Option.DontUseNativeDialog)  # for the check box below
        relative = QCheckBox(tr("Paths relative to the playlist file"))
        relative.setAccessibleName(relative.text())
        dialog.layout().addWidget(relative, dialog.layout().rowCount(), 0, 1, -1)
        dialog.fileSelected.connect(lambda path: self.export_file(path, relative=relative.isChecked()))
        dialog.open()
        return dialog

    def export_file(self, path: str, *, relative: bool = False) -> None:
        """Write the shown playlist to ``path`` (M3U8, M3U or XSPF by its extension) in the
        background; the status bar says where, a message what was left out."""
        playlist = self.current()
        if playlist is not None:
            self._in_background(
                tr("export the playlist"), tr("Exporting “%s”…").replace("%s", playlist.name),
                lambda store: export_playlist(store.store, playlist, path, relative=relative),
                lambda result: self._exported(playlist, *result))

    def _exported(self, playlist: Playlist, written, missing: list[Missing]) -> None:
        text = tr("Exported “%p” to %f").replace("%p", playlist.name).replace("%f", str(written))
        self.window.statusBar().showMessage(text, 5000)
        if missing:
            self.tell(text, tr("%n left out: no longer in the library.")
                      .replace("%n", _entries(len(missing))), details=missing_text(missing))


def _entries(n: int) -> str:
    return tr("1 entry") if n == 1 else tr("%n entries").replace("%n", f"{n:,}")
