"""``deskpilot insights``: the voice-of-customer engine from the command line.

- ``insights evaluate --csv FILE --text-column C --label-column L [--backend auto|embedding|tfidf]
  [--limit N]``: cluster a labelled dataset into themes and print how well the themes agree with
  the labels (NMI and adjusted Rand index), with the largest themes. ``--csv`` may be repeated to
  read several files as one dataset. Reads and writes nothing else, so it is safe to interrupt and
  rerun.
- ``insights recluster [--backend ...]``: what the nightly job does, now: cluster the customers'
  texts of the last 90 days into themes (keeping the numbers of themes that did not change).
- ``insights analyze``: give every customer message and survey comment not analysed yet its
  sentiment and theme (the job does it every minute, in batches), with progress.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from deskpilot import cli
from deskpilot.core.errors import InvalidInput
from deskpilot.feedback.insights import embedding, evaluation

SUBCOMMANDS = ("evaluate", "recluster", "analyze")
# Themes listed after the figures.
SHOWN_THEMES = 15


class Command(BaseCommand):
    help = "Voice-of-customer insights: 'insights evaluate' clusters a labelled CSV and prints NMI and ARI."

    def add_arguments(self, parser: CommandParser) -> None:
        subs = parser.add_subparsers(dest="action", title="actions", metavar="ACTION")
        evaluate = subs.add_parser(
            "evaluate",
            help="cluster a labelled CSV into themes and print the agreement with the labels",
            description=(
                "Embed and cluster the texts of a labelled CSV (header row, UTF-8) into themes, the "
                "way customer messages are, and print the agreement of the themes with the labels: "
                "NMI and adjusted Rand index (1.0 = identical groupings)."
            ),
        )
        evaluate.add_argument(
            "--csv", action="append", metavar="FILE", help="CSV file with a header row; repeat for several files"
        )
        evaluate.add_argument("--text-column", metavar="C", help="the column holding the text")
        evaluate.add_argument("--label-column", metavar="L", help="the column holding the label")
        evaluate.add_argument(
            "--backend",
            default="auto",
            help="auto (the model when installed, else TF-IDF), embedding or tfidf (default auto)",
        )
        evaluate.add_argument("--limit", metavar="N", help="read only the first N labelled rows")
        recluster = subs.add_parser(
            "recluster", help="cluster the customers' recent texts into themes now (the nightly job)"
        )
        recluster.add_argument(
            "--backend",
            default="auto",
            help="auto (the model when installed, else TF-IDF), embedding or tfidf (default auto)",
        )
        subs.add_parser("analyze", help="analyse every customer text not analysed yet (sentiment and theme)")

    def handle(self, *args: Any, **options: Any) -> None:
        action = options.get("action")
        if action not in SUBCOMMANDS:
            raise cli.usage_error(f"missing action: use 'deskpilot insights {{{','.join(SUBCOMMANDS)}}}' (see --help)")
        getattr(self, f"_{action}")(options)

    def _evaluate(self, options: dict[str, Any]) -> None:
        for flag in ("csv", "text_column", "label_column"):
            if not options.get(flag):
                raise cli.usage_error(f"{cli.flag_name(flag)}: required")
        backend = options["backend"]
        if backend not in embedding.BACKEND_CHOICES:
            raise cli.usage_error(f"--backend: expected one of {', '.join(embedding.BACKEND_CHOICES)}, got {backend!r}")
        if backend == "embedding" and not embedding.embedding_available():
            raise cli.usage_error(
                "--backend: the embedding model is not installed (pip install -r requirements-insights.txt)"
            )
        limit = cli.whole_number("--limit", options["limit"]) if options.get("limit") is not None else None
        try:
            data = evaluation.read_labelled_csv(
                [Path(name) for name in options["csv"]],
                text_column=options["text_column"],
                label_column=options["label_column"],
                limit=limit,
            )
        except InvalidInput as error:
            raise cli.invalid_input_error(error) from None

        with cli.progress_bar(self, "embedding") as bar:
            task = bar.add_task("texts", total=len(data.texts))
            result = evaluation.evaluate(
                data, backend=backend, progress=lambda done, total: bar.update(task, completed=done, total=total)
            )
        self._report(result)

    def _recluster(self, options: dict[str, Any]) -> None:
        from deskpilot.feedback import voice

        backend = options["backend"]
        if backend not in embedding.BACKEND_CHOICES:
            raise cli.usage_error(f"--backend: expected one of {', '.join(embedding.BACKEND_CHOICES)}, got {backend!r}")
        with cli.progress_bar(self, "embedding") as bar:
            task = bar.add_task("texts", total=None)
            result = voice.recluster(
                backend=backend, progress=lambda done, total: bar.update(task, completed=done, total=total)
            )
        if result.run is None:
            self.stdout.write(f"Only {result.texts} texts in the last {voice.CLUSTER_DAYS} days: too few to cluster.")
            return
        self.stdout.write(
            f"{result.run.themes} themes from {result.texts:,} texts ({result.run.backend}, "
            f"{result.run.unthemed:,} in no theme) in {result.run.seconds:.1f} s: "
            f"{result.kept_themes} kept, {result.new_themes} new."
        )

    def _analyze(self, options: dict[str, Any]) -> None:
        from deskpilot.feedback import voice

        total = 0
        with cli.progress_bar(self, "analysing") as bar:
            task = bar.add_task("texts", total=None)
            while True:
                done = voice.analyze_new()
                if not done:
                    break
                total += done
                bar.update(task, completed=total)
        self.stdout.write(f"Analysed {total:,} texts.")

    def _report(self, result: evaluation.Evaluation) -> None:
        figures = result.agreement
        model = "sentence embeddings (all-MiniLM-L6-v2)" if result.backend == "embedding" else "TF-IDF fallback"
        self.stdout.write(f"Backend: {result.backend} ({model})")
        self.stdout.write(
            f"Texts: {figures.texts:,} with {figures.labels:,} labels -> {figures.themes:,} themes "
            f"({figures.unthemed:,} texts in no theme), in {result.seconds:.1f} s"
        )
        self.stdout.write(f"NMI: {figures.nmi:.3f}")
        self.stdout.write(f"ARI: {figures.ari:.3f}")
        themes = result.clustering.themes
        if themes:
            self.stdout.write(f"Largest themes ({min(len(themes), SHOWN_THEMES)} of {len(themes)}):")
            for theme in themes[:SHOWN_THEMES]:
                example = theme.examples[0] if theme.examples else ""
                self.stdout.write(f"  {theme.size:>7,}  {theme.label}  — e.g. {example[:80]!r}")
