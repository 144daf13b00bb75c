"""The import wizard: folder → options → progress → summary."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
    QWizard,
    QWizardPage,
)

from core.audio.enhance import EQ_PRESETS, EnhanceOptions
from core.audio.quality import describe_issues
from core.library.analyse import AnalyseOptions
from core.library.pipeline import ImportReport
from core.library.skip_reasons import plain_reason
from core.store.mongo import MongoStore
from core.store.paths import display
from player.importer import PHASES, ImportRunner, summary_counts
from player.models.library import format_time
from player.resources import icon


class FolderPage(QWizardPage):
    """Which folder to import."""

    def __init__(self, start: str = ""):
        super().__init__()
        self.setTitle("Choose a folder")
        self.setSubTitle("Every audio file under it is checked, measured and analysed. "
                         "Your files are never modified.")
        self.path = QLineEdit(start, placeholderText="/home/you/Music")
        self.path.textChanged.connect(self.completeChanged)
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path, 1)
        row.addWidget(browse)
        layout = QVBoxLayout(self)
        layout.addLayout(row)
        self.note = QLabel("Files already in the library are skipped unless they changed, so an "
                           "interrupted import simply continues.", wordWrap=True)
        self.note.setObjectName("statusText")
        layout.addWidget(self.note)
        layout.addStretch()
        self.registerField("folder*", self.path)

    def _browse(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, "Import folder", self.path.text())
        if folder:
            self.path.setText(folder)

    def isComplete(self) -> bool:
        return Path(self.path.text()).expanduser().is_dir()


class OptionsPage(QWizardPage):
    """Enhanced copies, target loudness, EQ."""

    def __init__(self, library_dir: str):
        super().__init__()
        self.setTitle("Options")
        self.setSubTitle("Analysis always runs. Optionally Encore also keeps compressed, "
                         "loudness-levelled copies in its own library.")
        self.copies = QCheckBox("Make compressed, loudness-levelled copies")
        self.codec = QComboBox()
        self.codec.addItems(["opus", "vorbis"])
        self.target = QDoubleSpinBox(minimum=-30.0, maximum=-8.0, value=-18.0, singleStep=0.5,
                                     suffix=" LUFS", decimals=1)
        self.eq = QComboBox()
        self.eq.addItems(list(EQ_PRESETS))
        where = QLabel(f"Copies go to {library_dir}; originals stay untouched.", wordWrap=True)
        where.setObjectName("statusText")
        form = QFormLayout(self)
        form.addRow(self.copies)
        form.addRow("Codec", self.codec)
        form.addRow("Target loudness", self.target)
        form.addRow("EQ preset", self.eq)
        form.addRow(where)
        self.copies.toggled.connect(self._enable)
        self._enable(False)
        # Past this page the import runs: no going back, and "Next" says what it does.
        self.setCommitPage(True)
        self.setButtonText(QWizard.WizardButton.CommitButton, "Import")

    def _enable(self, on: bool) -> None:
        for widget in (self.codec, self.target, self.eq):
            widget.setEnabled(on)

    def enhance(self) -> EnhanceOptions | None:
        """The chosen copy options (``None``: no copies)."""
        if not self.copies.isChecked():
            return None
        return EnhanceOptions(target_lufs=self.target.value(), eq=self.eq.currentText(),
                              codec=self.codec.currentText())


class ProgressPage(QWizardPage):
    """Runs the import; the wizard cannot go on until it ends (finished, cancelled or failed)."""

    def __init__(self, wizard: ImportWizard):
        super().__init__()
        self.wizard_ = wizard
        self.setTitle("Importing")
        self.setSubTitle("Analysing in background processes; you can keep listening.")
        self.bar = QProgressBar()
        self.current = QLabel("Starting…", wordWrap=True)
        self.eta = QLabel("")
        self.eta.setObjectName("statusText")
        self.cancel_button = QPushButton("Cancel import")
        self.cancel_button.clicked.connect(self.cancel)
        layout = QVBoxLayout(self)
        for widget in (self.bar, self.current, self.eta):
            layout.addWidget(widget)
        layout.addWidget(self.cancel_button, 0, Qt.AlignmentFlag.AlignLeft)
        layout.addStretch()
        self.runner: ImportRunner | None = None
        self.report: ImportReport | None = None
        self.flagged: list = []
        self.error = ""

    def initializePage(self) -> None:
        self.report, self.flagged, self.error = None, [], ""
        self.cancel_button.setEnabled(True)
        self.runner = self.wizard_.start_import()
        self.runner.progress.connect(self._progress)
        self.runner.finished.connect(self._finished)
        self.runner.failed.connect(self._failed)
        self.runner.start()

    def _progress(self, done: int, total: int, message: str, eta: float) -> None:
        self.bar.setRange(0, max(total, 1))
        self.bar.setValue(done)
        phase = message if message in PHASES else f"Analysed {message}"
        self.current.setText(f"{phase} — {done} of {total}")
        self.eta.setText(f"About {format_time(eta)} left" if eta >= 0 else "")

    def _finished(self, report: ImportReport, flagged: list) -> None:
        self.report, self.flagged = report, flagged
        self.current.setText("Cancelled: what was analysed is kept." if report.cancelled else "Done.")
        self._ended()

    def _failed(self, message: str) -> None:
        self.error = message
        self.current.setText(f"The import failed: {message}")
        self._ended()

    def _ended(self) -> None:
        self.cancel_button.setEnabled(False)
        self.eta.setText("")
        self.completeChanged.emit()
        self.wizard_.next()

    def cancel(self) -> None:
        """Stop after the files in flight; they stay stored."""
        if self.runner is not None:
            self.runner.cancel.set()
            self.current.setText("Cancelling…")

    def isComplete(self) -> bool:
        return self.report is not None or bool(self.error)


class SummaryPage(QWizardPage):
    """What was imported, skipped and flagged."""

    def __init__(self, progress: ProgressPage):
        super().__init__()
        self.progress = progress
        self.setTitle("Summary")
        self.headline = QLabel(wordWrap=True)
        self.details = QTreeWidget()
        self.details.setHeaderLabels(["File", "Why"])
        self.details.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.details.header().setStretchLastSection(True)
        self.details.setRootIsDecorated(True)
        layout = QVBoxLayout(self)
        layout.addWidget(self.headline)
        layout.addWidget(self.details, 1)

    def initializePage(self) -> None:
        report, flagged = self.progress.report, self.progress.flagged
        self.details.clear()
        if report is None:
            self.headline.setText(f"Nothing was imported: {self.progress.error}")
            return
        counts = summary_counts(report)
        state = "Import cancelled" if report.cancelled else "Import finished"
        self.headline.setText(f"{state}: {counts['imported']} imported, {counts['unchanged']} "
                              f"already in the library, {counts['skipped']} skipped, "
                              f"{len(flagged)} with quality issues.")
        self._group("Skipped", [(display(s.path), plain_reason(s.reason), display(s.reason))
                                for s in report.skipped])
        self._group("Quality issues", [(display(path), text, text) for path, issues in flagged
                                       for text in [describe_issues(issues)]])

    def _group(self, title: str, rows: list[tuple[str, str, str]]) -> None:
        """A titled group of (file, why in plain words, the technical detail for the tooltip)."""
        if not rows:
            return
        group = QTreeWidgetItem([f"{title} ({len(rows)})", ""])
        for path, why, detail in rows:
            item = QTreeWidgetItem(group, [Path(path).name, why])
            item.setToolTip(0, path)
            item.setToolTip(1, detail)
        self.details.addTopLevelItem(group)
        group.setExpanded(True)


class ImportWizard(QWizard):
    """File → Import folder…

    Parameters
    ----------
    store : MongoStore
    library_dir : str
        Where enhanced copies go.
    jobs : int, optional
        Analysis processes (default: all cores).
    """

    def __init__(self, store: MongoStore, library_dir: str, *, folder: str = "",
                 jobs: int | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.store, self.library_dir, self.jobs = store, library_dir, jobs
        self.setWindowTitle("Import music")
        self.setWizardStyle(QWizard.WizardStyle.ModernStyle)
        self.setOption(QWizard.WizardOption.NoBackButtonOnLastPage)
        self.setOption(QWizard.WizardOption.NoCancelButtonOnLastPage)
        self.setPixmap(QWizard.WizardPixmap.LogoPixmap, icon("encore").pixmap(48, 48))
        self.folder_page = FolderPage(folder)
        self.options_page = OptionsPage(library_dir)
        self.progress_page = ProgressPage(self)
        self.summary_page = SummaryPage(self.progress_page)
        for page in (self.folder_page, self.options_page, self.progress_page, self.summary_page):
            self.addPage(page)
        self.resize(640, 460)

    def start_import(self) -> ImportRunner:
        """The runner for the chosen folder and options (started by the progress page)."""
        options = AnalyseOptions(enhance=self.options_page.enhance(), library_dir=self.library_dir)
        folder = str(Path(self.folder_page.path.text()).expanduser())
        return ImportRunner(self.store, folder, options, jobs=self.jobs, parent=self)

    def reject(self) -> None:
        """Closing the wizard cancels a running import (what finished stays stored)."""
        runner = self.progress_page.runner
        if runner is not None and runner.is_running():
            runner.cancel.set()
        super().reject()
