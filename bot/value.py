"""Value for money: score against cost per answer, the Pareto frontier and the best-value pick.

- **Cost per answer**: the mean cost of a model's finished answers that have a cost. A model
  none of whose answers has a cost is *unpriced*: shown as "no price", never as free, and left
  out of the frontier and the pick (its cost is unknown, not zero).
- **Pareto frontier**: the priced models no other priced model beats on both counts (as cheap or
  cheaper and scoring at least as high, one of them strictly).
- **Best value**: the cheapest priced model whose 95% interval overlaps the leader's (its upper
  bound reaches the leader's lower bound): statistically not worse than the best, for less.
  Provisional models (too few ballots or raters) are passed over while any model is not
  provisional, since a wide interval overlaps anything.
"""

from __future__ import annotations

import io
import math
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from bot.leaderboard import Leaderboard, Row

NO_PRICE = "no price"


def money(usd: float | None) -> str:
    """'$1.20', '$0.012', '$0.000031', '$0', or 'no price' for an unknown cost (never 'free')."""
    if usd is None:
        return NO_PRICE
    if usd == 0:
        return "$0"
    if usd >= 1:
        return f"${usd:.2f}"
    decimals = 1 - math.floor(math.log10(usd))  # two significant figures
    return f"${usd:.{decimals}f}"


def pareto_frontier(rows: list[Row]) -> list[str]:
    """Model ids on the frontier, cheapest first."""
    priced = sorted((r for r in rows if r.cost_per_answer_usd is not None),
                    key=lambda r: (r.cost_per_answer_usd, -r.score, r.model))
    frontier, best = [], -math.inf
    for row in priced:
        if row.score > best:
            frontier.append(row.model)
            best = row.score
    return frontier


def best_value(rows: list[Row]) -> str | None:
    """The cheapest priced model whose interval overlaps the leader's, or None (see module doc)."""
    if not rows:
        return None
    leader = max(rows, key=lambda r: r.score)
    settled = any(not r.provisional for r in rows)
    candidates = [
        r for r in rows
        if r.cost_per_answer_usd is not None and r.upper >= leader.lower and (not settled or not r.provisional)
    ]
    if not candidates:
        return None
    return min(candidates, key=lambda r: (r.cost_per_answer_usd, -r.score, r.model)).model


def _name(row: Row, width: int) -> str:
    name = row.name.replace("`", "'").replace("\n", " ")
    limit = width - 1 if row.provisional else width
    if len(name) > limit:
        name = name[: limit - 1] + "…"
    return name + ("*" if row.provisional else "")


def _seconds(ms: float | None) -> str:
    if ms is None:
        return "—"
    return f"{ms:.0f} ms" if ms < 1000 else f"{ms / 1000:.1f} s"


def _note(row: Row, lb: Leaderboard) -> str:
    if row.model == lb.best_value:
        return "★ best value"
    if lb.rows and row.model == lb.rows[0].model:
        return "leader"
    return "frontier" if row.on_frontier else ""


def render_value_table(lb: Leaderboard) -> str:
    """Score beside cost per answer, median latency and time to first token (fits 80 columns)."""
    width = min(24, max([5] + [len(_name(r, 24)) for r in lb.rows]))
    header = f"{'Model':<{width}}  {'Score':>5}  {'Cost/answer':>11}  {'Latency':>8}  {'TTFT':>8}  Value"
    lines = [header, "-" * len(header)]
    for r in lb.rows:
        lines.append(
            f"{_name(r, width):<{width}}  {r.score:>5.0f}  {money(r.cost_per_answer_usd):>11}  "
            f"{_seconds(r.median_latency_ms):>8}  {_seconds(r.median_ttft_ms):>8}  {_note(r, lb)}".rstrip()
        )
    return "\n".join(lines)


def value_summary(lb: Leaderboard) -> list[str]:
    """The best-value line and which models have no price, as chat lines."""
    if not lb.rows:
        return []
    by_id = {r.model: r for r in lb.rows}
    leader = lb.rows[0]
    lines = []
    pick = by_id.get(lb.best_value or "")
    if not any(r.priced for r in lb.rows):
        lines.append("Best value: none of these models has a price yet.")
    elif pick is None:
        lines.append("Best value: no priced model's interval overlaps the leader's.")
    elif pick.model == leader.model:
        lines.append(f"Best value: {_name(pick, 40)} at {money(pick.cost_per_answer_usd)} per answer; the leader "
                     "is also the cheapest model within its interval.")
    else:
        leader_cost = (f", {money(leader.cost_per_answer_usd)}" if leader.cost_per_answer_usd is not None
                       else ", no price")
        lines.append(f"Best value: {_name(pick, 40)} at {money(pick.cost_per_answer_usd)} per answer, the "
                     f"cheapest model whose interval overlaps the leader's ({_name(leader, 40)}{leader_cost}).")
    unpriced = [_name(r, 40) for r in lb.rows if not r.priced]
    if unpriced:
        lines.append(f"No price (cost unknown, not free): {', '.join(unpriced)}.")
    return lines


