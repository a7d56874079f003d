"""Figures, tables, the HTML report and Word export.

``report`` is the only part of cart-outcomes that draws or writes documents; it formats a
:class:`~cart_outcomes.results.run.RunResult` (and result records) and never computes a statistic. Matplotlib is
imported only when a figure is drawn.
"""

from cart_outcomes.report.docx import is_wide, write_report_docx
from cart_outcomes.report.figures import (
    OKABE_ITO,
    cif_figure,
    figure_to_pdf,
    figure_to_png,
    figure_to_svg,
    forest_figure,
    kinetics_figure,
    kinetics_parameter_figure,
    km_figure,
    lab_trajectory_figure,
    save_figure,
    simon_makuch_figure,
    swimmer_figure,
    toxicity_bars,
    toxicity_heatmap,
)
from cart_outcomes.report.html import (
    SECTION_ORDER,
    FigureBlock,
    Footer,
    ReportDocument,
    Section,
    TableBlock,
    figure_block,
    numbering,
    render_html,
)
from cart_outcomes.report.labels import LABELS, clinical_order, comparison_label, label
from cart_outcomes.report.methods import IMMORTAL_TIME_EXPLANATION, methods_paragraph
from cart_outcomes.report.options import FigureOptions, ReportOptions
from cart_outcomes.report.tables import (
    baseline_table,
    hsct_comparison_table,
    neutralise_cell,
    response_table,
    safety_table,
    supportive_care_table,
    survival_summary_table,
    write_csv,
    write_workbook,
    write_xlsx,
)

__all__ = [
    "IMMORTAL_TIME_EXPLANATION",
    "LABELS",
    "OKABE_ITO",
    "SECTION_ORDER",
    "FigureBlock",
    "FigureOptions",
    "Footer",
    "ReportDocument",
    "ReportOptions",
    "Section",
    "TableBlock",
    "baseline_table",
    "cif_figure",
    "clinical_order",
    "comparison_label",
    "figure_block",
    "figure_to_pdf",
    "figure_to_png",
    "figure_to_svg",
    "forest_figure",
    "hsct_comparison_table",
    "is_wide",
    "kinetics_figure",
    "label",
    "kinetics_parameter_figure",
    "km_figure",
    "lab_trajectory_figure",
    "methods_paragraph",
    "neutralise_cell",
    "numbering",
    "render_html",
    "response_table",
    "safety_table",
    "save_figure",
    "simon_makuch_figure",
    "supportive_care_table",
    "survival_summary_table",
    "swimmer_figure",
    "toxicity_bars",
    "toxicity_heatmap",
    "write_csv",
    "write_report_docx",
    "write_workbook",
    "write_xlsx",
]
