"""`audiohub eval`'s printed report: the calls with something to look at, then the set's totals."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from audiohub.evaluation.scoring import HIGH_WER, CallScore, EvalReport, FlagScore


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.3f}"


def _flag_line(name: str, flag: FlagScore | None) -> str:
    if flag is None:
        return f"{name}: -"
    return (f"{name}: precision {_share(flag.precision)} ({flag.caught}/{flag.flagged} flagged), "
            f"recall {_share(flag.recall)} ({flag.caught}/{flag.high_wer} with WER > {HIGH_WER})")


def _worth_a_row(c: CallScore) -> bool:
    missed = not (c.domain_ok and c.category_ok and c.fields_found == c.fields_expected)
    actions = c.actions is not None and not (
        c.actions.found == c.actions.expected and c.actions.right == c.actions.reported)
    return (missed or bool(c.wrong) or c.outcome_ok is False or actions or c.wer >= 0.2
            or c.unreliable or c.corrections > 0)


def _outcome(c: CallScore) -> str:
    return "" if c.outcome_ok is not False else f"{c.outcome} (not {c.outcome_expected})"


def _actions(c: CallScore) -> str:
    a = c.actions
    return "" if a is None else f"{a.found}/{a.expected} found, {a.right}/{a.reported} right"


def print_report(report: EvalReport, out: Console) -> None:
    """The calls that missed something, were flagged or corrected; then the set's scores."""
    table = Table(title=f"{report.name}: misses per call")
    for col in ("call", "WER", "coverage", "corr.", "review", "expected", "got", "fields",
                "missed (returned)", "wrong", "outcome", "actions"):
        table.add_column(col)
    for c in report.calls:
        if not _worth_a_row(c):
            continue
        missed = "; ".join(f"{k}={v!r}" for k, v in c.missed.items())
        wrong = "; ".join(f"{k}={v!r}" for k, v in c.wrong.items())
        review = "unreliable" if c.unreliable else "yes" if c.needs_review else ""
        table.add_row(c.id, f"{c.wer:.2f}", _share(c.speech_coverage), str(c.corrections), review,
                      c.expected, "" if c.category_ok else c.got,
                      f"{c.fields_found}/{c.fields_expected}", missed, wrong, _outcome(c),
                      _actions(c))
    out.print(table)
    s = report.settings
    source = ("reference text" if s.get("input") == "reference text"
              else f"{s['transcriber']} {s['whisper_model']}")
    out.print(f"{report.name}: {len(report.calls)} calls, {source}, "
              f"analyzer {s['analyzer']}, keyterms {s.get('keyterms', 'none')}")
    out.print(f"WER {report.wer:.3f}  domain {report.domain_accuracy:.3f}  category "
              f"{report.category_accuracy:.3f}  field recall {report.field_recall:.3f} "
              f"(values heard {report.fields_heard:.3f})  evidence errors {report.evidence_errors}")
    out.print(f"found/heard {_share(report.found_of_heard)}  precision "
              f"{_share(report.precision)} (of {report.values_reported} reported)  "
              f"evidence exact {_share(report.evidence_exact)}")
    out.print(f"outcome accuracy {_share(report.outcome_accuracy)} ({report.outcome_calls} "
              f"labelled calls)  action items recall {_share(report.action_recall)} precision "
              f"{_share(report.action_precision)} ({report.action_calls} labelled calls)")
    out.print(f"speech coverage {_share(report.speech_coverage)} (mean over "
              f"{report.speech_coverage_calls} calls)  corrections {report.corrections}")
    out.print(_flag_line("unreliable flag", report.unreliable_flag))
    out.print(_flag_line("needs_review", report.review_flag))