# --- the chart -----------------------------------------------------------------------------------

FRONTIER_LABEL = "Pareto frontier"
BEST_VALUE_LABEL = "best value"
LEADER_LABEL = "leader's lower bound"


def value_figure(lb: Leaderboard) -> Figure:
    """Score (with its interval) against cost per answer (log scale), frontier and best value drawn.

    Unpriced models sit in a narrow panel on the right headed "no price", never at a cost.
    """
    from matplotlib.figure import Figure  # Figure without pyplot: no global state, Agg canvas

    priced = [(r, r.cost_per_answer_usd) for r in lb.rows if r.cost_per_answer_usd is not None]
    unpriced = [r for r in lb.rows if r.cost_per_answer_usd is None]
    fig = Figure(figsize=(8, 5), dpi=110)
    grid = fig.add_gridspec(1, 2, width_ratios=[5, 1], wspace=0.05, left=0.1, right=0.97, bottom=0.11, top=0.93)
    ax = fig.add_subplot(grid[0, 0])
    side = fig.add_subplot(grid[0, 1], sharey=ax)
    colour = {True: "#9e9e9e", False: "#1f6feb"}
    for r, cost in priced:
        ax.errorbar([cost], [r.score], yerr=[[r.score - r.lower], [r.upper - r.score]], fmt="o",
                    color=colour[r.provisional], capsize=4, zorder=3)
        ax.annotate(_name(r, 24), (cost, r.score), textcoords="offset points", xytext=(6, 4), fontsize=8)
    frontier = [(r, cost) for m in lb.frontier for r, cost in priced if r.model == m]
    if frontier:
        ax.plot([cost for _, cost in frontier], [r.score for r, _ in frontier], color="#2da44e",
                linewidth=1.5, drawstyle="steps-post", label=FRONTIER_LABEL, zorder=2)
    if lb.rows:
        ax.axhline(lb.rows[0].lower, color="#cf222e", linestyle="--", linewidth=1, label=LEADER_LABEL, zorder=1)
    pick = next(((r, cost) for r, cost in priced if r.model == lb.best_value), None)
    if pick is not None:
        ax.axvline(pick[1], color="#bf8700", linestyle=":", linewidth=1.5,
                   label=f"{BEST_VALUE_LABEL}: {_name(pick[0], 30)}", zorder=1)
    if priced:
        costs = [cost for _, cost in priced if cost > 0]  # a free model ($0) cannot sit on a log axis
        if costs:
            ax.set_xlim(0 if len(costs) < len(priced) else min(costs) / 3, max(costs) * 3)
        ax.set_xscale("log" if len(costs) == len(priced) else "symlog",
                      **({} if len(costs) == len(priced) else {"linthresh": min(costs, default=1e-6)}))
        ax.legend(loc="lower right", fontsize=8)
    else:
        ax.text(0.5, 0.5, "no priced model yet" if lb.rows else "no rated comparisons yet",
                ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("cost per answer (USD, log scale)")
    ax.set_ylabel("score (Elo scale) with 95% interval")
    title = "Codegen Arena · score vs cost"
    if lb.category_label:
        title += f" · {lb.category_label}"
    ax.set_title(title)
    ax.grid(alpha=0.3)
    for k, r in enumerate(unpriced):
        side.errorbar([0], [r.score], yerr=[[r.score - r.lower], [r.upper - r.score]], fmt="o",
                      mfc="white", color=colour[r.provisional], capsize=4)
        side.annotate(_name(r, 14), (0, r.score), textcoords="offset points", xytext=(6, 4 - 10 * (k % 2)),
                      fontsize=7)
    side.set_xlim(-0.5, 1.5)
    side.set_xticks([0], [NO_PRICE])
    side.tick_params(axis="y", labelleft=False)
    side.set_facecolor("#f6f8fa")
    return fig


def render_value_chart(lb: Leaderboard) -> bytes:
    """The score-vs-cost chart as PNG bytes."""
    buffer = io.BytesIO()
    value_figure(lb).savefig(buffer, format="png")  # fixed margins: "tight" would draw it twice
    return buffer.getvalue()
